package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Checkpoint is everything needed to resume without loss or double counting: per source the pass
// positions and the dedup hashes of unsettled slices, plus the consumer's (aggregator's) state as
// opaque bytes, all captured at one Barrier quiesce point.
type Checkpoint struct {
	Written time.Time
	Sources []SourceState
	App     []byte
}

// SourceState is one source's resumable state. Times are Unix milliseconds.
type SourceState struct {
	Name      string
	Width     int64   // slice width
	Lags      []int64 // pass lags, final last
	Positions []int64 // per pass: start of the first slice not yet read
	Slices    []SliceState
}

// SliceState holds the hashes of the events emitted for one unsettled slice.
type SliceState struct {
	Start  int64
	Hashes []uint64
}

// The file layout: magic (8 bytes), version (uint32), CRC-32C of the payload (uint32), payload
// length (uint64), payload (gob of wireCheckpoint). Big-endian.
const (
	checkpointMagic   = "FLOWDCKP"
	checkpointVersion = 1
	headerLen         = 8 + 4 + 4 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// wireCheckpoint is the gob form; hashes travel as raw little-endian bytes (8 per event) rather
// than gob varints.
type wireCheckpoint struct {
	WrittenUnixMilli int64
	Sources          []wireSource
	App              []byte
}

type wireSource struct {
	Name      string
	Width     int64
	Lags      []int64
	Positions []int64
	Slices    []wireSlice
}

type wireSlice struct {
	Start  int64
	Hashes []byte
}

// MarshalCheckpoint encodes cp with a version and a checksum.
func MarshalCheckpoint(cp *Checkpoint) ([]byte, error) {
	w := wireCheckpoint{WrittenUnixMilli: cp.Written.UnixMilli(), App: cp.App}
	for _, s := range cp.Sources {
		ws := wireSource{Name: s.Name, Width: s.Width, Lags: s.Lags, Positions: s.Positions}
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
	copy(b, checkpointMagic)
	binary.BigEndian.PutUint32(b[8:], checkpointVersion)
	binary.BigEndian.PutUint32(b[12:], crc32.Checksum(payload, castagnoli))
	binary.BigEndian.PutUint64(b[16:], uint64(len(payload)))
	return b, nil
}

// UnmarshalCheckpoint decodes and verifies a checkpoint. Errors are *CheckpointError (Path empty).
func UnmarshalCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < headerLen || string(b[:8]) != checkpointMagic {
		return nil, &CheckpointError{Reason: "not a flowd checkpoint (bad magic or truncated header)"}
	}
	if v := binary.BigEndian.Uint32(b[8:]); v != checkpointVersion {
		return nil, &CheckpointError{Reason: fmt.Sprintf("unsupported version %d (want %d)", v, checkpointVersion)}
	}
	n := binary.BigEndian.Uint64(b[16:])
	payload := b[headerLen:]
	if uint64(len(payload)) != n {
		return nil, &CheckpointError{Reason: fmt.Sprintf("truncated: payload %d bytes, header says %d", len(payload), n)}
	}
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[12:]) {
		return nil, &CheckpointError{Reason: "checksum mismatch"}
	}
	var w wireCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&w); err != nil {
		return nil, &CheckpointError{Reason: "undecodable payload", Err: err}
	}
	cp := &Checkpoint{Written: time.UnixMilli(w.WrittenUnixMilli), App: w.App}
	for _, ws := range w.Sources {
		s := SourceState{Name: ws.Name, Width: ws.Width, Lags: ws.Lags, Positions: ws.Positions}
		for _, sl := range ws.Slices {
			if len(sl.Hashes)%8 != 0 {
				return nil, &CheckpointError{Reason: fmt.Sprintf("source %q: hash block of %d bytes", ws.Name, len(sl.Hashes))}
			}
			hs := make([]uint64, len(sl.Hashes)/8)
			for i := range hs {
				hs[i] = binary.LittleEndian.Uint64(sl.Hashes[8*i:])
			}
			s.Slices = append(s.Slices, SliceState{Start: sl.Start, Hashes: hs})
		}
		cp.Sources = append(cp.Sources, s)
	}
	return cp, nil
}

// ErrNoCheckpoint is returned (wrapped in *CheckpointError) when the file does not exist.
var ErrNoCheckpoint = errors.New("no checkpoint file")

// ReadCheckpoint loads a checkpoint file. A missing file gives an error wrapping ErrNoCheckpoint;
// a damaged one a *CheckpointError saying what is wrong.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &CheckpointError{Path: path, Reason: "not found", Err: ErrNoCheckpoint}
	}
	if err != nil {
		return nil, &CheckpointError{Path: path, Reason: "unreadable", Err: err}
	}
	cp, err := UnmarshalCheckpoint(b)
	if err != nil {
		var ce *CheckpointError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	return cp, nil
}

// WriteCheckpoint writes cp to path atomically: a temporary file in the same directory, fsync,
// rename over path, fsync of the directory. A crash leaves either the old or the new file. It
// returns the number of bytes written.
func WriteCheckpoint(path string, cp *Checkpoint) (int, error) {
	b, err := MarshalCheckpoint(cp)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (int, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return 0, fmt.Errorf("write checkpoint %s: sync dir: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return 0, fmt.Errorf("write checkpoint %s: sync dir: %w", path, err)
	}
	return len(b), nil
}
