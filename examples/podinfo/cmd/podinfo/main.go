// Command podinfo is a small web service shaped like stefanprodan/podinfo: its UI and
// HTTP API on --port, Prometheus metrics on --port-metrics, files it keeps under
// --data-path, and a Redis cache at --cache-server.
//
// Every flag can also be set as PODINFO_<FLAG> (PODINFO_CACHE_SERVER) or in the
// configuration file <--config-path>/<--config>; a flag on the command line wins.
//
// HTTP API:
//
//	GET  /                the UI (from --ui-path)
//	GET  /healthz         liveness: 200 until the process exits
//	GET  /readyz          readiness: 200 while serving, 503 from SIGTERM on
//	GET  /version         {"version": …, "revision": …}
//	POST /store           writes the body under --data-path, answers its SHA-1
//	GET  /store/{hash}    reads it back
//	POST /cache/{key}     stores the body in Redis for 10 minutes
//	GET  /cache/{key}     reads it back; DELETE removes it
//
// This example module uses the standard library only, so it builds with no module proxy.
// Upstream podinfo also serves gRPC (its API and grpc.health.v1) on --grpc-port, which
// needs google.golang.org/grpc; this module accepts the flag and says it does not serve it.
package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"example.com/podinfo/pkg/cache"
	"example.com/podinfo/pkg/config"
	"example.com/podinfo/pkg/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// settings are podinfo's flags, after the environment and the configuration file.
type settings struct {
	port, portMetrics, grpcPort            int
	grpcServiceName, level                 string
	dataPath, uiPath, uiColor, uiMessage   string
	cacheServer                            string
	clientTimeout, serverTimeout, shutdown time.Duration
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var s settings
	fs := flag.NewFlagSet("podinfo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&s.port, "port", 9898, "HTTP port")
	fs.IntVar(&s.portMetrics, "port-metrics", 0, "metrics port (0: /metrics on the HTTP port)")
	fs.IntVar(&s.grpcPort, "grpc-port", 0, "gRPC port (not served by this module)")
	fs.StringVar(&s.grpcServiceName, "grpc-service-name", "podinfo", "gRPC service name")
	fs.StringVar(&s.level, "level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&s.dataPath, "data-path", "/data", "directory of stored files")
	fs.String("config-path", "", "directory of the configuration file")
	fs.String("config", "config.yaml", "configuration file name")
	fs.StringVar(&s.uiPath, "ui-path", "./ui", "directory of the UI's assets")
	fs.StringVar(&s.uiColor, "ui-color", "#34577c", "UI colour")
	fs.StringVar(&s.uiMessage, "ui-message", "greetings from podinfo", "UI message")
	fs.StringVar(&s.cacheServer, "cache-server", "", "Redis address, tcp://host:port")
	fs.DurationVar(&s.clientTimeout, "http-client-timeout", 2*time.Minute, "timeout of outgoing calls")
	fs.DurationVar(&s.serverTimeout, "http-server-timeout", 30*time.Second, "read and write timeout of the server")
	fs.DurationVar(&s.shutdown, "server-shutdown-timeout", 5*time.Second, "time in-flight requests get after SIGTERM")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.VERSION)
		return 0
	}
	if err := config.Resolve(fs, getenv); err != nil {
		fmt.Fprintf(stderr, "podinfo: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.level)); err != nil {
		fmt.Fprintf(stderr, "podinfo: --level=%q: want debug, info, warn or error\n", s.level)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	log.Info("starting podinfo", "version", version.VERSION, "revision", version.REVISION,
		"go", runtime.Version(), "port", s.port, "metrics_port", s.portMetrics)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, s, log)
}

func serve(ctx context.Context, s settings, log *slog.Logger) int {
	if err := os.MkdirAll(s.dataPath, 0o700); err != nil {
		log.Error("cannot use the data path", "path", s.dataPath, "error", err)
		return 1
	}
	var redis *cache.Client
	if s.cacheServer != "" {
		var err error
		if redis, err = cache.New(s.cacheServer, 2*time.Second); err != nil {
			log.Error("cannot use the cache server", "error", err)
			return 2
		}
		// Like upstream, a cache that is down is logged, not fatal: /cache answers 502.
		if err := redis.Ping(ctx); err != nil {
			log.Warn("cache server not reachable yet", "addr", redis.Addr(), "error", err)
		} else {
			log.Info("cache server connected", "addr", redis.Addr())
		}
	}
	if s.grpcPort > 0 {
		log.Warn("gRPC is not served by this example module", "grpc_port", s.grpcPort,
			"service", s.grpcServiceName)
	}

	var ready atomic.Bool
	m := &metrics{requests: map[string]uint64{}}
	api := &api{settings: s, cache: redis, log: log}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.FileServer(http.Dir(s.uiPath)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { text(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			text(w, http.StatusServiceUnavailable, "shutting down")
			return
		}
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]string{"version": version.VERSION, "revision": version.REVISION,
			"color": s.uiColor, "message": s.uiMessage})
	})
	mux.HandleFunc("POST /store", api.store)
	mux.HandleFunc("GET /store/{hash}", api.stored)
	mux.HandleFunc("POST /cache/{key}", api.cacheSet)
	mux.HandleFunc("GET /cache/{key}", api.cacheGet)
	mux.HandleFunc("DELETE /cache/{key}", api.cacheDel)

	servers := []*http.Server{newServer(s.port, m.instrument(mux), s.serverTimeout, log)}
	if s.portMetrics > 0 && s.portMetrics != s.port {
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET /metrics", m.handler(s.dataPath))
		servers = append(servers, newServer(s.portMetrics, metricsMux, s.serverTimeout, log))
	} else {
		mux.Handle("GET /metrics", m.handler(s.dataPath))
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
	failed := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("serve %s: %w", srv.Addr, err)
			}
		}()
	}
	ready.Store(true)

	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutdown signal received", "timeout", s.shutdown.String())
	case err := <-failed:
		log.Error("server failed", "error", err)
		code = 1
	}
	// Not ready first, so that no new requests arrive while in-flight ones finish.
	ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.shutdown)
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

