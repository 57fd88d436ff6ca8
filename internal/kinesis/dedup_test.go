package kinesis

import (
	"testing"
	"time"
)

func TestDedupHorizonAndCap(t *testing.T) {
	t.Parallel()
	start := time.Unix(0, 0)
	d := newDedup(8*time.Minute, 0)
	if d.seen("a", start) || !d.seen("a", start.Add(time.Minute)) {
		t.Fatal("a repeat within the horizon must be seen")
	}
	// Remembered for at least the horizon, forgotten within horizon + one bucket.
	if !d.seen("a", start.Add(8*time.Minute-time.Second)) {
		t.Fatal("forgotten before the horizon")
	}
	d.seen("b", start.Add(10*time.Minute)) // rotates
	if d.seen("a", start.Add(10*time.Minute)) {
		t.Fatal("remembered past horizon + a bucket")
	}
	d.forget("b")
	if d.seen("b", start.Add(10*time.Minute)) {
		t.Fatal("forget did not forget")
	}
	c := newDedup(8*time.Minute, 2)
	c.seen("x", start)
	c.seen("y", start)
	c.seen("z", start.Add(2*time.Minute)) // over the cap: the oldest bucket goes
	if c.len() != 1 || c.seen("x", start.Add(2*time.Minute)) {
		t.Fatalf("cap: %d entries", c.len())
	}
}
