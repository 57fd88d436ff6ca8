package emulator

// op indexes the supported operations in fixed-size tables (limiters, faults, counters), so the
// request path looks nothing up in a map.
type op int

const (
	opCreateLogGroup op = iota
	opCreateLogStream
	opPutLogEvents
	opDescribeLogGroups
	opDescribeLogStreams
	opFilterLogEvents
	opGetLogEvents
	opPutSubscriptionFilter
	opDescribeSubscriptionFilters
	opDeleteSubscriptionFilter
	numOps
)

var opNames = [numOps]string{
	opCreateLogGroup:     OpCreateLogGroup,
	opCreateLogStream:    OpCreateLogStream,
	opPutLogEvents:       OpPutLogEvents,
	opDescribeLogGroups:  OpDescribeLogGroups,
	opDescribeLogStreams: OpDescribeLogStreams,
	opFilterLogEvents:    OpFilterLogEvents,
	opGetLogEvents:       OpGetLogEvents,

	opPutSubscriptionFilter:       OpPutSubscriptionFilter,
	opDescribeSubscriptionFilters: OpDescribeSubscriptionFilters,
	opDeleteSubscriptionFilter:    OpDeleteSubscriptionFilter,
}

func (o op) String() string { return opNames[o] }

func opByName(name string) (op, bool) {
	for i, n := range opNames {
		if n == name {
			return op(i), true
		}
	}
	return 0, false
}

// Operations returns the names of the operations the emulator serves.
func Operations() []string {
	return append([]string(nil), opNames[:]...)
}
