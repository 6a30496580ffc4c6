// Package envconf reads the settings every payments program takes from its
// environment, the way hawser's deployments set them.
package envconf

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret reads a secret the way the deployment delivers it: NAME_FILE names a
// file holding it (Kubernetes volume, systemd credential), else NAME holds the
// value. source is "file", "env" or "" when absent. The value is never logged.
func Secret(name string) (value, source string, err error) {
	if path, ok := os.LookupEnv(name + "_FILE"); ok && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), "file", nil
	}
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v, "env", nil
	}
	return "", "", nil
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
