package ingest

import "github.com/flowd-dev/flowd/internal/checkpoint"

// SourceState is one source's resumable state: the pass positions and the hashes of the events
// emitted for unsettled slices. Its file form belongs to internal/checkpoint, the one owner of
// the checkpoint format.
type SourceState = checkpoint.Source

// SliceState holds the hashes of the events emitted for one unsettled slice.
type SliceState = checkpoint.Slice
