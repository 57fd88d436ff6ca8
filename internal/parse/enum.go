package parse

// String returns the value as AWS writes it: "ACCEPT", "REJECT", or "-" for ActionNone and
// unknown values.
func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "ACCEPT"
	case ActionReject:
		return "REJECT"
	}
	return "-"
}

// String returns the value as AWS writes it: "OK", "NODATA", "SKIPDATA", or "-".
func (s LogStatus) String() string {
	switch s {
	case LogStatusOK:
		return "OK"
	case LogStatusNoData:
		return "NODATA"
	case LogStatusSkipData:
		return "SKIPDATA"
	}
	return "-"
}

// String returns the value as AWS writes it: "ingress", "egress", or "-".
func (d FlowDirection) String() string {
	switch d {
	case FlowDirectionIngress:
		return "ingress"
	case FlowDirectionEgress:
		return "egress"
	}
	return "-"
}

// String returns the value as AWS writes it: "IPv4", "IPv6", "EFA", or "-".
func (t TrafficType) String() string {
	switch t {
	case TrafficTypeIPv4:
		return "IPv4"
	case TrafficTypeIPv6:
		return "IPv6"
	case TrafficTypeEFA:
		return "EFA"
	}
	return "-"
}

// String returns the value as AWS writes it: "TransitGateway", "TransitGatewayAttachment", or
// "-".
func (t ResourceType) String() string {
	switch t {
	case ResourceTypeTransitGateway:
		return "TransitGateway"
	case ResourceTypeTransitGatewayAttachment:
		return "TransitGatewayAttachment"
	}
	return "-"
}
