package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
)

// validateNetworkContext checks the network context keys of the aggregate section (issue 14:
// the port governor, direction, opt-in dimensions, rejected keys, interface info) into a.
func validateNetworkContext(p *problems, f AggregateFile, a *aggregate.Config) {
	if f.MaxRejectOnlyPorts < 0 || f.MaxRejectOnlyPorts > 100000 {
		p.add("aggregate.max_reject_only_ports", "must be between 0 and 100000, got %d", f.MaxRejectOnlyPorts)
	}
	a.MaxRejectOnlyPorts = f.MaxRejectOnlyPorts
	a.InferDirection = f.InferDirection
	a.Dimensions = nil
	var names []string
	for _, d := range aggregate.Dimensions() {
		names = append(names, d.String())
	}
	for i, name := range f.Dimensions {
		path := fmt.Sprintf("aggregate.dimensions[%d]", i)
		d, ok := aggregate.DimensionByName(name)
		switch {
		case !ok:
			p.add(path, "%q is not a dimension; choose from %s", name, strings.Join(names, ", "))
		case slices.Contains(a.Dimensions, d):
			p.add(path, "%q is listed twice", name)
		default:
			a.Dimensions = append(a.Dimensions, d)
		}
	}
	if f.MaxDimensionValues < 1 || f.MaxDimensionValues > 100000 {
		p.add("aggregate.max_dimension_values", "must be between 1 and 100000, got %d", f.MaxDimensionValues)
	}
	a.MaxDimensionValues = f.MaxDimensionValues
	if f.MaxNetworkKeys < 1 || f.MaxNetworkKeys > 100000 {
		p.add("aggregate.max_network_keys", "must be between 1 and 100000, got %d", f.MaxNetworkKeys)
	}
	a.MaxNetworkKeys = f.MaxNetworkKeys
	if f.MaxInterfacePorts < 1 || f.MaxInterfacePorts > 100000 {
		p.add("aggregate.max_interface_ports", "must be between 1 and 100000, got %d", f.MaxInterfacePorts)
	}
	a.MaxInterfacePorts = f.MaxInterfacePorts
	ttl := time.Duration(f.InterfaceInfoTTL)
	if ttl < time.Minute || ttl > 7*24*time.Hour {
		p.add("aggregate.interface_info_ttl", "must be between 1m and 168h, got %s", f.InterfaceInfoTTL)
	}
	a.InterfaceInfoTTL = ttl
}
