// Command api is the payments HTTP API server.
//
// Configuration comes from the environment:
//
//	HTTP_PORT         port of the API, /healthz and /readyz (default 8080)
//	METRICS_PORT      port of /metrics (default 9090)
//	LOG_LEVEL         debug, info, warn or error (default info)
//	DB_PASSWORD_FILE  file holding the database password (required)
//	STRIPE_KEY_FILE   file holding the Stripe key (required)
//	SHUTDOWN_DRAIN    how long to stay up, not ready, after SIGTERM (default 0s)
//	SHUTDOWN_TIMEOUT  how long in-flight requests may take to finish (default 25s)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"example.com/payments/internal/buildinfo"
	"example.com/payments/internal/envconf"
)

const name = "api"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is everything the server reads from its environment.
type config struct {
	httpPort        int
	metricsPort     int
	logLevel        slog.Level
	shutdownDrain   time.Duration
	shutdownTimeout time.Duration
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

	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	log.Info("starting", "app", name, "version", buildinfo.Version, "commit", buildinfo.Commit,
		"go", runtime.Version(), "http_port", cfg.httpPort, "metrics_port", cfg.metricsPort)

	// A secret is read from the file its _FILE variable names; without it the api
	// does not start. Only that a secret was read is logged, never its value.
	for _, secret := range []string{"DB_PASSWORD", "STRIPE_KEY"} {
		if _, err := envconf.SecretFile(secret); err != nil {
			log.Error("cannot read secret", "secret", secret, "error", err)
			return 1
		}
		log.Info("secret read", "secret", secret)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, log)
}

func loadConfig() (config, error) {
	var cfg config
	var err error
	if cfg.httpPort, err = portFromEnv("HTTP_PORT", 8080); err != nil {
		return cfg, err
	}
	if cfg.metricsPort, err = portFromEnv("METRICS_PORT", 9090); err != nil {
		return cfg, err
	}
	if cfg.logLevel, err = envconf.LogLevel(); err != nil {
		return cfg, err
	}
	if cfg.shutdownDrain, err = durationFromEnv("SHUTDOWN_DRAIN", 0); err != nil {
		return cfg, err
	}
	if cfg.shutdownTimeout, err = durationFromEnv("SHUTDOWN_TIMEOUT", 25*time.Second); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// serve runs the servers until ctx is cancelled, then shuts them down gracefully.
func serve(ctx context.Context, cfg config, log *slog.Logger) int {
	var ready atomic.Bool
	m := newMetrics()

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", m.instrument("/healthz", http.HandlerFunc(healthz)))
	mux.Handle("GET /readyz", m.instrument("/readyz", readyz(&ready)))
	mux.Handle("GET /metrics", m.instrument("/metrics", m))
	mux.Handle("/", m.instrument("other", http.NotFoundHandler()))
	servers := []*http.Server{newServer(cfg.httpPort, mux, log)}

	if cfg.metricsPort != cfg.httpPort {
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET /metrics", m.instrument("/metrics", m))
		servers = append(servers, newServer(cfg.metricsPort, metricsMux, log))
	}

	// Bind every port before reporting ready, so a port in use fails the start.
	listeners := make([]net.Listener, 0, len(servers))
	for _, srv := range servers {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			log.Error("cannot listen", "addr", srv.Addr, "error", err)
			for _, l := range listeners {
				l.Close()
			}
			return 1
		}
		log.Info("listening", "addr", ln.Addr().String())
		listeners = append(listeners, ln)
	}

	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("serve %s: %w", srv.Addr, err)
			}
		}()
	}
	ready.Store(true)
	log.Info("ready")

	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutdown signal received", "drain", cfg.shutdownDrain.String(),
			"timeout", cfg.shutdownTimeout.String())
	case err := <-serveErr:
		log.Error("server failed", "error", err)
		code = 1
	}

	// Fail readiness first so load balancers stop sending new requests while
	// in-flight ones finish. A second signal kills the process at once.
	ready.Store(false)
	if ctx.Err() != nil {
		time.Sleep(cfg.shutdownDrain)
	}

	// One deadline covers both servers. The API goes first; the metrics server
	// stays up until then so the final counts can still be scraped.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Error("graceful shutdown failed", "addr", srv.Addr, "error", err)
			srv.Close()
			code = 1
		}
	}
	log.Info("stopped", "exit_code", code)
	return code
}

func newServer(port int, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              ":" + strconv.Itoa(port),
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// healthz is the liveness probe: the process is up and serving.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyz is the readiness probe: 200 while serving, 503 while shutting down.
func readyz(ready *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
}

// metrics is a minimal Prometheus registry, written in the text exposition
// format 0.0.4 so that the module needs nothing beyond the standard library.
type metrics struct {
	start    time.Time
	mu       sync.Mutex
	requests map[string]uint64 // by path label
}

func newMetrics() *metrics {
	return &metrics{start: time.Now(), requests: make(map[string]uint64)}
}

// instrument counts requests under a fixed path label, so that the label set
// stays bounded whatever paths clients ask for.
func (m *metrics) instrument(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests[path]++
		m.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	paths := make([]string, 0, len(m.requests))
	for p := range m.requests {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	b.WriteString("# HELP payments_http_requests_total Total HTTP requests received, by path.\n")
	b.WriteString("# TYPE payments_http_requests_total counter\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "payments_http_requests_total{path=\"%s\"} %d\n", escapeLabel(p), m.requests[p])
	}
	m.mu.Unlock()

	b.WriteString("# HELP payments_build_info Build information of the running binary; always 1.\n")
	b.WriteString("# TYPE payments_build_info gauge\n")
	fmt.Fprintf(&b, "payments_build_info{version=\"%s\",commit=\"%s\",goversion=\"%s\"} 1\n",
		escapeLabel(buildinfo.Version), escapeLabel(buildinfo.Commit), escapeLabel(runtime.Version()))

	b.WriteString("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n")
	b.WriteString("# TYPE process_start_time_seconds gauge\n")
	start := float64(m.start.UnixNano()) / 1e9
	fmt.Fprintf(&b, "process_start_time_seconds %s\n", strconv.FormatFloat(start, 'f', 3, 64))

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	io.WriteString(w, b.String())
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func portFromEnv(key string, def int) (int, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s=%q: want a port number between 1 and 65535", key, v)
	}
	return p, nil
}

func durationFromEnv(key string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative Go duration such as 5s", key, v)
	}
	return d, nil
}
