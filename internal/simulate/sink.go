package simulate

import "context"

// Event is one CloudWatch Logs event: a flow log record and its timestamp, which is the
// record's start in milliseconds, as AWS sets it.
type Event struct {
	Timestamp int64 // Unix milliseconds
	Message   string
}

// Sink receives delivered batches: the events of one log stream, in timestamp order (as
// PutLogEvents requires).
type Sink interface {
	Put(ctx context.Context, stream string, events []Event) error
}
