// Command migrate applies the payments database migrations once and exits.
//
// It is an example job: it checks its configuration the way a real migration
// tool would, then only logs the migrations it would apply.
//
//	DB_HOST           database host (required)
//	DB_PORT           database port (default 5432)
//	DB_PASSWORD_FILE  file holding the database password (required)
//	LOG_LEVEL         debug, info, warn or error (default info)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"example.com/payments/internal/buildinfo"
	"example.com/payments/internal/envconf"
)

const name = "migrate"

// migrations are applied in order; a real tool would record them in a table.
var migrations = []string{
	"0001_create_accounts",
	"0002_create_payments",
	"0003_add_payments_idempotency_key",
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "%s %s\n", name, buildinfo.String())
		return 0
	}

	level, err := envconf.LogLevel()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	log.Info("starting", "app", name, "version", buildinfo.Version, "commit", buildinfo.Commit,
		"go", runtime.Version())

	host := os.Getenv("DB_HOST")
	if host == "" {
		log.Error("DB_HOST is not set: set it to the database host name")
		return 1
	}
	port := os.Getenv("DB_PORT")
	if port == "" {
		port = "5432"
	}
	// Only whether the password is present is ever logged, never its value.
	if _, err := envconf.SecretFile("DB_PASSWORD"); err != nil {
		log.Error("cannot read the database password", "error", err)
		return 1
	}
	log.Info("database", "host", host, "port", port, "password_read", true)

	// A signal stops the run between two migrations, never in the middle of one.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	for i, m := range migrations {
		if ctx.Err() != nil {
			log.Error("interrupted", "applied", i, "pending", len(migrations)-i)
			return 1
		}
		log.Debug("applying", "migration", m)
		time.Sleep(20 * time.Millisecond) // stands in for the real work
		log.Info("applied", "migration", m)
	}
	log.Info("done", "applied", len(migrations))
	return 0
}
