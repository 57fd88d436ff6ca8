package emulator

import (
	"bytes"
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// HTTPDoer is the HTTP client interface aws-sdk-go-v2 takes (aws.HTTPClient).
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// BodyBufferingClient is an HTTP client for aws-sdk-go-v2 that gives the transport its own
// in-memory copy of each request body. It avoids a race between net/http and smithy-go that a
// fast server (this emulator on loopback) exposes: smithy closes the request body as soon as the
// round trip returns, while the transport's write loop may still make a last read of the body (to
// check for bytes beyond Content-Length); the closed body answers io.EOF, the transport treats it
// as a write error and closes the connection under the response being read ("use of closed network
// connection"). CloudWatch Logs request bodies are small, so the copy costs little.
type BodyBufferingClient struct {
	Next HTTPDoer // nil: the SDK's default client (awshttp.NewBuildableClient)
}

// NewBodyBufferingClient wraps the SDK's default HTTP client. Pass it with
// config.WithHTTPClient or as cloudwatchlogs.Options.HTTPClient.
func NewBodyBufferingClient() *BodyBufferingClient {
	return &BodyBufferingClient{Next: awshttp.NewBuildableClient()}
}

// Do sends r with a private copy of its body.
func (c *BodyBufferingClient) Do(r *http.Request) (*http.Response, error) {
	next := c.Next
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		_ = r.Body.Close() // the SDK's body is in memory; closing it cannot fail usefully
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return next.Do(r)
}
