package aggregate

import "strings"

// Labels of the keys that are not a real interface id.
const (
	// OtherInterface is the interface id of the records whose interface came after the cap.
	OtherInterface = "other"
	// NoInterface is the interface id of records without one (a format without interface-id,
	// or a regional NAT gateway's "-").
	NoInterface = "-"
)

// Fixed indexes in the interface table.
const (
	ifaceOther = 0
	ifaceNone  = 1
	ifaceFirst = 2 // first interned interface id
)

// ifaceTable interns interface ids into dense indexes. A new id is copied once, when it gets its
// index; past the cap it is not copied at all and maps to ifaceOther, and the fold is counted.
//
// Its hash table is keyed by the id's bytes read as three 64-bit words: an id of up to 24 bytes
// ("eni-" and 17 hex digits is 21) is fully described by its length and the words at offsets 0,
// 8 and len-8, so that finding it costs three loads, a multiply-mix and three word compares,
// with no string hashing or memequal call. Longer ids store a digest in the third word and are
// compared as strings after the words match.
type ifaceTable struct {
	slots []ifaceSlot // open addressing, linear probing, load ≤ 1/2; grows with the ids
	used  int         // interned ids
	ids   []string    // by index
	limit int         // interned ids allowed, not counting the two fixed keys
	fold  foldCounter
	// last is a one-entry cache: CloudWatch Logs delivers one log stream per interface, so a batch
	// usually repeats the same interface id many times.
	last ifaceSlot
}

// ifaceSlot is an interned id's words and length, and its index+1 (0: empty slot).
type ifaceSlot struct {
	w    idWords
	idx1 int32
	n    int32
}

// idWords is an id's bytes as words (see ifaceTable).
type idWords [3]uint64

// maxWordsID is the longest id that its words describe exactly.
const maxWordsID = 24

func newIfaceTable(limit int) ifaceTable {
	return ifaceTable{
		slots: make([]ifaceSlot, 64),
		ids:   []string{OtherInterface, NoInterface},
		limit: limit,
	}
}

// words returns id's words: exact up to maxWordsID bytes, a digest in the third word beyond.
func words(id string) idWords {
	n := len(id)
	switch {
	case n >= 16 && n <= maxWordsID:
		return idWords{load64(id, 0), load64(id, 8), load64(id, n-8)}
	case n > maxWordsID:
		return idWords{load64(id, 0), load64(id, 8), hashString(id)}
	case n >= 8:
		return idWords{load64(id, 0), load64(id, n-8), 0}
	}
	var w uint64
	for i := 0; i < n; i++ {
		w |= uint64(id[i]) << (8 * i)
	}
	return idWords{w, 0, 0}
}

// load64 reads 8 bytes of s from i, little-endian (the compiler makes it one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func (w *idWords) hash(n int) uint64 {
	return mix64(w[0]*m1 ^ w[1]*m2 ^ w[2]*m3 ^ uint64(n))
}

// find returns the slot of id (whose words are w), or the empty slot where it would go.
func (t *ifaceTable) find(id string, w *idWords) *ifaceSlot {
	mask := uint64(len(t.slots) - 1)
	n := int32(len(id))
	for i := w.hash(len(id)) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.idx1 == 0 || (s.w == *w && s.n == n && (n <= maxWordsID || t.ids[s.idx1-1] == id)) {
			return s
		}
	}
}

// lookup returns the index of id ("" for none), interning it if the cap allows.
func (t *ifaceTable) lookup(id string) int32 {
	w := words(id)
	n := int32(len(id))
	if t.last.idx1 != 0 && t.last.w == w && t.last.n == n && (n <= maxWordsID || t.ids[t.last.idx1-1] == id) {
		return t.last.idx1 - 1
	}
	switch id {
	case "", NoInterface:
		return ifaceNone
	case OtherInterface:
		// A record naming "other" counts under the "other" key: a key of its own would be a
		// second series with the same label and could not be restored.
		return ifaceOther
	}
	s := t.find(id, &w)
	if s.idx1 == 0 {
		if t.used >= t.limit {
			t.fold.add(hashString(id))
			return ifaceOther
		}
		s = t.insert(strings.Clone(id), w)
	}
	t.last = *s
	return s.idx1 - 1
}

// insert interns id (owned by the table, not yet in it) with words w and returns its slot.
func (t *ifaceTable) insert(id string, w idWords) *ifaceSlot {
	if 2*(t.used+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]ifaceSlot, 2*len(old))
		for i := range old {
			if old[i].idx1 != 0 {
				*t.find(t.ids[old[i].idx1-1], &old[i].w) = old[i]
			}
		}
	}
	s := t.find(id, &w)
	t.ids = append(t.ids, id)
	t.used++
	*s = ifaceSlot{w: w, idx1: int32(len(t.ids)), n: int32(len(id))}
	return s
}

