// Package awshttp is how flowd sets up aws-sdk-go-v2: the configuration every client starts from
// (LoadConfig: region and role) and the HTTP client flowd gives the SDK for every call.
//
// The HTTP client exists for one reason: a race between net/http and smithy-go. smithy-go closes the request
// body as soon as the round trip returns, while the transport's write loop may still make a last
// read of it (to check for bytes beyond Content-Length). The closed body answers an error, the
// transport takes it for a failed write and closes the connection under the response being read,
// and the call fails with "use of closed network connection" although the server answered 200.
// A fast server (the emulator on loopback) shows it on a few percent of calls; against AWS it is
// rare, but every spurious failure costs a retry out of a shared 5 requests/s quota. Handing the
// transport its own in-memory copy of the body removes the race. CloudWatch Logs request bodies
// are small JSON documents, so the copy costs little.
package awshttp

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// BufferedBodyClient is an aws.HTTPClient that sends each request with a private copy of its body.
type BufferedBodyClient struct {
	Next aws.HTTPClient // nil: the SDK's default client
}

// Wrap returns next wrapped in a BufferedBodyClient. Use it in the service options, after the
// configuration is loaded, so that what the loader set on the client (AWS_CA_BUNDLE, proxies)
// is kept: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.HTTPClient = awshttp.Wrap(o.HTTPClient) }).
func Wrap(next aws.HTTPClient) *BufferedBodyClient {
	if c, ok := next.(*BufferedBodyClient); ok {
		return c
	}
	return &BufferedBodyClient{Next: next}
}

// New returns a BufferedBodyClient around the SDK's default HTTP client.
func New() *BufferedBodyClient {
	return &BufferedBodyClient{Next: awshttp.NewBuildableClient()}
}

// Do sends r with a private copy of its body.
func (c *BufferedBodyClient) Do(r *http.Request) (*http.Response, error) {
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
