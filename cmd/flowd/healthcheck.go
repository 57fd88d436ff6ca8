package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// healthcheckCommand asks a running flowd whether it is healthy. It exists for container
// health checks that run a command inside the container (ECS, docker): flowd's image has no
// shell, curl or wget, only this binary.
type healthcheckCommand struct {
	url     *string
	timeout *time.Duration
	out     io.Writer
}

func newHealthcheckCommand(c *kingpin.CmdClause, out io.Writer) *healthcheckCommand {
	return &healthcheckCommand{
		url:     c.Flag("url", "URL to get; any 2xx answer is healthy. Basic auth goes in the URL (http://user:password@host:port/-/healthy).").Default("http://127.0.0.1" + defaultListen + "/-/healthy").String(),
		timeout: c.Flag("timeout", "Give up after this long.").Default("3s").Duration(),
		out:     out,
	}
}

func (c *healthcheckCommand) exec() int {
	if err := c.check(); err != nil {
		fmt.Fprintf(c.out, "unhealthy: %v\n", err)
		return 1
	}
	fmt.Fprintln(c.out, "healthy")
	return 0
}

func (c *healthcheckCommand) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), *c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *c.url, nil)
	if err != nil {
		return fmt.Errorf("--url %q: %w", *c.url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", *c.url, resp.Status)
	}
	return nil
}
