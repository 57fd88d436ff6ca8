package aggregate

import (
	"bytes"
	"encoding/gob"
	"net/netip"
	"reflect"
	"testing"

	"github.com/flowd-dev/flowd/internal/parse"
)

// FuzzAddStateRestore feeds records built from the fuzzer's bytes (every field, including the
// network context's, taking few distinct values so keys repeat and caps fold) to an aggregator
// with tight caps and every dimension on, then checks that it never panics, that its structures
// stay within the caps, and that a gob round trip of its State restores the same snapshot.
func FuzzAddStateRestore(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add(bytes.Repeat([]byte{0xff, 0x11, 0x06, 0x01}, 40))
	cfg := func(c *Config) {
		c.MaxPorts, c.MaxRejectOnlyPorts, c.MaxInterfaces = 4, 2, 3
		c.MaxDimensionValues, c.MaxNetworkKeys, c.MaxInterfacePorts = 2, 3, 4
		c.Dimensions = Dimensions()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _ := newTestAggregator(t, cfg)
		ids := []string{"", "-", "eni-a", "eni-b", "eni-c", "eni-d", "other"}
		vals := []string{"", "-", "x", "y", "z"}
		var recs []parse.Record
		for len(data) >= 8 {
			b := data[:8]
			data = data[8:]
			r := flow(ids[int(b[0])%len(ids)], netip.AddrFrom4([4]byte{10, 0, 0, b[1] % 4}), netip.AddrFrom4([4]byte{10, 0, 1, b[2] % 4}),
				uint16(b[3]%8)*1000, uint16(b[4]%8)*1000, []uint8{6, 17, 1, 47}[b[5]%4], uint64(b[6]), uint64(b[7]), t0.Unix()-int64(b[6]), parse.Action(1+b[7]%3))
			r.Present = r.Present.With(parse.FieldVPCID).With(parse.FieldSubnetID).With(parse.FieldAZID).With(parse.FieldInstanceID)
			r.VPCID, r.SubnetID, r.AZID, r.InstanceID = vals[b[1]%5], vals[b[2]%5], vals[b[3]%5], vals[b[4]%5]
			if b[5]&0x10 != 0 {
				r.Present = r.Present.With(parse.FieldFlowDirection)
				r.FlowDirection = parse.FlowDirection(b[6] % 3)
			}
			if b[5]&0x20 != 0 {
				r.LogStatus = parse.LogStatusNoData
			}
			recs = append(recs, r)
		}
		a.AddBatch(recs)
		checkBounds(t, a)
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(a.State()); err != nil {
			t.Fatal(err)
		}
		var st State
		if err := gob.NewDecoder(&buf).Decode(&st); err != nil {
			t.Fatal(err)
		}
		b, _ := newTestAggregator(t, cfg)
		if err := b.Restore(&st); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		sa, sb := a.Snapshot(), b.Snapshot()
		if !reflect.DeepEqual(sa.PortsByDirection, sb.PortsByDirection) || !reflect.DeepEqual(sa.Network, sb.Network) ||
			!reflect.DeepEqual(sa.Rejected, sb.Rejected) || !reflect.DeepEqual(sa.InterfaceInfo, sb.InterfaceInfo) ||
			!reflect.DeepEqual(sa.InterfacesByDirection, sb.InterfacesByDirection) || sa.RejectOnlyPortKeys != sb.RejectOnlyPortKeys {
			t.Fatalf("restored snapshot differs")
		}
	})
}
