package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// check gets the URL. No error it returns holds the URL's password: they name the URL in its
// redacted form (url.URL.Redacted), and a URL that does not parse only with its password masked.
func (c *healthcheckCommand) check() error {
	u, err := url.Parse(*c.url)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the whole URL
		}
		return fmt.Errorf("--url %q: %w", redactURLs(*c.url), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Host == "" {
		// Not printed: the password of such a URL is in no field Redacted masks.
		return fmt.Errorf("--url: want http://[user:password@]host:port/path or https://..., got a URL with scheme %q", u.Scheme)
	}
	shown := u.Redacted()
	ctx, cancel := context.WithTimeout(context.Background(), *c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("--url %q: %v", shown, redactURLs(err.Error()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s %q: %v", ue.Op, shown, redactURLs(ue.Err.Error()))
		}
		return errors.New(redactURLs(err.Error()))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", shown, resp.Status)
	}
	return nil
}
