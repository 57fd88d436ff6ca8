package ec2emu

import (
	"fmt"
	"slices"
	"time"
)

// store holds the resources by id. Listing is in id order, which is what paging tokens point
// into: a token names the last id returned, so resources created or deleted between pages
// neither repeat nor shift the others (AWS gives no stronger promise).
type store struct {
	vpcs       map[string]VPC
	subnets    map[string]Subnet
	instances  map[string]Instance
	interfaces map[string]NetworkInterface
	flowLogs   map[string]FlowLog
}

func newStore() store {
	return store{
		vpcs:       map[string]VPC{},
		subnets:    map[string]Subnet{},
		instances:  map[string]Instance{},
		interfaces: map[string]NetworkInterface{},
		flowLogs:   map[string]FlowLog{},
	}
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Inventory is a whole set of resources, for Load.
type Inventory struct {
	VPCs       []VPC
	Subnets    []Subnet
	Instances  []Instance
	Interfaces []NetworkInterface
	FlowLogs   []FlowLog
}

// Load adds (or replaces, by id) every resource of inv.
func (s *Server) Load(inv Inventory) error {
	for _, v := range inv.VPCs {
		if err := s.PutVPC(v); err != nil {
			return err
		}
	}
	for _, v := range inv.Subnets {
		if err := s.PutSubnet(v); err != nil {
			return err
		}
	}
	for _, v := range inv.Instances {
		if err := s.PutInstance(v); err != nil {
			return err
		}
	}
	for _, v := range inv.Interfaces {
		if err := s.PutNetworkInterface(v); err != nil {
			return err
		}
	}
	for _, v := range inv.FlowLogs {
		if err := s.PutFlowLog(v); err != nil {
			return err
		}
	}
	return nil
}

func needID(kind, id string) error {
	if id == "" {
		return fmt.Errorf("put %s: empty id", kind)
	}
	return nil
}

// PutVPC adds or replaces a VPC.
func (s *Server) PutVPC(v VPC) error {
	if err := needID("vpc", v.ID); err != nil {
		return err
	}
	v.Tags = slices.Clone(v.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.vpcs[v.ID] = v
	return nil
}

// PutSubnet adds or replaces a subnet.
func (s *Server) PutSubnet(v Subnet) error {
	if err := needID("subnet", v.ID); err != nil {
		return err
	}
	v.Tags = slices.Clone(v.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.subnets[v.ID] = v
	return nil
}

// PutInstance adds or replaces an instance.
func (s *Server) PutInstance(v Instance) error {
	if err := needID("instance", v.ID); err != nil {
		return err
	}
	v.Tags = slices.Clone(v.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.instances[v.ID] = v
	return nil
}

// PutNetworkInterface adds or replaces a network interface.
func (s *Server) PutNetworkInterface(v NetworkInterface) error {
	if err := needID("network interface", v.ID); err != nil {
		return err
	}
	v.Tags = slices.Clone(v.Tags)
	v.PrivateIPs = slices.Clone(v.PrivateIPs)
	v.IPv6Addresses = slices.Clone(v.IPv6Addresses)
	v.SecurityGroups = slices.Clone(v.SecurityGroups)
	if v.Attachment != nil {
		at := *v.Attachment
		v.Attachment = &at
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.interfaces[v.ID] = v
	return nil
}

// PutFlowLog adds or replaces a flow log. A zero CreationTime becomes Clock().
func (s *Server) PutFlowLog(v FlowLog) error {
	if err := needID("flow log", v.ID); err != nil {
		return err
	}
	if v.CreationTime.IsZero() {
		v.CreationTime = s.cfg.Clock().Truncate(time.Millisecond)
	}
	v.Tags = slices.Clone(v.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.flowLogs[v.ID] = v
	return nil
}

// DeleteFlowLog removes a flow log; it reports whether it existed.
func (s *Server) DeleteFlowLog(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.st.flowLogs[id]
	delete(s.st.flowLogs, id)
	return ok
}

// DeleteNetworkInterface removes an interface; it reports whether it existed.
func (s *Server) DeleteNetworkInterface(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.st.interfaces[id]
	delete(s.st.interfaces, id)
	return ok
}

// Snapshot returns a copy of every stored resource, each list in id order.
func (s *Server) Snapshot() Inventory {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var inv Inventory
	for _, id := range sortedIDs(s.st.vpcs) {
		inv.VPCs = append(inv.VPCs, s.st.vpcs[id])
	}
	for _, id := range sortedIDs(s.st.subnets) {
		inv.Subnets = append(inv.Subnets, s.st.subnets[id])
	}
	for _, id := range sortedIDs(s.st.instances) {
		inv.Instances = append(inv.Instances, s.st.instances[id])
	}
	for _, id := range sortedIDs(s.st.interfaces) {
		inv.Interfaces = append(inv.Interfaces, s.st.interfaces[id])
	}
	for _, id := range sortedIDs(s.st.flowLogs) {
		inv.FlowLogs = append(inv.FlowLogs, s.st.flowLogs[id])
	}
	return inv
}
