package ec2emu

import (
	"net/netip"
	"strconv"
	"strings"
)

// fielder gives the values a resource has for a filter name; known is false for a name the
// action does not support (EC2 answers InvalidParameterValue "The filter 'x' is invalid").
type fielder func(name string) (values []string, known bool)

// matches reports whether a resource passes every filter: filters AND together, the values of
// one filter OR together, and values may use EC2's wildcards (* any run, ? one character).
func matches(fs []filter, field fielder) (bool, *APIError) {
	for _, f := range fs {
		have, known := field(f.name)
		if !known {
			return false, invalidValue("The filter '%s' is invalid", f.name)
		}
		if !anyMatch(f.values, have) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			if wildcard(p, h) {
				return true
			}
		}
	}
	return false
}

// wildcard matches s against p where * matches any run and ? one byte; \ escapes either.
func wildcard(p, s string) bool {
	// Iterative matching with one backtrack point, linear for patterns of a single *.
	var star, mark = -1, 0
	i, j := 0, 0
	for j < len(s) {
		if i < len(p) {
			c := p[i]
			switch {
			case c == '\\' && i+1 < len(p):
				if p[i+1] == s[j] {
					i += 2
					j++
					continue
				}
			case c == '?':
				i++
				j++
				continue
			case c == '*':
				star, mark = i, j
				i++
				continue
			case c == s[j]:
				i++
				j++
				continue
			}
		}
		if star < 0 {
			return false
		}
		i = star + 1
		mark++
		j = mark
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

// tagField answers tag:<key> and tag-key filters.
func tagField(tags []Tag, name string) ([]string, bool) {
	if key, ok := strings.CutPrefix(name, "tag:"); ok {
		var out []string
		for _, t := range tags {
			if t.Key == key {
				out = append(out, t.Value)
			}
		}
		return out, true
	}
	if name == "tag-key" {
		out := make([]string, len(tags))
		for i, t := range tags {
			out[i] = t.Key
		}
		return out, true
	}
	return nil, false
}

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func addrs(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		if a.IsValid() {
			out = append(out, a.String())
		}
	}
	return out
}

func (s *Server) flowLogField(f *FlowLog) fielder {
	return func(name string) ([]string, bool) {
		switch name {
		case "deliver-log-status":
			return one(orDefault(f.DeliverLogsStatus, "SUCCESS")), true
		case "log-destination-type":
			return one(orDefault(f.LogDestinationType, "cloud-watch-logs")), true
		case "flow-log-id":
			return one(f.ID), true
		case "log-group-name":
			return one(f.LogGroupName), true
		case "resource-id":
			return one(f.ResourceID), true
		case "traffic-type":
			return one(orDefault(f.TrafficType, "ALL")), true
		}
		return tagField(f.Tags, name)
	}
}

func (s *Server) interfaceField(n *NetworkInterface) fielder {
	return func(name string) ([]string, bool) {
		switch name {
		case "network-interface-id":
			return one(n.ID), true
		case "vpc-id":
			return one(n.VPCID), true
		case "subnet-id":
			return one(n.SubnetID), true
		case "availability-zone":
			return one(n.AvailabilityZone), true
		case "interface-type":
			return one(orDefault(n.InterfaceType, "interface")), true
		case "description":
			return []string{n.Description}, true
		case "requester-id":
			return one(n.RequesterID), true
		case "requester-managed":
			return []string{strconv.FormatBool(n.RequesterManaged)}, true
		case "status":
			return one(interfaceStatus(n)), true
		case "owner-id":
			return one(orDefault(n.OwnerID, s.cfg.AccountID)), true
		case "private-ip-address", "addresses.private-ip-address":
			return addrs(n.PrivateIPs), true
		case "ipv6-addresses.ipv6-address":
			return addrs(n.IPv6Addresses), true
		case "attachment.instance-id":
			if n.Attachment == nil {
				return nil, true
			}
			return one(n.Attachment.InstanceID), true
		case "attachment.status":
			if n.Attachment == nil {
				return nil, true
			}
			return one(orDefault(n.Attachment.Status, "attached")), true
		case "group-id":
			return n.SecurityGroups, true
		}
		return tagField(n.Tags, name)
	}
}

func (s *Server) subnetField(sn *Subnet) fielder {
	return func(name string) ([]string, bool) {
		switch name {
		case "subnet-id":
			return one(sn.ID), true
		case "vpc-id":
			return one(sn.VPCID), true
		case "cidr-block", "cidr":
			return one(prefixString(sn.CIDR)), true
		case "availability-zone":
			return one(sn.AvailabilityZone), true
		case "availability-zone-id":
			return one(sn.AZID), true
		case "owner-id":
			return one(orDefault(sn.OwnerID, s.cfg.AccountID)), true
		case "state":
			return []string{"available"}, true
		}
		return tagField(sn.Tags, name)
	}
}

func (s *Server) vpcField(v *VPC) fielder {
	return func(name string) ([]string, bool) {
		switch name {
		case "vpc-id":
			return one(v.ID), true
		case "cidr", "cidr-block-association.cidr-block":
			out := []string{prefixString(v.CIDR)}
			for _, p := range v.ExtraCIDR {
				out = append(out, p.String())
			}
			return out, true
		case "is-default":
			return []string{strconv.FormatBool(v.IsDefault)}, true
		case "owner-id":
			return one(orDefault(v.OwnerID, s.cfg.AccountID)), true
		case "state":
			return []string{"available"}, true
		}
		return tagField(v.Tags, name)
	}
}

func (s *Server) instanceField(in *Instance, enis []string) fielder {
	return func(name string) ([]string, bool) {
		switch name {
		case "instance-id":
			return one(in.ID), true
		case "vpc-id":
			return one(in.VPCID), true
		case "subnet-id":
			return one(in.SubnetID), true
		case "instance-state-name":
			return one(orDefault(in.State, "running")), true
		case "instance-type":
			return one(orDefault(in.InstanceType, "t3.micro")), true
		case "private-ip-address":
			return addrs([]netip.Addr{in.PrivateIP}), true
		case "network-interface.network-interface-id":
			return enis, true
		}
		return tagField(in.Tags, name)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

func interfaceStatus(n *NetworkInterface) string {
	if n.Status != "" {
		return n.Status
	}
	if n.Attachment == nil && n.RequesterID == "" {
		return "available"
	}
	return "in-use"
}
