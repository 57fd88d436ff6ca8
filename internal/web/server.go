package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/metrics"
)

// Server timeouts. A scrape of the largest exposition the caps allow is a few MB and takes
// well under a second to render; WriteTimeout leaves room for a slow network and for a 30 s
// CPU profile. IdleTimeout outlives a 1-minute scrape interval so Prometheus keeps its
// connection, and closes what idle clients leave open.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 2 * time.Minute
	IdleTimeout       = 2 * time.Minute
	// maxHeaderBytes bounds what one connection can make the server hold for its headers.
	maxHeaderBytes = 64 << 10
)

// Defaults of the Options limits (the flags' defaults).
const (
	DefaultMaxConnections = 512
	DefaultMaxRequests    = 40
)

// Options are the settings of the web flags (see docs/configuration.md).
type Options struct {
	// SystemdSocket serves on the sockets systemd passed (socket activation) instead of
	// ListenAddresses.
	SystemdSocket bool
	// ExternalURL is the URL under which flowd is reached (--web.external-url); only its path
	// matters here: it is the default RoutePrefix.
	ExternalURL string
	// RoutePrefix is the path every endpoint is served under (--web.route-prefix), "/" by
	// default or the path of ExternalURL.
	RoutePrefix string
	// EnableLifecycle enables POST /-/reload (--web.enable-lifecycle); SIGHUP always works.
	EnableLifecycle bool
	// MaxConnections bounds the open connections of all listeners together (0:
	// DefaultMaxConnections; negative: no limit); at the limit a new connection closes the
	// oldest idle or silent one (see connLimiter).
	MaxConnections int
	// MaxRequests bounds concurrent /metrics and /api/v1/live requests each (0:
	// DefaultMaxRequests; negative: no limit); over the limit the answer is 503.
	MaxRequests int
}

// Config configures the HTTP server.
type Config struct {
	// ListenAddresses are the addresses to listen on (":9820"); port 0 picks a free port.
	ListenAddresses []string
	// WebConfigFile enables TLS and basic auth (exporter-toolkit's web configuration file).
	WebConfigFile string
	Options       Options
	// Registry is served on /metrics.
	Registry *prometheus.Registry
	// Inputs feed the live view and /api/v1/live: the same inputs the collector reads, so the
	// page and /metrics show the same numbers.
	Inputs metrics.Inputs
	// Ready reports whether flowd is ready; a non-nil error is the reason it is not (503).
	Ready func() error
	// Reload reloads the configuration for POST /-/reload; nil disables the endpoint.
	Reload func(ctx context.Context) error
	// Status adds the version and free text lines (the demo's hints) to the live view.
	Status func() Status
	// Pprof serves /debug/pprof/.
	Pprof bool
	// Extra are more handlers by path (the demo's /-/demo/truth).
	Extra  map[string]http.Handler
	Logger *zap.Logger
	// now is the clock of the live view's history sampler (tests set it).
	now func() time.Time
}

// Status is what the app adds to the live view.
type Status struct {
	Version string
	Extra   []string // lines of text shown under the sources (the demo's hints)
}

// Server is flowd's HTTP server.
type Server struct {
	srv       *http.Server
	listeners []net.Listener
	flags     *web.FlagConfig
	log       *zap.Logger
	history   *History
	prefix    string
	conns     *connLimiter // nil without a limit

	stop     chan struct{}
	stopOnce sync.Once
	sampler  sync.WaitGroup
}

// NewServer listens on every address (so a busy port fails at start and the bound addresses are
// known) and prepares the handlers. Serve starts serving.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	opts := cfg.Options
	if opts.MaxConnections == 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.MaxRequests == 0 {
		opts.MaxRequests = DefaultMaxRequests
	}
	prefix, err := routePrefix(opts.ExternalURL, opts.RoutePrefix)
	if err != nil {
		return nil, err
	}
	var guard *configGuard
	if cfg.WebConfigFile != "" {
		if err := web.Validate(cfg.WebConfigFile); err != nil {
			return nil, fmt.Errorf("web config file %s: %w", cfg.WebConfigFile, err)
		}
		if guard, err = newConfigGuard(cfg.WebConfigFile, cfg.Logger); err != nil {
			return nil, err
		}
	}
	s := &Server{
		log:     cfg.Logger,
		history: NewHistory(historyPoints),
		prefix:  prefix,
		stop:    make(chan struct{}),
	}
	handler := s.routes(cfg, opts, prefix)
	if guard != nil {
		handler = guard.wrap(handler)
	}
	s.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if opts.MaxConnections > 0 {
		s.conns = newConnLimiter(opts.MaxConnections)
		s.srv.ConnState = s.conns.track
	}
	systemd := opts.SystemdSocket
	webConfig := cfg.WebConfigFile
	addrs := cfg.ListenAddresses
	s.flags = &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &webConfig}
	if err := s.listen(opts, cfg.ListenAddresses); err != nil {
		return nil, err
	}
	s.startSampler(cfg)
	return s, nil
}

