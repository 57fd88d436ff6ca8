package app

import (
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/ingest"
)

// sdkLogger sends the AWS SDK's own log lines (which otherwise go straight to stderr in a
// format of their own) to zap: warnings as warnings, the rest at debug level.
type sdkLogger struct{ log *zap.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if c == logging.Warn {
		l.log.Warn("aws sdk warning", zap.String("message", msg))
		return
	}
	l.log.Debug("aws sdk message", zap.String("message", msg))
}

// AWSClients returns ingest's client factory with the SDK's standard configuration chain plus
// opts, logging through logger.
func AWSClients(logger *zap.Logger, opts ...func(*awsconfig.LoadOptions) error) *ingest.AWSClients {
	opts = append([]func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(sdkLogger{log: logger.Named("aws")})}, opts...)
	return ingest.NewAWSClients(opts...)
}
