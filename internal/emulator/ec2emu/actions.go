package ec2emu

import (
	"encoding/xml"
	"slices"
)

// answer is a handler's result: the body element and the next page's token.
type answer struct {
	body any
	next string
}

type handler func(s *Server, r *request) (answer, *APIError)

var handlers = [numActions]handler{
	actDescribeFlowLogs:          (*Server).describeFlowLogs,
	actDescribeNetworkInterfaces: (*Server).describeNetworkInterfaces,
	actDescribeSubnets:           (*Server).describeSubnets,
	actDescribeVpcs:              (*Server).describeVpcs,
	actDescribeInstances:         (*Server).describeInstances,
}

// selectIDs returns the ids a request may list: all of them, or those it names. Unknown named
// ids are notFound's error when notFound is set (EC2's *.NotFound codes) and skipped otherwise.
func selectIDs(all []string, named []string, exists func(string) bool, notFound func(id string) *APIError) ([]string, *APIError) {
	if len(named) == 0 {
		return all, nil
	}
	var out []string
	for _, id := range named {
		if !exists(id) {
			if notFound != nil {
				return nil, notFound(id)
			}
			continue
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func noMaxWithIDs(r *request, what string) *APIError {
	if len(r.ids) > 0 && r.maxResults != 0 {
		return &APIError{Code: CodeInvalidParameterCombination, Message: "The parameter " + what + " cannot be used with the parameter maxResults", HTTPStatus: 400}
	}
	return nil
}

func (s *Server) describeFlowLogs(r *request) (answer, *APIError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, _ := selectIDs(sortedIDs(s.st.flowLogs), r.ids, func(id string) bool { _, ok := s.st.flowLogs[id]; return ok }, nil)
	page, next, err := s.page(r, ids, func(id string) (bool, *APIError) {
		f := s.st.flowLogs[id]
		return matches(r.filters, s.flowLogField(&f))
	})
	if err != nil {
		return answer{}, err
	}
	set := xmlFlowLogSet{Items: make([]xmlFlowLog, 0, len(page))}
	for _, id := range page {
		f := s.st.flowLogs[id]
		set.Items = append(set.Items, s.flowLogXML(&f))
	}
	return answer{body: set, next: next}, nil
}

func (s *Server) describeNetworkInterfaces(r *request) (answer, *APIError) {
	if err := noMaxWithIDs(r, "networkInterfaceIds"); err != nil {
		return answer{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, err := selectIDs(sortedIDs(s.st.interfaces), r.ids, func(id string) bool { _, ok := s.st.interfaces[id]; return ok }, func(id string) *APIError {
		return notFound(CodeInvalidNetworkInterfaceID, "The networkInterface ID '%s' does not exist", id)
	})
	if err != nil {
		return answer{}, err
	}
	showManaged := r.includeManage || s.cfg.ShowManaged
	page, next, err := s.page(r, ids, func(id string) (bool, *APIError) {
		n := s.st.interfaces[id]
		if n.Managed && !showManaged {
			return false, nil
		}
		return matches(r.filters, s.interfaceField(&n))
	})
	if err != nil {
		return answer{}, err
	}
	set := xmlInterfaceSet{Items: make([]xmlInterface, 0, len(page))}
	for _, id := range page {
		n := s.st.interfaces[id]
		set.Items = append(set.Items, s.interfaceXML(&n))
	}
	return answer{body: set, next: next}, nil
}

func (s *Server) describeSubnets(r *request) (answer, *APIError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, err := selectIDs(sortedIDs(s.st.subnets), r.ids, func(id string) bool { _, ok := s.st.subnets[id]; return ok }, func(id string) *APIError {
		return notFound(CodeInvalidSubnetID, "The subnet ID '%s' does not exist", id)
	})
	if err != nil {
		return answer{}, err
	}
	page, next, err := s.page(r, ids, func(id string) (bool, *APIError) {
		sn := s.st.subnets[id]
		return matches(r.filters, s.subnetField(&sn))
	})
	if err != nil {
		return answer{}, err
	}
	set := xmlSubnetSet{Items: make([]xmlSubnet, 0, len(page))}
	for _, id := range page {
		sn := s.st.subnets[id]
		set.Items = append(set.Items, s.subnetXML(&sn))
	}
	return answer{body: set, next: next}, nil
}

func (s *Server) describeVpcs(r *request) (answer, *APIError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, err := selectIDs(sortedIDs(s.st.vpcs), r.ids, func(id string) bool { _, ok := s.st.vpcs[id]; return ok }, func(id string) *APIError {
		return notFound(CodeInvalidVpcID, "The vpc ID '%s' does not exist", id)
	})
	if err != nil {
		return answer{}, err
	}
	page, next, err := s.page(r, ids, func(id string) (bool, *APIError) {
		v := s.st.vpcs[id]
		return matches(r.filters, s.vpcField(&v))
	})
	if err != nil {
		return answer{}, err
	}
	set := xmlVPCSet{Items: make([]xmlVPC, 0, len(page))}
	for _, id := range page {
		v := s.st.vpcs[id]
		set.Items = append(set.Items, s.vpcXML(&v))
	}
	return answer{body: set, next: next}, nil
}

func (s *Server) describeInstances(r *request) (answer, *APIError) {
	if err := noMaxWithIDs(r, "instancesSet"); err != nil {
		return answer{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, err := selectIDs(sortedIDs(s.st.instances), r.ids, func(id string) bool { _, ok := s.st.instances[id]; return ok }, func(id string) *APIError {
		return notFound(CodeInvalidInstanceID, "The instance ID '%s' does not exist", id)
	})
	if err != nil {
		return answer{}, err
	}
	enis := s.interfacesByInstance()
	page, next, err := s.page(r, ids, func(id string) (bool, *APIError) {
		in := s.st.instances[id]
		var eniIDs []string
		for _, n := range enis[id] {
			eniIDs = append(eniIDs, n.ID)
		}
		return matches(r.filters, s.instanceField(&in, eniIDs))
	})
	if err != nil {
		return answer{}, err
	}
	set := xmlReservationSet{Items: make([]xmlReservation, 0, len(page))}
	for _, id := range page {
		in := s.st.instances[id]
		set.Items = append(set.Items, s.instanceXML(&in, enis[id]))
	}
	return answer{body: set, next: next}, nil
}

// interfacesByInstance maps instance ids to their attached interfaces, by device index.
func (s *Server) interfacesByInstance() map[string][]*NetworkInterface {
	out := map[string][]*NetworkInterface{}
	for _, id := range sortedIDs(s.st.interfaces) {
		n := s.st.interfaces[id]
		if n.Attachment != nil && n.Attachment.InstanceID != "" {
			out[n.Attachment.InstanceID] = append(out[n.Attachment.InstanceID], &n)
		}
	}
	for _, l := range out {
		slices.SortStableFunc(l, func(a, b *NetworkInterface) int { return int(a.Attachment.DeviceIndex - b.Attachment.DeviceIndex) })
	}
	return out
}

// marshalAnswer writes the XML document of a successful answer.
func marshalAnswer(a action, requestID string, ans answer) ([]byte, error) {
	doc := xmlResponse{
		XMLName:   xml.Name{Local: actionNames[a] + "Response"},
		Xmlns:     xmlNamespace,
		RequestID: requestID,
		Body:      ans.body,
		NextToken: ans.next,
	}
	out, err := xml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}
