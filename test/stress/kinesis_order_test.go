//go:build stress

package stress

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowd-dev/flowd/internal/awshttp"
)

var killAtLeaseCheckpoint = flag.Bool("kinesis-kill-at-lease-checkpoint", false,
	"run TestKinesisKillAtLeaseCheckpoint (not in CI, for time: it kills replicas the instant a lease checkpoint lands, which loses events if the lease checkpoint runs ahead of the checkpoint file)")

// TestKinesisKillAtLeaseCheckpoint aims the kinesis scenario's kills at one moment: a replica
// holding one lease is killed the instant the DynamoDB emulator has applied its lease checkpoint.
// A lease checkpoint must never run ahead of what a restart restores (internal/kinesis,
// IngestSource: a batch's Done follows the checkpoint file that holds its counts), so the
// file holding those batches is on disk by then, the restarted replica restores their counts,
// and the next owner reads on after them: the sum over the replicas equals the truth. If the
// lease checkpoint is written before the file, the replica restores the previous file and the
// batches in between are counted by nobody: the result line says how many (diff).
func TestKinesisKillAtLeaseCheckpoint(t *testing.T) {
	if !*killAtLeaseCheckpoint {
		t.Skip("run with -kinesis-kill-at-lease-checkpoint")
	}
	t.Parallel()
	r := newResult(t, "kinesis-kill-at-lease-checkpoint")
	tap := &leaseTap{}
	k := newKinesisCloud(t, tap.wrap)
	reps := make([]*kinesisReplica, kinesisReplicas)
	for i := range reps {
		reps[i] = &kinesisReplica{f: startFlowdConfig(t, k.replicaConfig, nil)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Now()
	prod := newKinesisProducer(k.client, 11)
	prodDone := make(chan error, 1)
	go func() { prodDone <- prod.run(ctx, t0.Add(45*time.Second), 4000) }()

	const kills = 6
	var victims []string
	for i := range kills {
		time.Sleep(time.Until(t0.Add(time.Duration(6+6*i) * time.Second)))
		// A replica holding one lease: the checkpoint that lands is its only one. (A holder of
		// two, killed as the first lands, has its counts of the other in the file and that
		// lease's checkpoint still to come: the documented window, where the next owner counts
		// them again.)
		victim := -1
		for wait := time.Now().Add(10 * time.Second); victim < 0 && time.Now().Before(wait); {
			for j, rep := range reps {
				if s := rep.observe(); s != nil && s.value("flowd_kinesis_shards_owned") == 1 {
					victim = j
					break
				}
			}
			if victim < 0 {
				time.Sleep(200 * time.Millisecond)
			}
		}
		if victim < 0 {
			r.fatal("kill %d: no replica holds exactly one lease", i)
		}
		f := reps[victim].f
		owner, err := leaseOwner(f)
		if err != nil {
			r.fatal("kill %d: %v", i, err)
		}
		fired := tap.arm(owner, f.cmd.Process.Pid)
		select {
		case <-fired:
		case <-time.After(10 * time.Second):
			r.fatal("kill %d: no lease checkpoint of replica %d (%s) within 10s", i, victim, owner)
		}
		f.kill() // already signalled: waits for the exit
		// The leases it held when it died (they stay its own until they expire): a second one
		// had its counts in the file and its checkpoint still to come.
		held, err := k.leasesOf(ctx, owner)
		if err != nil {
			r.fatal("kill %d: %v", i, err)
		}
		victims = append(victims, fmt.Sprintf("%d/%d", victim, held))
		t.Logf("%.1fs: killed replica %d as its lease checkpoint landed; it held %d leases", time.Since(t0).Seconds(), victim, held)
		f.start()
	}
	r.set("kills", len(victims))
	r.set("victims_leases", strings.Join(victims, ","))
	if err := <-prodDone; err != nil {
		r.fatal("producer: %v", err)
	}
	want := prod.truth
	r.set("unique", want.events())
	deadline := time.Now().Add(time.Minute)
	var got kinesisCounts
	for time.Now().Before(deadline) {
		if ss, ok := scrapeReplicas(reps); ok {
			if got = kinesisSums(ss); got == want || got.exceeds(want) {
				break
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.set("flowd_records_ok", got.events())
	r.set("diff", got.events()-want.events())
	for i, name := range kinesisCountNames {
		r.check(got[i] == want[i], "%s summed over the replicas: flowd %.0f, truth %.0f (diff %+.0f)", name, got[i], want[i], got[i]-want[i])
	}
	r.set("duration_s", time.Since(t0).Seconds())
}

// leaseTap kills a process the instant the DynamoDB emulator has applied a lease checkpoint
// (an UpdateItem setting #cp) of the owner it is armed with.
type leaseTap struct {
	mu    sync.Mutex
	owner []byte // quoted; nil: not armed
	pid   int
	fired chan struct{}
}

// arm sets the tap for one kill; the channel is closed once it has fired.
func (p *leaseTap) arm(owner string, pid int) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.owner, p.pid, p.fired = []byte(`"`+owner+`"`), pid, make(chan struct{})
	return p.fired
}

func (p *leaseTap) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r) // applied; the answer is sent when this handler returns
		if !bytes.Contains(body, []byte(`"#cp"`)) {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.owner != nil && bytes.Contains(body, p.owner) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			p.owner = nil
			close(p.fired)
		}
	})
}

var ownerRE = regexp.MustCompile(`"kinesis source".*"owner":"([^"]+)"`)

// leaseOwner is the lease owner id of flowd's current run (from its log).
func leaseOwner(f *flowd) (string, error) {
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		return "", err
	}
	all := ownerRE.FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return "", fmt.Errorf("no lease owner in %s", f.logPath)
	}
	return string(all[len(all)-1][1]), nil
}

// leasesOf counts the leases owner holds in the lease table (flowd's default table).
func (k *kinesisCloud) leasesOf(ctx context.Context, owner string) (int, error) {
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(k.dynURL), Retryer: aws.NopRetryer{},
		HTTPClient: awshttp.New(), Credentials: credentials.NewStaticCredentialsProvider("stress", "stress", "")})
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("flowd-leases"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("scan the lease table: %w", err)
	}
	n := 0
	for _, item := range out.Items {
		if o, ok := item["leaseOwner"].(*dtypes.AttributeValueMemberS); ok && o.Value == owner {
			n++
		}
	}
	return n, nil
}