func newServer(port int, h http.Handler, timeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              ":" + strconv.Itoa(port),
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       timeout,
		WriteTimeout:      timeout,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// api holds the handlers that use the data path and the cache.
type api struct {
	settings settings
	cache    *cache.Client
	log      *slog.Logger
}

const maxBody = 1 << 20

var (
	hashPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)
	keyPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

func (a *api) store(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		text(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
		return
	}
	sum := sha1.Sum(body)
	hash := hex.EncodeToString(sum[:])
	// Written whole or not at all: a temporary file renamed into place.
	tmp, err := os.CreateTemp(a.settings.dataPath, ".store-*")
	if err == nil {
		_, err = tmp.Write(body)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), filepath.Join(a.settings.dataPath, hash))
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		a.log.Error("store failed", "error", err)
		text(w, http.StatusInternalServerError, "cannot store the file")
		return
	}
	w.WriteHeader(http.StatusAccepted)
	writeJSON(w, map[string]string{"hash": hash})
}

func (a *api) stored(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	if !hashPattern.MatchString(hash) {
		text(w, http.StatusBadRequest, "want a SHA-1 in hex")
		return
	}
	http.ServeFile(w, r, filepath.Join(a.settings.dataPath, hash))
}

func (a *api) cacheKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	if a.cache == nil {
		text(w, http.StatusNotImplemented, "no cache server configured")
		return "", false
	}
	key := r.PathValue("key")
	if !keyPattern.MatchString(key) {
		text(w, http.StatusBadRequest, "want a key of letters, digits, '.', '_' and '-'")
		return "", false
	}
	return "podinfo:" + key, true
}

func (a *api) cacheSet(w http.ResponseWriter, r *http.Request) {
	key, ok := a.cacheKey(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		text(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
		return
	}
	if err := a.cache.Set(r.Context(), key, string(body), 10*time.Minute); err != nil {
		a.cacheFailed(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (a *api) cacheGet(w http.ResponseWriter, r *http.Request) {
	key, ok := a.cacheKey(w, r)
	if !ok {
		return
	}
	v, err := a.cache.Get(r.Context(), key)
	if errors.Is(err, cache.ErrNotFound) {
		text(w, http.StatusNotFound, "not found")
		return
	}
	if err != nil {
		a.cacheFailed(w, err)
		return
	}
	io.WriteString(w, v)
}

func (a *api) cacheDel(w http.ResponseWriter, r *http.Request) {
	key, ok := a.cacheKey(w, r)
	if !ok {
		return
	}
	if err := a.cache.Del(r.Context(), key); err != nil {
		a.cacheFailed(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (a *api) cacheFailed(w http.ResponseWriter, err error) {
	a.log.Warn("cache call failed", "addr", a.cache.Addr(), "error", err)
	text(w, http.StatusBadGateway, "cache server unavailable")
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// metrics is a minimal Prometheus registry in the text exposition format 0.0.4, so that
// the module needs nothing beyond the standard library.
type metrics struct {
	mu       sync.Mutex
	requests map[string]uint64 // by "method code"
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		m.mu.Lock()
		m.requests[r.Method+" "+strconv.Itoa(rec.code)]++
		m.mu.Unlock()
	})
}

func (m *metrics) handler(dataPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var b strings.Builder
		b.WriteString("# HELP http_requests_total Requests served, by method and status code.\n")
		b.WriteString("# TYPE http_requests_total counter\n")
		m.mu.Lock()
		keys := make([]string, 0, len(m.requests))
		for k := range m.requests {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			method, code, _ := strings.Cut(k, " ")
			fmt.Fprintf(&b, "http_requests_total{method=%q,status=%q} %d\n", method, code, m.requests[k])
		}
		m.mu.Unlock()
		// The files under the data path, as upstream's `stored_files` gauge.
		entries, _ := os.ReadDir(dataPath)
		files := 0
		for _, e := range entries {
			if e.Type().IsRegular() && hashPattern.MatchString(e.Name()) {
				files++
			}
		}
		b.WriteString("# HELP stored_files Files kept under the data path.\n# TYPE stored_files gauge\n")
		fmt.Fprintf(&b, "stored_files %d\n", files)
		b.WriteString("# HELP podinfo_build_info The running binary's build; always 1.\n# TYPE podinfo_build_info gauge\n")
		fmt.Fprintf(&b, "podinfo_build_info{version=%q,revision=%q,goversion=%q} 1\n",
			version.VERSION, version.REVISION, runtime.Version())
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		io.WriteString(w, b.String())
	})
}