// intern adds id as the next index (restoring a checkpoint, past the cap if need be); it reports
// false if id is already interned.
func (t *ifaceTable) intern(id string) bool {
	w := words(id)
	if t.find(id, &w).idx1 != 0 {
		return false
	}
	t.insert(id, w)
	return true
}

// Port keys pack the protocol and the port into a uint32; keyOther marks a protocol's "other".
const keyOther = 1 << 24

func portKey(proto uint8, port uint16) uint32 { return uint32(proto)<<16 | uint32(port) }

// portTable interns (protocol, service port) keys into dense indexes, with one "other" key per
// protocol for the keys past the cap. TCP and UDP, nearly all the traffic, are looked up in flat
// arrays; the other protocols in a map.
type portTable struct {
	tcp, udp []int32 // by port: index+1, 0 when not interned (256 KiB each)
	index    map[uint32]int32
	keys     []uint32 // by index
	limit    int
	interned int // keys counted against limit (not the "other" keys, not the reject-only ones)
	fold     foldCounter

	// The governor: a port key first seen with only rejected traffic takes a slot of its own
	// budget (rejectLimit), so that a scan of many ports cannot take the series of the ports
	// that carry accepted traffic. rejectOnly marks those keys (by index); one that later sees
	// accepted traffic moves to the main budget when it has room.
	rejectLimit int
	rejectUsed  int
	rejectOnly  []bool
}

func newPortTable(limit, rejectLimit int) portTable {
	return portTable{
		tcp:         make([]int32, 65536),
		udp:         make([]int32, 65536),
		index:       make(map[uint32]int32),
		limit:       limit,
		rejectLimit: rejectLimit,
	}
}

// lookupAction returns the index of (proto, port) for a record of the action: accepted traffic
// interns under MaxPorts, rejected traffic of a port without a key under MaxRejectOnlyPorts.
func (t *portTable) lookupAction(proto uint8, port uint16, accept bool) int32 {
	if accept {
		i := t.lookup(proto, port)
		if t.rejectUsed != 0 && t.rejectOnly[i] && t.interned < t.limit {
			t.rejectOnly[i] = false
			t.rejectUsed--
			t.interned++
		}
		return i
	}
	var flat []int32
	switch proto {
	case protoTCP:
		flat = t.tcp
	case protoUDP:
		flat = t.udp
	}
	if flat != nil {
		if i := flat[port]; i != 0 {
			return i - 1
		}
	} else if i, ok := t.index[portKey(proto, port)]; ok {
		return i
	}
	k := portKey(proto, port)
	if t.rejectUsed >= t.rejectLimit {
		t.fold.add(mix64(uint64(k)))
		return t.other(proto)
	}
	t.rejectUsed++
	idx := t.add(k)
	t.rejectOnly[idx] = true
	return idx
}

// lookup returns the index of (proto, port), interning it if the cap allows.
func (t *portTable) lookup(proto uint8, port uint16) int32 {
	var flat []int32
	switch proto {
	case protoTCP:
		flat = t.tcp
	case protoUDP:
		flat = t.udp
	}
	if flat != nil {
		if i := flat[port]; i != 0 {
			return i - 1
		}
	}
	k := portKey(proto, port)
	if flat == nil {
		if i, ok := t.index[k]; ok {
			return i
		}
	}
	if t.interned >= t.limit {
		t.fold.add(mix64(uint64(k)))
		return t.other(proto)
	}
	t.interned++
	idx := t.add(k)
	if flat != nil {
		flat[port] = idx + 1
	}
	return idx
}

// other returns the index of proto's "other" key, creating it (outside the cap: at most 256).
func (t *portTable) other(proto uint8) int32 {
	k := uint32(proto)<<16 | keyOther
	if i, ok := t.index[k]; ok {
		return i
	}
	return t.add(k)
}

// add appends key k to the table (the caller checked the cap) and returns its index.
func (t *portTable) add(k uint32) int32 {
	idx := int32(len(t.keys))
	t.keys = append(t.keys, k)
	t.rejectOnly = append(t.rejectOnly, false)
	proto, port := uint8(k>>16), uint16(k)
	switch {
	case k&keyOther == 0 && proto == protoTCP:
		t.tcp[port] = idx + 1
	case k&keyOther == 0 && proto == protoUDP:
		t.udp[port] = idx + 1
	default:
		t.index[k] = idx
	}
	return idx
}

// mix64 is the SplitMix64 finalizer: a fast, well-spread hash of an integer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashString is FNV-1a, finalized by mix64. It is unseeded on purpose: the fold sketch it feeds
// is checkpointed, and a key must hash the same after a restart to be counted once.
func hashString(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return mix64(h)
}
