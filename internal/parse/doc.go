// Package parse reads Amazon VPC Flow Log records: one line of text in, one typed Record (or a
// typed error) out. It is pure: no goroutines, logging, metrics or AWS calls.
//
// # Formats
//
// A flow log's format is the ordered list of its fields, compiled once with Compile from any of
// its spellings: the EC2 API's `${version} ${srcaddr} ...`, Terraform's `$${version} ...`, or the
// bare names of an S3 file's header line (`version srcaddr ...`, with "_" accepted for "-").
// DefaultFormat is the version 2 default and TransitGatewayDefaultFormat a transit gateway flow
// log's. Every field of the AWS references (VPC flow logs versions 2 to 11, transit gateway flow
// logs) is known; field names flowd does not know (later versions, misspellings) are kept as
// opaque columns: Format.Opaque names them, Record.Opaque holds their values, and
// Format.Warnings (or Lint) names each with the nearest known field. A Matcher
// picks among several formats by field count, the only way to tell records of different flow
// logs apart when they share a log group.
//
// # Fields
//
// The known fields and the Record members they fill (docs/formats.md has the values):
//
//	version                          Version         uint8
//	srcport dstport                  SrcPort DstPort uint16
//	protocol tcp-flags traffic-path  uint8
//	packets bytes                    uint64, at most 2^63-1 (AWS's type is signed)
//	packets-lost-* (4, transit gateway)  uint64, likewise
//	encryption-status                EncryptionStatus: 0 to 3 (a larger digit is kept)
//	resource-type                    ResourceType: TransitGateway, TransitGatewayAttachment
//	start end                        int64, Unix seconds
//	srcaddr dstaddr                  netip.Addr (IPv4 or IPv6, no zone)
//	pkt-srcaddr pkt-dstaddr          netip.Addr
//	action                           Action: ACCEPT, REJECT
//	log-status                       LogStatus: OK, NODATA, SKIPDATA
//	type                             TrafficType: IPv4, IPv6, EFA
//	flow-direction                   FlowDirection: ingress, egress
//	account-id interface-id vpc-id subnet-id instance-id region az-id
//	sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service
//	ecs-* (10 fields) reject-reason  string, as written
//	resource-id, the v11 tags (6), interface-type, next-hop-* (5)  string, as written
//	tgw-* (13 fields)                string, as written
//
// Any field may be "-": it is then absent from Record.Present and its member is zero. NODATA
// and SKIPDATA records parse without error; Record.LogStatus says which they are. Open value
// sets (account-id's "unknown", pkt-*-aws-service codes, sublocation-type) are kept as strings
// and never rejected.
//
// # Lines
//
// Fields are separated by runs of ASCII whitespace (space, \t, \n, \v, \f, \r): AWS writes single
// spaces, but one documented example has a double space, and files may end lines in \r\n.
// Leading and trailing whitespace are ignored.
//
// # Lifetime of strings
//
// Format.Parse allocates nothing: the string members of a Record, and Record.Opaque, are
// slices of the line given to Parse. They are valid as long as the line is, and the next Parse
// into the same Record overwrites them (Opaque's backing array is reused). Copy what you keep
// (strings.Clone) if the line's memory is reused, for instance when it was made from a reused
// []byte without copying.
//
// # Errors
//
// A line that does not fit its format gets an *Error naming the field, its 1-based column and the
// value (copied and cut to 64 bytes, so a huge line costs a small error). Error.Reason is a
// stable metric label:
//
//	field_count   more or fewer fields than the format (reported even if a value is also bad)
//	bad_number    a numeric field that is not plain ASCII digits
//	out_of_range  a number too large for its field (ports > 65535, protocol > 255, ...)
//	bad_address   not an IPv4 or IPv6 address, or one with a zone
//	bad_enum      an unknown action, log-status, type or flow-direction
//
// A format string that is empty, names a field twice or holds text that is not a field gets a
// *FormatError naming the token and its position.
//
// Format.Append writes a Record back in a format (absent fields as "-"); Parse and Append are
// inverses, which the fuzz test FuzzParseLine checks.
package parse
