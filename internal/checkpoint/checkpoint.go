// Package checkpoint owns flowd's checkpoint: the one versioned file format holding, at one
// consistent cut of the pipeline, every source's resumable state and the counts made from the
// events those sources handed over (aggregator state and records by fate), the atomic write, and
// the statistics of writes. Sources and the app produce and consume the typed State; nothing
// else encodes any part of it.
//
// File layout: magic "FLOWDCKP" (8 bytes), version (uint32), CRC-32C of the payload (uint32),
// payload length (uint64), payload; big-endian. Version 3's payload is one gob of wireV3: version
// 2's and the states of the aggregators of labelled sources (sources[].labels). Version 2 (one
// aggregator) restores into the set without labels; version 1 (written before December 2026)
// held the sources in ingest's gob with the app's state as a gob inside it. Unmarshal reads all.
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/sourcelabel"
)

// State is everything needed to resume without loss or double counting.
type State struct {
	Written time.Time
	// Sources is each source's resumable state, sorted by Name.
	Sources []Source
	// Aggregate is the state of the aggregator of the sources without labels at the same cut;
	// nil when there is no consumer state or no such source.
	Aggregate *aggregate.State
	// Labeled are the states of the aggregators of each other label set, at the same cut.
	Labeled []LabeledAggregate
	// Records are the records by fate at the same cut.
	Records Records
}

// LabeledAggregate is the state of the aggregator of one set of source labels.
type LabeledAggregate struct {
	Labels sourcelabel.Set
	State  *aggregate.State
}

// Source is one source's resumable state. For a polled source (CloudWatch FilterLogEvents)
// times are Unix milliseconds: the slice width, the pass lags (final last), per pass the start
// of the first slice not yet read, and the event hashes of unsettled slices. A source of another
// kind (a leased stream) keeps what it needs in Data and leaves the rest empty.
type Source struct {
	Name      string
	Width     int64
	Lags      []int64
	Positions []int64
	Slices    []Slice
	Data      []byte
}

// Slice holds the hashes of the events emitted for one unsettled slice.
type Slice struct {
	Start  int64
	Hashes []uint64
}

// NumKinds is the number of parse error kinds counted one by one in Records.ByKind.
const NumKinds = 8

// Records are the records by fate, checkpointed like the domain counters so that a restart
// neither resets nor re-counts flowd_records_total.
type Records struct {
	OK, NoData, SkipData, Malformed, Unmatched uint64
	ByKind                                     [NumKinds]uint64
}

