package aggregate

import (
	"strings"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Dimension is an opt-in record field that splits the network families (NetworkCounts).
type Dimension uint8

// Dimensions, in label order.
const (
	DimAccount Dimension = iota // account-id
	DimVPC                      // vpc-id
	DimSubnet                   // subnet-id
	DimAZ                       // az-id
	numDims
)

var dimNames = [numDims]string{"account_id", "vpc_id", "subnet_id", "az_id"}
var dimFields = [numDims]parse.Field{parse.FieldAccountID, parse.FieldVPCID, parse.FieldSubnetID, parse.FieldAZID}

// String returns the dimension's label name: account_id, vpc_id, subnet_id, az_id.
func (d Dimension) String() string {
	if d < numDims {
		return dimNames[d]
	}
	return "unknown"
}

// Field returns the flow log field the dimension reads.
func (d Dimension) Field() parse.Field { return dimFields[d] }

// DimensionByName returns the dimension of a label name (account_id, vpc_id, subnet_id, az_id),
// also accepting the flow log field name (account-id, ...).
func DimensionByName(name string) (Dimension, bool) {
	n := strings.ReplaceAll(name, "-", "_")
	for d, s := range dimNames {
		if s == n {
			return Dimension(d), true
		}
	}
	return 0, false
}

// Dimensions lists every dimension.
func Dimensions() []Dimension { return []Dimension{DimAccount, DimVPC, DimSubnet, DimAZ} }

// value returns r's value of d ("" when absent or "-").
func (d Dimension) value(r *parse.Record) string {
	if !r.Present.Has(dimFields[d]) {
		return ""
	}
	switch d {
	case DimAccount:
		return r.AccountID
	case DimVPC:
		return r.VPCID
	case DimSubnet:
		return r.SubnetID
	default:
		return r.AZID
	}
}

// dimKey is a network key: the value index of each enabled dimension (ifaceNone for a record
// without the field, -1 for a dimension that is off).
type dimKey struct {
	vals [numDims]int32
}

// dimTables are the value tables of the enabled dimensions and the table of their combinations.
// Each value table is capped (MaxDimensionValues, fold into "other"); combinations are capped
// too (MaxNetworkKeys): a new combination past it is counted under every dimension "other".
type dimTables struct {
	on     [numDims]bool
	vals   [numDims]ifaceTable // reuses the interface id table: "other" and "-" keys, a cap, a fold count
	index  map[dimKey]int32
	keys   []dimKey
	counts []byDirection
	limit  int
	fold   foldCounter
	last   dimKey
	lastI  int32 // index+1 of last, 0: none
}

func newDimTables(cfg Config) dimTables {
	t := dimTables{index: make(map[dimKey]int32), limit: cfg.MaxNetworkKeys}
	for _, d := range cfg.Dimensions {
		t.on[d] = true
	}
	for d := range t.vals {
		if t.on[d] {
			t.vals[d] = newIfaceTable(cfg.MaxDimensionValues)
		}
	}
	return t
}

// enabled reports whether any dimension is on.
func (t *dimTables) enabled() bool { return t.on != [numDims]bool{} }

// otherKey is the combination every folded one is counted under.
func (t *dimTables) otherKey() dimKey {
	var k dimKey
	for d := range k.vals {
		k.vals[d] = -1
		if t.on[d] {
			k.vals[d] = ifaceOther
		}
	}
	return k
}

// lookup returns the counts of r's combination and its index.
func (t *dimTables) lookup(r *parse.Record) (*byDirection, int32) {
	var k dimKey
	for d := range k.vals {
		k.vals[d] = -1
		if t.on[d] {
			k.vals[d] = t.vals[d].lookup(Dimension(d).value(r))
		}
	}
	if t.lastI != 0 && t.last == k {
		return &t.counts[t.lastI-1], t.lastI - 1
	}
	i, ok := t.index[k]
	if !ok {
		if len(t.keys) >= t.limit {
			t.fold.add(mix64(uint64(k.vals[0])<<48 ^ uint64(k.vals[1])<<32 ^ uint64(k.vals[2])<<16 ^ uint64(k.vals[3])))
			k = t.otherKey()
			if i, ok = t.index[k]; !ok {
				i = t.add(k)
			}
		} else {
			i = t.add(k)
		}
	}
	t.last, t.lastI = k, i+1
	return &t.counts[i], i
}

// add appends key k (outside the cap check) and returns its index.
func (t *dimTables) add(k dimKey) int32 {
	i := int32(len(t.keys))
	t.index[k] = i
	t.keys = append(t.keys, k)
	t.counts = append(t.counts, byDirection{})
	return i
}

// ifaceInfo is what the records say about an interface, for the interface info family.
type ifaceInfo struct {
	account, vpc, subnet, az, instance, ifType string
	lastSeen                                   int64 // clock time, Unix seconds; 0: never
}

// setString sets *dst to v when r has field f with a value (not "-"), copying v only when it
// changed: the record's strings point into a line that is reused. It reports whether the
// record agreed with *dst (same value, or no value and *dst empty).
func setString(dst *string, r *parse.Record, f parse.Field, v string) bool {
	if !r.Present.Has(f) || v == "-" {
		return *dst == ""
	}
	if *dst != v {
		*dst = strings.Clone(v)
		return false
	}
	return true
}

// learn updates the info from r and reports whether r agreed with what it held (then the
// interface's cached network key still applies).
func (in *ifaceInfo) learn(r *parse.Record, now int64) bool {
	in.lastSeen = now
	same := setString(&in.account, r, parse.FieldAccountID, r.AccountID)
	same = setString(&in.vpc, r, parse.FieldVPCID, r.VPCID) && same
	same = setString(&in.subnet, r, parse.FieldSubnetID, r.SubnetID) && same
	same = setString(&in.az, r, parse.FieldAZID, r.AZID) && same
	setString(&in.instance, r, parse.FieldInstanceID, r.InstanceID)
	setString(&in.ifType, r, parse.FieldInterfaceType, r.InterfaceType) // version 11
	return same
}

// Leg is the side of a connection a flow record is, from service-port attribution.
type Leg uint8

// Legs.
const (
	LegUnknown Leg = iota // no ports, or both ports equal
	LegRequest            // client to server: the service port is the destination port
	LegReply              // server to client: the service port is the source port
	numLegs
)

var legNames = [numLegs]string{"unknown", "request", "reply"}

// String returns the leg label: unknown, request, reply.
func (l Leg) String() string {
	if l < numLegs {
		return legNames[l]
	}
	return "unknown"
}

// legOf returns the leg of r whose service port is port.
func legOf(r *parse.Record, port uint16) Leg {
	if !hasPorts(r.Protocol) || r.SrcPort == r.DstPort {
		return LegUnknown
	}
	switch port {
	case r.DstPort:
		return LegRequest
	case r.SrcPort:
		return LegReply
	}
	return LegUnknown
}

// rejectKey is a rejected-flows key: interface index, port index and leg.
type rejectKey struct {
	iface, port int32
	leg         Leg
}

// rejectTable counts rejected flows by (interface, service port, leg), capped at
// MaxInterfacePorts keys; past it a new key is counted under ("other" interface, its protocol's
// "other" port, its leg).
type rejectTable struct {
	index  map[rejectKey]int32
	keys   []rejectKey
	counts []Counts
	limit  int
	fold   foldCounter
}

func newRejectTable(limit int) rejectTable {
	return rejectTable{index: make(map[rejectKey]int32), limit: limit}
}

// lookup returns the counts of k; other is the key to count under past the cap.
func (t *rejectTable) lookup(k rejectKey, other func() rejectKey) *Counts {
	i, ok := t.index[k]
	if !ok {
		if len(t.keys) >= t.limit {
			t.fold.add(mix64(uint64(k.iface)<<34 ^ uint64(k.port)<<2 ^ uint64(k.leg)))
			k = other()
			if i, ok = t.index[k]; !ok {
				i = t.add(k)
			}
		} else {
			i = t.add(k)
		}
	}
	return &t.counts[i]
}

func (t *rejectTable) add(k rejectKey) int32 {
	i := int32(len(t.keys))
	t.index[k] = i
	t.keys = append(t.keys, k)
	t.counts = append(t.counts, Counts{})
	return i
}
