package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/-/healthy" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("Healthy"))
	}))
	t.Cleanup(healthy.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name string
		url  string
		code int
		out  string
	}{
		{name: "healthy", url: healthy.URL + "/-/healthy", code: 0, out: "healthy"},
		{name: "error status", url: healthy.URL + "/nope", code: 1, out: "404 Not Found"},
		{name: "nobody listening", url: closedURL + "/-/healthy", code: 1, out: "connection refused"},
		{name: "bad url", url: "::", code: 1, out: `--url "::"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			code := run([]string{"healthcheck", "--url=" + tc.url}, &out, &errOut)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Errorf("healthcheck %s = %d %q (stderr %q), want %d containing %q", tc.url, code, out.String(), errOut.String(), tc.code, tc.out)
			}
		})
	}
}
