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

// Batch is a group of events from one source, handed to the queue as a unit. It carries its own
// acknowledgement: the consumer calls Ack exactly once, after the batch is fully processed (or
// dropped), and knows nothing of the source. A nil Ack means the source needs none.
type Batch struct {
	Source string
	Events []Event
	Ack    func()
}

// Done acknowledges the batch (calls Ack if set).
func (b Batch) Done() {
	if b.Ack != nil {
		b.Ack()
	}
}

// Source is the boundary between the pipeline and whatever feeds it: CloudWatch Logs polling
// (Manager, FilterLogEvents) today, a leased stream (Kinesis) later. The app wires every source
// through it alone.
//
// A source produces acknowledged batches into a bounded queue the caller owns: Run blocks until
// ctx is done (or the source can make no further progress) and never closes out; a full queue
// blocks it (that is the backpressure, and lag shows in Stats). Every batch carries an Ack.
//
// A source takes part in the checkpoint: Checkpoint stops the source at a cut (no state change,
// no hand-off, every batch handed off acknowledged, for instance with a Barrier) and calls
// capture with its resumable states while held, so the consumer can capture its own state at
// the same cut; Restore, before Run, hands back the states of a checkpoint (those of other
// sources, by Name, are ignored, and a state the source cannot use is logged and dropped).
// Checkpoint may be called before Run, during it and after it returned.
type Source interface {
	Run(ctx context.Context, out chan<- Batch) error
	Checkpoint(ctx context.Context, capture func(states []SourceState) error) error
	Restore(states []SourceState)
	Stats() Stats
}
