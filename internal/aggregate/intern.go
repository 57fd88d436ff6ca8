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
type ifaceTable struct {
	index map[string]int32
	ids   []string // by index
	limit int      // interned ids allowed, not counting the two fixed keys
	fold  foldCounter
	// last is a one-entry cache: CloudWatch Logs delivers one log stream per interface, so a batch
	// usually repeats the same interface id many times.
	lastID  string
	lastIdx int32
}

func newIfaceTable(limit int) ifaceTable {
	t := ifaceTable{
		index:   make(map[string]int32, min(limit, 1024)),
		ids:     []string{OtherInterface, NoInterface},
		limit:   limit,
		lastIdx: -1,
	}
	return t
}

// lookup returns the index of id ("" for none), interning it if the cap allows.
func (t *ifaceTable) lookup(id string) int32 {
	if t.lastIdx >= 0 && id == t.lastID {
		return t.lastIdx
	}
	if id == "" || id == NoInterface {
		return ifaceNone
	}
	idx, ok := t.index[id]
	if !ok {
		if len(t.ids)-ifaceFirst >= t.limit {
			t.fold.add(hashString(id))
			return ifaceOther
		}
		owned := strings.Clone(id)
		idx = int32(len(t.ids))
		t.ids = append(t.ids, owned)
		t.index[owned] = idx
		id = owned
	}
	// Only an interned (owned) string may be cached: the caller's string dies with its line.
	t.lastID, t.lastIdx = t.ids[idx], idx
	return idx
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
	interned int // keys counted against limit (not the "other" keys)
	fold     foldCounter
}

func newPortTable(limit int) portTable {
	return portTable{
		tcp:   make([]int32, 65536),
		udp:   make([]int32, 65536),
		index: make(map[uint32]int32),
		limit: limit,
	}
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
