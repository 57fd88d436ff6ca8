package ingest

import "context"

// Event is one raw log event as read from a source. Times are Unix milliseconds, as CloudWatch
// Logs reports them. Message is the record text, unparsed.
type Event struct {
	ID            string
	Stream        string
	Timestamp     int64
	IngestionTime int64
	Message       string
}

// Batch is a group of events from one source, handed to the queue as a unit. A batch handed over
// by a CloudWatch source under a Barrier must be acknowledged with Barrier.Done once it has been
// fully aggregated.
type Batch struct {
	Source string
	Events []Event
}

// Source produces batches of raw events into a bounded queue that the caller owns. Run blocks
// until ctx is done or the source can make no further progress, and never closes out. A full
// queue blocks the source: that is the backpressure, and lag shows in the statistics.
type Source interface {
	Name() string
	Run(ctx context.Context, out chan<- Batch) error
}
