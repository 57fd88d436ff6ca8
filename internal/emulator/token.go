package emulator

import (
	"encoding/base64"
	"encoding/binary"
)

// Tokens are opaque to clients but carry everything needed to resume: a read position in the key
// order (timestamp, ingestion time, put sequence), never an index, so a page boundary stays exact
// however many events are added or expired between calls. A MAC over the bytes (seeded by the
// server's secret) turns any damaged or foreign token into InvalidParameterException.

const tokenLifetimeMs = 24 * 60 * 60 * 1000 // AWS: nextToken expires after 24 hours

// filterToken is the state a FilterLogEvents nextToken carries.
type filterToken struct {
	hasPos bool   // false: nothing examined yet, resume at startTime
	pos    key    // the last event examined; the next page starts after it
	query  uint64 // fingerprint of the request parameters the token belongs to
	issued int64  // ms, for the 24 h expiry
	nonce  uint32 // makes every token distinct, so a client's StopOnDuplicateToken never fires on an empty page
}

const filterTokenLen = 1 + 8*3 + 8 + 8 + 4

func (s *Server) encodeFilterToken(t filterToken) string {
	var b [filterTokenLen + 8]byte
	if t.hasPos {
		b[0] = 1
	}
	binary.BigEndian.PutUint64(b[1:], uint64(t.pos.ts))
	binary.BigEndian.PutUint64(b[9:], uint64(t.pos.ingest))
	binary.BigEndian.PutUint64(b[17:], t.pos.seq)
	binary.BigEndian.PutUint64(b[25:], t.query)
	binary.BigEndian.PutUint64(b[33:], uint64(t.issued))
	binary.BigEndian.PutUint32(b[41:], t.nonce)
	binary.BigEndian.PutUint64(b[filterTokenLen:], s.mac(b[:filterTokenLen]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeFilterToken checks the token's integrity, its query and its age.
func (s *Server) decodeFilterToken(tok string, query uint64, nowMs int64) (filterToken, *APIError) {
	var b [filterTokenLen + 8]byte
	n, err := base64.RawURLEncoding.Decode(b[:], []byte(tok))
	if err != nil || n != len(b) || b[0] > 1 ||
		binary.BigEndian.Uint64(b[filterTokenLen:]) != s.mac(b[:filterTokenLen]) {
		return filterToken{}, invalidToken()
	}
	t := filterToken{
		hasPos: b[0] == 1,
		pos: key{
			ts:     int64(binary.BigEndian.Uint64(b[1:])),
			ingest: int64(binary.BigEndian.Uint64(b[9:])),
			seq:    binary.BigEndian.Uint64(b[17:]),
		},
		query:  binary.BigEndian.Uint64(b[25:]),
		issued: int64(binary.BigEndian.Uint64(b[33:])),
		nonce:  binary.BigEndian.Uint32(b[41:]),
	}
	if t.query != query {
		return filterToken{}, invalidParam("The specified nextToken does not belong to this request's parameters.")
	}
	if nowMs-t.issued > tokenLifetimeMs {
		return filterToken{}, expiredToken()
	}
	return t, nil
}

// streamToken is a GetLogEvents nextForwardToken ("f/...") or nextBackwardToken ("b/..."). It is
// deterministic (no nonce): at the end of a stream AWS hands back the very token it was given,
// and clients stop on that.
type streamToken struct {
	forward bool
	pos     key    // forward: events after pos; backward: events before pos
	stream  uint64 // fingerprint of group and stream
	issued  int64
}

const streamTokenLen = 8*3 + 8 + 8

func (s *Server) encodeStreamToken(t streamToken) string {
	var b [streamTokenLen + 8]byte
	binary.BigEndian.PutUint64(b[0:], uint64(t.pos.ts))
	binary.BigEndian.PutUint64(b[8:], uint64(t.pos.ingest))
	binary.BigEndian.PutUint64(b[16:], t.pos.seq)
	binary.BigEndian.PutUint64(b[24:], t.stream)
	// The issue time is rounded to the hour so that repeating a request yields the same token.
	binary.BigEndian.PutUint64(b[32:], uint64(t.issued/3600000))
	dir := byte('b')
	if t.forward {
		dir = 'f'
	}
	binary.BigEndian.PutUint64(b[streamTokenLen:], s.mac(append(b[:streamTokenLen:streamTokenLen], dir)))
	return string(dir) + "/" + base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) decodeStreamToken(tok string, streamFP uint64, nowMs int64) (streamToken, *APIError) {
	if len(tok) < 3 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' {
		return streamToken{}, invalidToken()
	}
	var b [streamTokenLen + 8]byte
	n, err := base64.RawURLEncoding.Decode(b[:], []byte(tok[2:]))
	if err != nil || n != len(b) ||
		binary.BigEndian.Uint64(b[streamTokenLen:]) != s.mac(append(b[:streamTokenLen:streamTokenLen], tok[0])) {
		return streamToken{}, invalidToken()
	}
	t := streamToken{
		forward: tok[0] == 'f',
		pos: key{
			ts:     int64(binary.BigEndian.Uint64(b[0:])),
			ingest: int64(binary.BigEndian.Uint64(b[8:])),
			seq:    binary.BigEndian.Uint64(b[16:]),
		},
		stream: binary.BigEndian.Uint64(b[24:]),
		issued: int64(binary.BigEndian.Uint64(b[32:])) * 3600000,
	}
	if t.stream != streamFP {
		return streamToken{}, invalidParam("The specified nextToken does not belong to this log stream.")
	}
	if nowMs-t.issued > tokenLifetimeMs+3600000 {
		return streamToken{}, expiredToken()
	}
	return t, nil
}

// nameToken is a DescribeLogGroups/DescribeLogStreams nextToken: the sort key of the last item
// returned, so paging resumes correctly when items are created between calls.
func (s *Server) encodeNameToken(kind byte, sortKey int64, name string, query uint64) string {
	b := make([]byte, 0, 1+8+8+len(name)+8)
	b = append(b, kind)
	b = binary.BigEndian.AppendUint64(b, uint64(sortKey))
	b = binary.BigEndian.AppendUint64(b, query)
	b = append(b, name...)
	b = binary.BigEndian.AppendUint64(b, s.mac(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) decodeNameToken(tok string, kind byte, query uint64) (sortKey int64, name string, apiErr *APIError) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 1+8+8+8 || b[0] != kind {
		return 0, "", invalidToken()
	}
	body, sum := b[:len(b)-8], binary.BigEndian.Uint64(b[len(b)-8:])
	if s.mac(body) != sum {
		return 0, "", invalidToken()
	}
	if binary.BigEndian.Uint64(body[9:]) != query {
		return 0, "", invalidParam("The specified nextToken does not belong to this request's parameters.")
	}
	return int64(binary.BigEndian.Uint64(body[1:])), string(body[17:]), nil
}

// mac is FNV-1a over the server secret and b: not cryptographic, it only has to make accidental
// or hand-made tokens fail loudly.
func (s *Server) mac(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < 8; i++ {
		h ^= (s.secret >> (8 * i)) & 0xff
		h *= 1099511628211
	}
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return mix64(h)
}

// fingerprint hashes request parameters into a token's query field (FNV-1a with separators).
type fingerprint uint64

func newFingerprint() fingerprint { return 14695981039346656037 }

func (f fingerprint) str(v string) fingerprint {
	for i := 0; i < len(v); i++ {
		f ^= fingerprint(v[i])
		f *= 1099511628211
	}
	return f.sep()
}

func (f fingerprint) i64(v int64) fingerprint {
	for i := 0; i < 8; i++ {
		f ^= fingerprint(byte(v >> (8 * i)))
		f *= 1099511628211
	}
	return f.sep()
}

func (f fingerprint) sep() fingerprint {
	f ^= 0xff
	f *= 1099511628211
	return f
}
