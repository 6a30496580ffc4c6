// Package envconf reads the settings every payments program takes from its
// environment, the way hawser's deployments set them.
package envconf

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// SecretFile reads a secret the way hawser delivers it on every platform unless
// the spec says otherwise: NAME_FILE names a file holding it (a mounted Secret on
// Kubernetes, a systemd credential on a host). A missing variable, a missing file
// or an empty file is an error: a program must never run with an empty secret.
// The value is never logged.
func SecretFile(name string) (string, error) {
	path := os.Getenv(name + "_FILE")
	if path == "" {
		return "", fmt.Errorf("%s_FILE is not set: it must name the file holding %s", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	value := strings.TrimRight(string(b), "\r\n")
	if value == "" {
		return "", fmt.Errorf("%s_FILE: %s is empty", name, path)
	}
	return value, nil
}

// LogLevel reads LOG_LEVEL: debug, info (the default), warn or error.
func LogLevel() (slog.Level, error) {
	v := os.Getenv("LOG_LEVEL")
	switch strings.ToLower(v) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v)
}
