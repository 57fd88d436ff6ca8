package web

import (
	"net"
	"net/http"
	"sync"
)

// connLimiter bounds the open connections of a server (--web.max-connections), so that idle
// keep-alive clients cannot use every file descriptor (which the checkpoint needs too).
//
// A limit that blocks Accept (netutil.LimitListener) protects the descriptors but lets the
// clients holding the slots starve everyone else until their idle timeout. This one admits
// every new connection and, at the limit, closes another one to make room: the oldest idle
// keep-alive connection, else the oldest connection still waiting for its first request (a
// slow or silent client), else, when every slot serves a request, the new connection itself.
// A scraper therefore always gets through idle and silent clients, and no more than the limit
// stay open. It works on the connections the server sees (TLS ones included), as the
// server's ConnState hook.
type connLimiter struct {
	max int

	mu    sync.Mutex
	seq   uint64
	conns map[net.Conn]connEntry
	// changed, if set, receives a value (without blocking) after each transition (tests).
	changed chan struct{}
}

// connEntry is a tracked connection's state and when it entered it (a sequence number).
type connEntry struct {
	state http.ConnState
	since uint64
}

func newConnLimiter(maxConns int) *connLimiter {
	return &connLimiter{max: maxConns, conns: make(map[net.Conn]connEntry)}
}

// track is the server's ConnState hook.
func (l *connLimiter) track(c net.Conn, s http.ConnState) {
	var victim net.Conn
	l.mu.Lock()
	l.seq++
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	case http.StateNew:
		if len(l.conns) >= l.max {
			victim = l.victimLocked()
			if victim == nil {
				victim = c
			}
			delete(l.conns, victim)
		}
		if victim != c {
			l.conns[c] = connEntry{state: s, since: l.seq}
		}
	default:
		if _, ok := l.conns[c]; ok {
			l.conns[c] = connEntry{state: s, since: l.seq}
		}
	}
	changed := l.changed
	l.mu.Unlock()
	if victim != nil {
		_ = victim.Close()
	}
	if changed != nil {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
}

// victimLocked picks the connection to close: the oldest idle, else the oldest new one.
func (l *connLimiter) victimLocked() net.Conn {
	var idle, fresh net.Conn
	var idleSince, freshSince uint64
	for c, e := range l.conns {
		switch e.state {
		case http.StateIdle:
			if idle == nil || e.since < idleSince {
				idle, idleSince = c, e.since
			}
		case http.StateNew:
			if fresh == nil || e.since < freshSince {
				fresh, freshSince = c, e.since
			}
		}
	}
	if idle != nil {
		return idle
	}
	return fresh
}

// open is the number of tracked connections.
func (l *connLimiter) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// count is the number of tracked connections in state s.
func (l *connLimiter) count(s http.ConnState) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.conns {
		if e.state == s {
			n++
		}
	}
	return n
}

// closeSilent closes the connections that have not sent a request yet: at shutdown they would
// otherwise hold http.Server.Shutdown for 5 s (it waits that long before it counts them idle),
// and closing them loses no request.
func (l *connLimiter) closeSilent() {
	l.mu.Lock()
	var silent []net.Conn
	for c, e := range l.conns {
		if e.state == http.StateNew {
			silent = append(silent, c)
			delete(l.conns, c)
		}
	}
	l.mu.Unlock()
	for _, c := range silent {
		_ = c.Close()
	}
}
