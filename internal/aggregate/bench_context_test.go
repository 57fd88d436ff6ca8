package aggregate

import (
	"fmt"
	"testing"

	"github.com/flowd-dev/flowd/internal/parse"
)

// contextFormat is the default format plus the fields two dimensions read.
const contextFormat = parse.DefaultFormat + " ${vpc-id} ${subnet-id}"

// contextLines are benchLines in contextFormat: each interface in one of 3 VPCs and 12 subnets.
func contextLines(b *testing.B, n int) (*parse.Format, []string) {
	b.Helper()
	_, lines := benchLines(b, n)
	f, err := parse.Compile(contextFormat)
	if err != nil {
		b.Fatal(err)
	}
	def := parse.MustCompile(parse.DefaultFormat)
	var r parse.Record
	var buf []byte
	for i, l := range lines {
		if err := def.Parse(l, &r); err != nil {
			b.Fatal(err)
		}
		h := hashString(r.InterfaceID)
		r.Present = r.Present.With(parse.FieldVPCID).With(parse.FieldSubnetID)
		r.VPCID = fmt.Sprintf("vpc-%017x", h%3)
		r.SubnetID = fmt.Sprintf("subnet-%017x", h%12)
		buf = f.Append(buf[:0], &r)
		lines[i] = string(buf)
	}
	return f, lines
}

// BenchmarkParseAggregateContext is BenchmarkParseAggregate on records with a VPC and a subnet,
// with the network context on: direction (inferred, the format has no flow-direction) and the
// vpc_id and subnet_id dimensions. benchContextConfig says what is on (the baseline of
// docs/performance.md runs the same lines with nothing on).
func BenchmarkParseAggregateContext(b *testing.B) {
	f, lines := contextLines(b, 1<<16)
	a, _ := newTestAggregator(b, benchContextConfig)
	benchParseAggregate(b, f, lines, a)
}
