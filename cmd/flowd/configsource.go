package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/alecthomas/kingpin/v2"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/config"
)

// configSource is where a config comes from: a file (--config.file) or an environment variable
// (--config.env), which lets a container take its config from its orchestrator (an ECS
// `secrets` entry from SSM Parameter Store or Secrets Manager) with no file and no sidecar.
type configSource struct {
	file string // the file, if env is empty
	env  string // the variable's name
}

// envName is a portable environment variable name (POSIX: letters, digits, underscores).
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// configEnvHelp is the help of --config.env.
const configEnvHelp = "Read the configuration (YAML) from the environment variable NAME instead of a file, e.g. an ECS secret from SSM Parameter Store."

// addConfigEnvFlag adds --config.env to c.
func addConfigEnvFlag(c *kingpin.CmdClause) *string {
	return c.Flag("config.env", configEnvHelp).PlaceHolder("NAME").String()
}

// String names the source in logs and errors.
func (s configSource) String() string {
	if s.env != "" {
		return "$" + s.env
	}
	return s.file
}

// load reads the source and hands its bytes to the config loader.
func (s configSource) load() (*config.Config, error) {
	if s.env == "" {
		return config.LoadFile(s.file)
	}
	if !envName.MatchString(s.env) {
		return nil, fmt.Errorf("--config.env=%q: not an environment variable name (letters, digits and _, not starting with a digit)", s.env)
	}
	data, ok := os.LookupEnv(s.env)
	if !ok {
		return nil, fmt.Errorf("--config.env=%s: the variable is not set", s.env)
	}
	cfg, err := config.Load([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("config from $%s: %w", s.env, err)
	}
	return cfg, nil
}

// watchEnvReloads answers SIGHUP while the config comes from a variable, until ctx ends. A
// process's environment is fixed when it starts, so a reload re-reads the same value: it is
// loaded and validated again, and the outcome logged, but there is nothing new to apply. To
// take a new parameter value, restart flowd (ECS: a new deployment).
func watchEnvReloads(ctx context.Context, log *zap.Logger, src configSource, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if _, err := src.load(); err != nil {
				log.Error("config reload failed, keeping the running config", zap.String("source", src.String()), zap.String("error", redactURLs(err.Error())))
				continue
			}
			log.Info("config re-read from the environment: unchanged, the environment of a running process does not change; restart flowd to apply a new value", zap.String("source", src.String()))
		}
	}
}

// errConfigSources is --config.file and --config.env given together.
var errConfigSources = errors.New("--config.file and --config.env name two configs: give one")
