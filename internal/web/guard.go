package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/prometheus/exporter-toolkit/web"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v2"
)

// configGuard makes a web config file that becomes invalid or empty fail closed.
//
// exporter-toolkit re-reads the file on every request and TLS handshake. An unreadable or
// invalid file already gets 500 there, but an empty one parses as "no TLS, no users" and
// would turn basic auth off on the next request. The guard, inside the toolkit's handler,
// re-checks the file when its content changes and, while it is empty or invalid, answers
// every request 503 and says so in the log once per change.
type configGuard struct {
	path string
	log  *zap.Logger

	mu      sync.Mutex
	content []byte // the content last checked
	err     error  // why that content is refused; nil when it is good
}

// newConfigGuard checks the file once: an empty file is refused at start.
func newConfigGuard(path string, log *zap.Logger) (*configGuard, error) {
	g := &configGuard{path: path, log: log}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("web config file %s: %w", path, err)
	}
	if err := checkWebConfig(path, content); err != nil {
		return nil, fmt.Errorf("web config file %s: %w", path, err)
	}
	g.content = content
	return g, nil
}

// errEmptyWebConfig is the reason an empty web config is refused.
var errEmptyWebConfig = errors.New("the file is empty (no TLS, no users): flowd refuses to serve without the protection it started with; to serve without TLS and auth, remove --web.config.file")

// checkWebConfig says why content (the file at path) cannot be used, nil if it can.
func checkWebConfig(path string, content []byte) error {
	var keys map[string]any
	if err := yaml.Unmarshal(content, &keys); err != nil {
		return fmt.Errorf("invalid YAML: %w", err)
	}
	if len(keys) == 0 {
		return errEmptyWebConfig
	}
	return web.Validate(path)
}

// check returns why the file cannot be used now, nil if it can.
func (g *configGuard) check() error {
	content, err := os.ReadFile(g.path)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil && bytes.Equal(content, g.content) {
		return g.err
	}
	if err == nil {
		err = checkWebConfig(g.path, content)
	}
	was := g.err
	g.content, g.err = content, err
	switch {
	case err != nil && (was == nil || was.Error() != err.Error()):
		g.log.Error("web config file is no longer usable: every request is refused (503) until it is fixed",
			zap.String("file", g.path), zap.Error(err))
	case err == nil && was != nil:
		g.log.Info("web config file is usable again: serving requests", zap.String("file", g.path))
	}
	return err
}

// wrap refuses every request while the file is unusable.
func (g *configGuard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.check(); err != nil {
			http.Error(w, "flowd's web config file is empty or invalid: every request is refused until an operator fixes it (see flowd's log).", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}