// listen opens the listeners: systemd's sockets or the addresses.
func (s *Server) listen(opts Options, addrs []string) error {
	if opts.SystemdSocket {
		ls, err := activation.Listeners()
		if err != nil {
			return fmt.Errorf("--web.systemd-socket: %w", err)
		}
		for _, l := range ls {
			if l != nil {
				s.listeners = append(s.listeners, l)
			}
		}
		if len(s.listeners) == 0 {
			return errors.New("--web.systemd-socket: systemd passed no listening socket (LISTEN_FDS unset or 0): start flowd from a .socket unit, or drop the flag")
		}
	} else {
		for _, a := range addrs {
			l, err := net.Listen("tcp", a)
			if err != nil {
				s.closeListeners()
				return fmt.Errorf("listen on %s: %w", a, err)
			}
			s.listeners = append(s.listeners, l)
		}
	}
	return nil
}

// routes builds the handler of every endpoint under prefix.
func (s *Server) routes(cfg Config, opts Options, prefix string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(cfg.Registry, opts.MaxRequests))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "flowd is healthy.")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Ready != nil {
			if err := cfg.Ready(); err != nil {
				http.Error(w, "flowd is not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "flowd is ready.")
	})
	if cfg.Reload != nil {
		mux.HandleFunc("/-/reload", reloadHandler(cfg.Reload, opts.EnableLifecycle))
	}
	if cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	paths := make([]string, 0, len(cfg.Extra))
	for p, h := range cfg.Extra {
		mux.Handle(p, h)
		paths = append(paths, p)
	}
	sort.Strings(paths)
	live := newLiveHandler(cfg, s.history, paths, opts.MaxRequests)
	mux.Handle(LivePath, live)
	mux.Handle("/", pageHandler())
	if prefix == "/" {
		return mux
	}
	outer := http.NewServeMux()
	outer.Handle(prefix+"/", http.StripPrefix(prefix, mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" || r.URL.Path == prefix {
			http.Redirect(w, r, prefix+"/", http.StatusFound)
			return
		}
		http.NotFound(w, r)
	})
	return outer
}

// reloadHandler serves POST /-/reload, only with --web.enable-lifecycle (as Prometheus does).
func reloadHandler(reload func(context.Context) error, enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !enabled {
			http.Error(w, "Lifecycle API is not enabled: start flowd with --web.enable-lifecycle to reload over HTTP, or send it SIGHUP.", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
			return
		}
		if err := reload(r.Context()); err != nil {
			http.Error(w, "reload failed, the previous configuration stays in use: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded.")
	}
}

// routePrefix is the path the endpoints are served under, as Prometheus computes it: the
// route prefix if given, else the path of the external URL; always with a leading slash and
// without a trailing one ("/" for the root).
func routePrefix(externalURL, prefix string) (string, error) {
	if prefix == "" && externalURL != "" {
		u, err := url.Parse(externalURL)
		if err != nil {
			return "", fmt.Errorf("--web.external-url %q: %w", externalURL, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return "", fmt.Errorf("--web.external-url %q: want an absolute http or https URL, such as https://flowd.example.com/flowd/", externalURL)
		}
		prefix = u.Path
	}
	if strings.ContainsAny(prefix, "?#") {
		return "", fmt.Errorf("--web.route-prefix %q: a path only, without a query or fragment", prefix)
	}
	prefix = "/" + strings.Trim(prefix, "/")
	return prefix, nil
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
}

// Addrs returns the addresses the server listens on.
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.Addr()
	}
	return out
}

// RoutePrefix is the path the endpoints are served under ("/" or "/flowd").
func (s *Server) RoutePrefix() string { return s.prefix }

// Serve serves until Shutdown; it returns nil after a Shutdown.
func (s *Server) Serve() error {
	for _, l := range s.listeners {
		s.log.Info("listening", zap.String("address", l.Addr().String()), zap.String("route_prefix", s.prefix))
	}
	err := web.ServeMultiple(s.listeners, s.srv, s.flags, newSlogLogger(s.log))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for the ones in progress until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.conns != nil {
		s.srv.SetKeepAlivesEnabled(false)
		s.conns.closeSilent()
	}
	err := s.srv.Shutdown(ctx)
	s.closeListeners()
	s.sampler.Wait()
	return err
}