const (
	magic     = "FLOWDCKP"
	version1  = 1
	version2  = 2
	version3  = 3
	headerLen = 8 + 4 + 4 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// wireV2 is version 2's payload. Hashes travel as raw little-endian bytes (8 per event) rather
// than gob varints.
type wireV2 struct {
	WrittenUnixMilli int64
	Sources          []wireSource
	Aggregate        *aggregate.State
	Records          Records
}

// wireV3 is version 3's payload: wireV2's fields and the labelled aggregators.
type wireV3 struct {
	WrittenUnixMilli int64
	Sources          []wireSource
	Aggregate        *aggregate.State
	Labeled          []LabeledAggregate
	Records          Records
}

type wireSource struct {
	Name      string
	Width     int64
	Lags      []int64
	Positions []int64
	Slices    []wireSlice
	Data      []byte
}

type wireSlice struct {
	Start  int64
	Hashes []byte
}

// wireV1 is version 1's payload: ingest's form, the app's state (v1Consumer) as a gob in App.
type wireV1 struct {
	WrittenUnixMilli int64
	Sources          []wireSource
	App              []byte
}

type v1Consumer struct {
	Aggregate *aggregate.State
	Records   Records
}

// Error says why a checkpoint could not be used.
type Error struct {
	Path   string
	Reason string
	Err    error
}

func (e *Error) Error() string {
	p := e.Path
	if p == "" {
		p = "data"
	}
	if e.Err != nil {
		return fmt.Sprintf("checkpoint %s: %s: %v", p, e.Reason, e.Err)
	}
	return fmt.Sprintf("checkpoint %s: %s", p, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Marshal encodes st in the current version with a checksum.
func Marshal(st *State) ([]byte, error) {
	w := wireV3{WrittenUnixMilli: st.Written.UnixMilli(), Aggregate: st.Aggregate, Labeled: st.Labeled, Records: st.Records}
	for _, s := range st.Sources {
		ws := wireSource{Name: s.Name, Width: s.Width, Lags: s.Lags, Positions: s.Positions, Data: s.Data}
		for _, sl := range s.Slices {
			b := make([]byte, 8*len(sl.Hashes))
			for i, h := range sl.Hashes {
				binary.LittleEndian.PutUint64(b[8*i:], h)
			}
			ws.Slices = append(ws.Slices, wireSlice{Start: sl.Start, Hashes: b})
		}
		w.Sources = append(w.Sources, ws)
	}
	var buf bytes.Buffer
	buf.Write(make([]byte, headerLen))
	if err := gob.NewEncoder(&buf).Encode(&w); err != nil {
		return nil, fmt.Errorf("encode checkpoint: %w", err)
	}
	b := buf.Bytes()
	payload := b[headerLen:]
	copy(b, magic)
	binary.BigEndian.PutUint32(b[8:], version3)
	binary.BigEndian.PutUint32(b[12:], crc32.Checksum(payload, castagnoli))
	binary.BigEndian.PutUint64(b[16:], uint64(len(payload)))
	return b, nil
}

// Unmarshal decodes and verifies a checkpoint of any supported version. Errors are *Error.
func Unmarshal(b []byte) (*State, error) {
	if len(b) < headerLen || string(b[:8]) != magic {
		return nil, &Error{Reason: "not a flowd checkpoint (bad magic or truncated header)"}
	}
	v := binary.BigEndian.Uint32(b[8:])
	if v < version1 || v > version3 {
		return nil, &Error{Reason: fmt.Sprintf("unsupported version %d (this flowd reads %d to %d)", v, version1, version3)}
	}
	n := binary.BigEndian.Uint64(b[16:])
	payload := b[headerLen:]
	if uint64(len(payload)) != n {
		return nil, &Error{Reason: fmt.Sprintf("truncated: payload %d bytes, header says %d", len(payload), n)}
	}
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[12:]) {
		return nil, &Error{Reason: "checksum mismatch"}
	}
	var (
		written int64
		sources []wireSource
		st      = &State{}
	)
	if v == version1 {
		var w wireV1
		if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&w); err != nil {
			return nil, &Error{Reason: "undecodable payload", Err: err}
		}
		written, sources = w.WrittenUnixMilli, w.Sources
		if len(w.App) > 0 {
			var c v1Consumer
			if err := gob.NewDecoder(bytes.NewReader(w.App)).Decode(&c); err != nil {
				return nil, &Error{Reason: "undecodable version 1 consumer state", Err: err}
			}
			st.Aggregate, st.Records = c.Aggregate, c.Records
		}
	} else if v == version2 {
		var w wireV2
		if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&w); err != nil {
			return nil, &Error{Reason: "undecodable payload", Err: err}
		}
		written, sources = w.WrittenUnixMilli, w.Sources
		st.Aggregate, st.Records = w.Aggregate, w.Records
	} else {
		var w wireV3
		if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&w); err != nil {
			return nil, &Error{Reason: "undecodable payload", Err: err}
		}
		written, sources = w.WrittenUnixMilli, w.Sources
		st.Aggregate, st.Labeled, st.Records = w.Aggregate, w.Labeled, w.Records
		for i, l := range st.Labeled {
			if len(l.Labels) == 0 || l.State == nil {
				return nil, &Error{Reason: fmt.Sprintf("labelled aggregator %d without labels or state", i)}
			}
		}
	}
	st.Written = time.UnixMilli(written)
	for _, ws := range sources {
		s := Source{Name: ws.Name, Width: ws.Width, Lags: ws.Lags, Positions: ws.Positions, Data: ws.Data}
		for _, sl := range ws.Slices {
			if len(sl.Hashes)%8 != 0 {
				return nil, &Error{Reason: fmt.Sprintf("source %q: hash block of %d bytes", ws.Name, len(sl.Hashes))}
			}
			hs := make([]uint64, len(sl.Hashes)/8)
			for i := range hs {
				hs[i] = binary.LittleEndian.Uint64(sl.Hashes[8*i:])
			}
			s.Slices = append(s.Slices, Slice{Start: sl.Start, Hashes: hs})
		}
		st.Sources = append(st.Sources, s)
	}
	return st, nil
}

// ErrNotFound is returned (wrapped in *Error) when the checkpoint file does not exist.
var ErrNotFound = errors.New("no checkpoint file")
