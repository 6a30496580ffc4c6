// Package config resolves podinfo's settings the way upstream podinfo does with viper:
// a flag given on the command line wins, then the variable PODINFO_<FLAG> (upper case,
// `-` as `_`), then the configuration file, then the flag's default.
package config

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Resolve applies the environment and the configuration file to every flag of fs that
// the command line did not set. fs must already be parsed. The file is
// <config-path>/<config>; a missing file is not an error (podinfo runs on defaults).
func Resolve(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	file := map[string]string{}
	if dir := fs.Lookup("config-path"); dir != nil && dir.Value.String() != "" {
		name := "config.yaml"
		if n := fs.Lookup("config"); n != nil && n.Value.String() != "" {
			name = n.Value.String()
		}
		var err error
		if file, err = readFile(filepath.Join(dir.Value.String(), name)); err != nil {
			return err
		}
	}

	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		key := "PODINFO_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		value, from := getenv(key), key
		if value == "" {
			value, from = file[f.Name], "the configuration file"
		}
		if value == "" {
			return
		}
		if err := f.Value.Set(value); err != nil {
			errs = append(errs, fmt.Sprintf("%s from %s: %v", f.Name, from, err))
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("invalid settings: %s", strings.Join(errs, "; "))
	}
	return nil
}

// readFile reads a flat YAML mapping of `key: value` lines; comments and blank lines are
// skipped, and a value may be quoted. Nested YAML is not a podinfo setting.
func readFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("%s:%d: want `key: value`", path, n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		} else if i := strings.Index(value, " #"); i >= 0 {
			value = strings.TrimSpace(value[:i])
		}
		out[strings.TrimSpace(key)] = value
	}
	return out, sc.Err()
}
