package app

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// warnLimiter logs a repeated warning at most once per interval, with the number of
// occurrences since the last one (in the spirit of goflow2's BatchMute): a feed of bad lines
// must not flood the log.
type warnLimiter struct {
	log      *zap.Logger
	msg      string
	interval time.Duration

	mu         sync.Mutex
	next       time.Time
	suppressed int
}

func newWarnLimiter(log *zap.Logger, msg string, interval time.Duration) *warnLimiter {
	return &warnLimiter{log: log, msg: msg, interval: interval}
}

// warn logs msg with fields unless a warning was logged less than interval ago.
func (w *warnLimiter) warn(now time.Time, fields ...zap.Field) {
	w.mu.Lock()
	if now.Before(w.next) {
		w.suppressed++
		w.mu.Unlock()
		return
	}
	n := w.suppressed
	w.suppressed = 0
	w.next = now.Add(w.interval)
	w.mu.Unlock()
	w.log.Warn(w.msg, append(fields, zap.Int("suppressed_since_last", n))...)
}
