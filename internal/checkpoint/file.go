package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Read loads a checkpoint file. A missing file gives an error wrapping ErrNotFound; a damaged
// one an *Error saying what is wrong.
func Read(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{Path: path, Reason: "not found", Err: ErrNotFound}
	}
	if err != nil {
		return nil, &Error{Path: path, Reason: "unreadable", Err: err}
	}
	st, err := Unmarshal(b)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	return st, nil
}

// Write encodes st and writes it to path atomically (see WriteAtomic), returning the number of
// bytes written.
func Write(path string, st *State) (int, error) {
	b, err := Marshal(st)
	if err != nil {
		return 0, err
	}
	if err := WriteAtomic(path, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// WriteAtomic writes b to path atomically: a temporary file in the same directory, fsync,
// rename over path, fsync of the directory. A crash leaves either the old or the new file.
func WriteAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write checkpoint %s: sync dir: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write checkpoint %s: sync dir: %w", path, err)
	}
	return nil
}

// RemoveStale deletes the temporary files that an interrupted WriteAtomic of path leaves
// (".<name>.tmp-*" beside it, after a kill -9 or a full disk), returning their names. Call it
// before the first write, when no write of this path can be running.
func RemoveStale(path string) ([]string, error) {
	pattern := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("stale checkpoint files %s: %w", pattern, err)
	}
	var removed []string
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, m)
	}
	return removed, errors.Join(errs...)
}

// Stats is the state of checkpoint writes.
type Stats struct {
	LastSuccess time.Time // zero if none was written yet
	Failures    uint64
	Bytes       int64 // size of the last file written
}

// Writer writes the checkpoint file of one path and keeps the statistics of its writes: the one
// owner of both. Writes are serialised.
type Writer struct {
	path string
	now  func() time.Time

	mu       sync.Mutex
	last     atomic.Int64 // Unix ms
	failures atomic.Uint64
	bytes    atomic.Int64
}

// NewWriter returns a Writer for path; now stamps the files (the injected clock).
func NewWriter(path string, now func() time.Time) *Writer {
	return &Writer{path: path, now: now}
}

// Path is the file the Writer writes.
func (w *Writer) Path() string { return w.path }

// Save calls capture for a consistent State (the caller quiesces its pipeline inside capture),
// stamps it and writes it atomically. It returns nil only when the file is on disk: the caller
// publishes what it captured only then.
func (w *Writer) Save(ctx context.Context, capture func(context.Context) (*State, error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := capture(ctx)
	var n int
	if err == nil {
		st.Written = w.now()
		n, err = Write(w.path, st)
	}
	if err != nil {
		w.failures.Add(1)
		return err
	}
	w.bytes.Store(int64(n))
	w.last.Store(st.Written.UnixMilli())
	return nil
}

// Stats returns the statistics of the writes so far.
func (w *Writer) Stats() Stats {
	s := Stats{Failures: w.failures.Load(), Bytes: w.bytes.Load()}
	if ms := w.last.Load(); ms != 0 {
		s.LastSuccess = time.UnixMilli(ms)
	}
	return s
}
