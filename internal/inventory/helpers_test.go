package inventory

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/emulator/ec2emu"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// world is an EC2 emulator holding the simulator's network, reached by the real SDK over
// in-memory HTTP; build it inside a synctest bubble and everything runs in virtual time.
type world struct {
	srv    *ec2emu.Server
	sim    *simulate.Simulator
	seed   ec2emu.Inventory
	client *ec2.Client
}

func newWorld(t *testing.T, cfg ec2emu.Config, interfaces int) *world {
	t.Helper()
	scfg := simulate.DefaultConfig()
	scfg.Start = time.Now().Add(-time.Hour)
	scfg.Interfaces = interfaces
	sim, err := simulate.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ec2emu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seed := ec2emu.FromSimulator(sim, ec2emu.SeedOptions{LogGroup: "/flowd/demo", LogFormat: sim.Format().String()})
	if err := srv.Load(seed); err != nil {
		t.Fatal(err)
	}
	hc, url, closeFn := srv.InMemory()
	t.Cleanup(closeFn)
	client := ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  awshttp.Wrap(hc),
	})
	return &world{srv: srv, sim: sim, seed: seed, client: client}
}

func newInventory(t *testing.T, api API, opts Options, log *zap.Logger) *Inventory {
	t.Helper()
	if log == nil {
		log = zaptest.NewLogger(t)
	}
	inv, err := New(api, opts, SystemClock{}, log)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}
