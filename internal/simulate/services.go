package simulate

import "net/netip"

// AWSServicePrefix is a block of an AWS service's public range that the simulated VPC calls.
type AWSServicePrefix struct {
	Service string // the pkt-*-aws-service value, also the "service" of AWS's ip-ranges.json
	Prefix  netip.Prefix
}

// AWSServicePrefixes lists the AWS service blocks the simulator draws destinations from, so
// that a test or the demo can write an ip-ranges.json that classifies them.
func AWSServicePrefixes() []AWSServicePrefix {
	out := make([]AWSServicePrefix, len(awsServices))
	for i, s := range awsServices {
		out[i] = AWSServicePrefix{
			Service: s.name,
			Prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{s.prefix[0], s.prefix[1], s.prefix[2], 0}), 24),
		}
	}
	return out
}
