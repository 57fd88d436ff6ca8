package metrics

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"
	"go.uber.org/zap"
)

// ServerConfig configures the HTTP server.
type ServerConfig struct {
	// ListenAddresses are the addresses to listen on (":9820"); port 0 picks a free port.
	ListenAddresses []string
	// WebConfigFile enables TLS and basic auth (exporter-toolkit's web configuration file).
	WebConfigFile string
	// Registry is served on /metrics.
	Registry *prometheus.Registry
	// Ready reports whether flowd is ready; a non-nil error is the reason it is not (503).
	Ready func() error
	// Reload reloads the configuration for POST /-/reload; nil disables the endpoint.
	Reload func(ctx context.Context) error
	// Status feeds the landing page.
	Status func() Status
	// Pprof serves /debug/pprof/.
	Pprof bool
	// Extra are more handlers by path (the demo's /-/demo/truth).
	Extra  map[string]http.Handler
	Logger *zap.Logger
}

// Status is what the landing page shows.
type Status struct {
	Version string
	Sources []SourceStatus
	Extra   []string // lines of text shown under the sources (the demo's hints)
}

// SourceStatus is one source on the landing page.
type SourceStatus struct {
	Name        string
	Lag         time.Duration
	LastSuccess time.Time
	Events      uint64
}

// Server is flowd's HTTP server.
type Server struct {
	srv       *http.Server
	listeners []net.Listener
	flags     *web.FlagConfig
	log       *zap.Logger
}

// NewServer listens on every address (so a busy port fails at start and the bound addresses are
// known) and prepares the handlers. Serve starts serving.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.WebConfigFile != "" {
		if err := web.Validate(cfg.WebConfigFile); err != nil {
			return nil, fmt.Errorf("web config file %s: %w", cfg.WebConfigFile, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(cfg.Registry))
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
		mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost && r.Method != http.MethodPut {
				w.Header().Set("Allow", "POST, PUT")
				http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
				return
			}
			if err := cfg.Reload(r.Context()); err != nil {
				http.Error(w, "reload failed, the previous configuration stays in use: "+err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "configuration reloaded.")
		})
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
	mux.Handle("/", landing(cfg, paths))

	s := &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		log: cfg.Logger,
	}
	systemd := false
	webConfig := cfg.WebConfigFile
	addrs := cfg.ListenAddresses
	s.flags = &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &webConfig}
	for _, a := range cfg.ListenAddresses {
		l, err := net.Listen("tcp", a)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listen on %s: %w", a, err)
		}
		s.listeners = append(s.listeners, l)
	}
	return s, nil
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

// Serve serves until Shutdown; it returns nil after a Shutdown.
func (s *Server) Serve() error {
	for _, l := range s.listeners {
		s.log.Info("listening", zap.String("address", l.Addr().String()))
	}
	err := web.ServeMultiple(s.listeners, s.srv, s.flags, newSlogLogger(s.log))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for the ones in progress until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.closeListeners()
	return err
}

var landingTemplate = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>flowd</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>flowd</h1>
<p>VPC Flow Logs from CloudWatch Logs as Prometheus metrics. Version {{.Status.Version}}.</p>
<ul>
<li><a href="metrics">/metrics</a>: the metrics</li>
<li><a href="-/healthy">/-/healthy</a>: the process is alive</li>
<li><a href="-/ready">/-/ready</a>: at least one source was read</li>
{{range .Extra}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}{{if .Pprof}}<li><a href="debug/pprof/">/debug/pprof/</a>: profiles</li>
{{end}}</ul>
<h2>Sources</h2>
<table><tr><th>log group</th><th>events read</th><th>lag</th><th>last successful read</th></tr>
{{range .Status.Sources}}<tr><td>{{.Name}}</td><td>{{.Events}}</td><td>{{.Lag}}</td><td>{{if .LastSuccess.IsZero}}never{{else}}{{.LastSuccess.UTC.Format "2006-01-02 15:04:05 MST"}}{{end}}</td></tr>
{{else}}<tr><td colspan="4">no source yet</td></tr>
{{end}}</table>
{{range .Status.Extra}}<p>{{.}}</p>
{{end}}</body></html>
`))

func landing(cfg ServerConfig, extra []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		var st Status
		if cfg.Status != nil {
			st = cfg.Status()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		data := struct {
			Status Status
			Extra  []string
			Pprof  bool
		}{st, extra, cfg.Pprof}
		if err := landingTemplate.Execute(w, data); err != nil {
			cfg.Logger.Debug("landing page", zap.Error(err))
		}
	})
}
