package ec2emu

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/flowd-dev/flowd/internal/awscli"
)

// The AWS CLI (botocore: an independent implementation of the EC2 Query protocol, the signing,
// the XML parsing and the paginator) must list exactly the stored interfaces and flow logs,
// through pages of 5.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	t.Parallel()
	bin := awscli.Find(t)
	e := newEnv(t, Config{ShortPageProbability: 0.3, Seed: 5})
	inv := FromSimulator(testSim(t, 9), SeedOptions{LogFormat: "${version} ${vpc-id} ${interface-id} ${action}"})
	e.load(t, inv)
	run := func(args ...string) []byte {
		t.Helper()
		return awscli.Run(t, bin, e.url, append([]string{"ec2"}, args...)...)
	}

	var enis struct {
		NetworkInterfaces []struct {
			NetworkInterfaceID string `json:"NetworkInterfaceId"`
			Description        string
			InterfaceType      string
			PrivateIPAddress   string `json:"PrivateIpAddress"`
		}
	}
	if err := json.Unmarshal(run("describe-network-interfaces", "--page-size", "5", "--include-managed-resources"), &enis); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, n := range enis.NetworkInterfaces {
		got = append(got, n.NetworkInterfaceID+" "+n.InterfaceType+" "+n.PrivateIPAddress+" "+n.Description)
	}
	for _, n := range inv.Interfaces {
		want = append(want, n.ID+" "+orDefault(n.InterfaceType, "interface")+" "+n.PrivateIPs[0].String()+" "+n.Description)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the CLI listed\n%v\nstored\n%v", got, want)
	}

	var fls struct {
		FlowLogs []struct {
			FlowLogID    string `json:"FlowLogId"`
			LogFormat    string
			LogGroupName string
		}
	}
	if err := json.Unmarshal(run("describe-flow-logs", "--filter", "Name=log-destination-type,Values=cloud-watch-logs"), &fls); err != nil {
		t.Fatal(err)
	}
	if len(fls.FlowLogs) != 1 || fls.FlowLogs[0].LogFormat != "${version} ${vpc-id} ${interface-id} ${action}" || fls.FlowLogs[0].FlowLogID != inv.FlowLogs[0].ID {
		t.Errorf("the CLI saw flow logs %+v", fls.FlowLogs)
	}
	if st := e.srv.Stats()[ActionDescribeNetworkInterfaces]; st.PagesWithToken < uint64((len(inv.Interfaces)-1)/5) || st.Errors != 0 {
		t.Errorf("stats %+v: want several pages, no errors", st)
	}
}
