package aggregate

import "github.com/flowd-dev/flowd/internal/parse"

// Counts are flows (records), packets and bytes.
type Counts struct {
	Flows   uint64
	Packets uint64
	Bytes   uint64
}

// add counts one flow record. Sums saturate at 2^64-1 instead of wrapping (parse accepts
// counts up to 2^63-1, so two records could otherwise wrap a sum to near zero): a saturated
// counter is visibly wrong, a wrapped one is silently wrong and looks like a reset to rate().
func (c *Counts) add(packets, bytes uint64) {
	c.Flows++
	c.Packets = satAdd(c.Packets, packets)
	c.Bytes = satAdd(c.Bytes, bytes)
}

// plus adds o to c, saturating like add.
func (c *Counts) plus(o Counts) {
	c.Flows = satAdd(c.Flows, o.Flows)
	c.Packets = satAdd(c.Packets, o.Packets)
	c.Bytes = satAdd(c.Bytes, o.Bytes)
}

func (c Counts) isZero() bool { return c == Counts{} }

// byAction holds Counts for ACCEPT (index 0) and REJECT (index 1).
type byAction [2]Counts

// actionIndex maps a counted action to its byAction index.
func actionIndex(a parse.Action) int { return int(a) - int(parse.ActionAccept) }

// actions lists the counted actions in byAction order.
var actions = [2]parse.Action{parse.ActionAccept, parse.ActionReject}

// Reason says why a record with log-status OK could not be counted as a flow.
type Reason uint8

// Reasons a record is not counted. Records are never guessed into a key.
const (
	ReasonNoAction   Reason = iota // action is "-" or the format has no action field
	ReasonNoPackets                // packets is "-" or absent
	ReasonNoBytes                  // bytes is "-" or absent
	ReasonNoProtocol               // protocol is "-" or absent
	ReasonNoPort                   // a port-bearing protocol without srcport or dstport
	numReasons
)

var reasonNames = [numReasons]string{"no_action", "no_packets", "no_bytes", "no_protocol", "no_port"}

// String returns the reason's stable label.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}
