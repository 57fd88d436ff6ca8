package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/dynamoemu"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
	"github.com/flowd-dev/flowd/internal/lease"
	"github.com/flowd-dev/flowd/internal/memnet"
	"github.com/flowd-dev/flowd/internal/subscription"
)

// kinesisEnv is a Kinesis stream and a lease table in the emulators, reached by the real SDK
// over in-memory connections, and the truth of what was put into the stream.
type kinesisEnv struct {
	kin      *kinesisemu.Server
	clients  KinesisClientFactory
	kc       *kds.Client
	dir      string
	records  int // records put (duplicates included)
	unique   map[string]bool
	accepted int // unique events of the counted groups, all ACCEPT
	bytes    int
	other    int // unique events of a group the source does not list
}

func newKinesisEnv(t *testing.T) *kinesisEnv {
	t.Helper()
	kin, err := kinesisemu.New(kinesisemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamoemu.New(dynamoemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	kl, kstop := memnet.Serve(kin)
	t.Cleanup(kstop)
	dl, dstop := memnet.Serve(dyn)
	t.Cleanup(dstop)
	kt, dt := kl.Transport(), dl.Transport()
	t.Cleanup(kt.CloseIdleConnections)
	t.Cleanup(dt.CloseIdleConnections)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	// No SDK retries, as kinesis.NewAWSClients: the source paces and retries on its own.
	newKC := func() *kds.Client {
		return kds.New(kds.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://kinesis.test"), Credentials: creds,
			HTTPClient: awshttp.Wrap(&http.Client{Transport: kt}), Retryer: aws.NopRetryer{}})
	}
	e := &kinesisEnv{kin: kin, kc: newKC(), dir: t.TempDir(), unique: map[string]bool{}}
	e.clients = func(_ context.Context, s config.Source) (kinesis.API, lease.DynamoDB, error) {
		return newKC(), dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://dynamodb.test"), Credentials: creds,
			HTTPClient: awshttp.Wrap(&http.Client{Transport: dt}), Retryer: aws.NopRetryer{}}), nil
	}
	if err := kin.CreateStream("flow-logs", 2); err != nil {
		t.Fatal(err)
	}
	return e
}

// put writes n subscription records of 10 events each as CloudWatch Logs does (partition key =
// log stream), every 7th twice (a producer retry), a control message every 10; every 5th record
// is of a group the source does not list. It returns the shards written to.
func (e *kinesisEnv) put(t *testing.T, n int) map[string]bool {
	t.Helper()
	shards := map[string]bool{}
	now := time.Now().Unix()
	for i := e.records; i < e.records+n; i++ {
		group := []string{"/vpc/a", "/vpc/b"}[i%2]
		if i%5 == 0 {
			group = "/vpc/other"
		}
		stream := fmt.Sprintf("eni-%04d-all", i%11)
		m := subscription.Message{MessageType: subscription.TypeData, Owner: "123456789012", LogGroup: group, LogStream: stream, SubscriptionFilters: []string{"flowd"}}
		for j := range 10 {
			id := fmt.Sprintf("%056d", i*100+j)
			m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: id, Timestamp: now * 1000, Message: fmt.Sprintf(
				"2 123456789012 eni-%04d 10.0.0.%d 10.0.1.5 4%04d 443 6 1 %d %d %d ACCEPT OK", i%11, j, i, 40+j, now-60, now)})
			e.unique[id] = true
			if group == "/vpc/other" {
				e.other++
			} else {
				e.accepted++
				e.bytes += 40 + j
			}
		}
		data, err := subscription.Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		copies := 1
		if i%7 == 0 {
			copies = 2
		}
		for range copies {
			shard, _, err := e.kin.Put("flow-logs", stream, data)
			if err != nil {
				t.Fatal(err)
			}
			shards[shard] = true
		}
		if i%10 == 0 {
			ctl, _ := subscription.Encode(&subscription.Message{MessageType: subscription.TypeControl, Owner: "CloudwatchLogs",
				LogEvents: []subscription.LogEvent{{Message: "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}}})
			if _, _, err := e.kin.Put("flow-logs", "control", ctl); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.records += n
	return shards
}

// replica starts one flowd replica on the stream, with its own checkpoint file (named by
// name: a replica restarted under the same name resumes from it).
func (e *kinesisEnv) replica(t *testing.T, name string) (base string, a *App, stop func()) {
	t.Helper()
	path := e.writeReplicaConfig(t, name, "")
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err = New(cfg, zaptest.NewLogger(t).Named(name), Options{ListenAddresses: []string{"127.0.0.1:0"}, ConfigFile: path,
		Clients:        noClients,
		KinesisClients: e.clients})
	if err != nil {
		t.Fatal(err)
	}
	// The stop bound fits a Kinesis source: the final checkpoint lets the shards write their
	// lease checkpoints and release before Run returns.
	return "http://" + a.Addrs()[0].String(), a, runWithin(t, a, 20*time.Second)
}

// writeReplicaConfig writes the config of a replica; extraGroup adds a listed log group.
func (e *kinesisEnv) writeReplicaConfig(t *testing.T, name, extraGroup string) string {
	t.Helper()
	groups := `"/vpc/a": "", "/vpc/b": ""`
	if extraGroup != "" {
		groups += fmt.Sprintf(`, %q: ""`, extraGroup)
	}
	body := fmt.Sprintf(`sources:
  - kinesis_stream: flow-logs
    log_groups: {`+groups+`}
checkpoint:
  path: %s
  interval: 1s
kinesis:
  lease_duration: 3s
  poll_interval: 200ms
workers: 2
`, filepath.Join(e.dir, name+".checkpoint"))
	path := filepath.Join(e.dir, name+".yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const acceptedKey = `flowd_flows_total{action="accept",port="443",protocol="tcp"}`

// sum adds a series over the replicas' scrapes.
func sum(scrapes []map[string]float64, key string) float64 {
	n := 0.0
	for _, m := range scrapes {
		n += m[key]
	}
	return n
}

func scrapeAll(t *testing.T, bases ...string) []map[string]float64 {
	out := make([]map[string]float64, len(bases))
	for i, b := range bases {
		out[i] = scrape(t, b)
	}
	return out
}

// waitAll scrapes every replica until cond holds for the scrapes together.
func waitAll(t *testing.T, what string, cond func([]map[string]float64) bool, bases ...string) []map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := scrapeAll(t, bases...)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			for i, m := range s {
				for k, v := range m {
					if strings.HasPrefix(k, "flowd_kinesis") || strings.HasPrefix(k, "flowd_flows_total") {
						t.Logf("replica %d: %s %v", i, k, v)
					}
				}
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKinesisReplicasCountEachEventOnce runs two replicas of the app on one stream: they share
// its shards, a shard is split while they read, one replica stops (hand-off through the lease
// table) and restarts from its checkpoint, and the published counts summed over replicas equal
// the unique events put, with redeliveries dropped and other groups skipped. A replica started
// at the end, with no checkpoint of its own, finds every lease checkpointed and counts nothing.
func TestKinesisReplicasCountEachEventOnce(t *testing.T) {
	e := newKinesisEnv(t)
	e.put(t, 40)
	baseA, a, stopA := e.replica(t, "a")
	baseB, b, stopB := e.replica(t, "b")
	waitAll(t, "the first records counted once over both replicas, each holding a shard", func(s []map[string]float64) bool {
		return sum(s, acceptedKey) == float64(e.accepted) && s[0]["flowd_kinesis_shards_owned{stream=\"flow-logs\"}"] == 1 &&
			s[1]["flowd_kinesis_shards_owned{stream=\"flow-logs\"}"] == 1
	}, baseA, baseB)

	if _, err := e.kc.SplitShard(context.Background(), &kds.SplitShardInput{StreamName: aws.String("flow-logs"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
		t.Fatal(err)
	}
	e.put(t, 40)
	waitAll(t, "the records after the split counted", func(s []map[string]float64) bool {
		return sum(s, acceptedKey) == float64(e.accepted)
	}, baseA, baseB)

	// A reload that changes a replica's sources restarts its Kinesis source: the leases are
	// checkpointed and released, then taken again; its stream counters go on from where they
	// were. The replica reloaded is the one that has read records so far.
	const recordsKey = `flowd_kinesis_records_total{stream="flow-logs"}`
	name, app, base := "b", b, baseB
	records := scrape(t, baseB)[recordsKey]
	if r := scrape(t, baseA)[recordsKey]; r > records {
		name, app, base, records = "a", a, baseA, r
	}
	e.writeReplicaConfig(t, name, "/vpc/c")
	if err := app.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.put(t, 20)
	waitAll(t, "the records after the reload counted", func(s []map[string]float64) bool {
		return sum(s, acceptedKey) == float64(e.accepted)
	}, baseA, baseB)
	if after := scrape(t, base)[recordsKey]; after < records || records == 0 {
		t.Errorf("replica %s: flowd_kinesis_records_total went from %v to %v across its reload", name, records, after)
	}

	stopA() // graceful: its batches are checkpointed, its leases released, B takes them
	e.put(t, 40)
	waitAll(t, "B alone reading all three open shards", func(s []map[string]float64) bool {
		return s[0]["flowd_kinesis_shards_owned{stream=\"flow-logs\"}"] == 3
	}, baseB)
	baseA2, _, stopA2 := e.replica(t, "a") // A again, from its checkpoint: its counts come back
	e.put(t, 40)
	final := waitAll(t, "every unique event counted once over the replicas", func(s []map[string]float64) bool {
		return sum(s, acceptedKey) == float64(e.accepted) && s[0]["flowd_kinesis_shards_owned{stream=\"flow-logs\"}"]+
			s[1]["flowd_kinesis_shards_owned{stream=\"flow-logs\"}"] == 3
	}, baseB, baseA2)
	if got := sum(final, `flowd_bytes_total{action="accept",port="443",protocol="tcp"}`); got != float64(e.bytes) {
		t.Errorf("bytes summed over replicas = %v, want %d", got, e.bytes)
	}
	if got := final[0][`flowd_kinesis_open_shards{stream="flow-logs"}`]; got != 3 {
		t.Errorf("open shards = %v, want 3 (one split into two, one untouched)", got)
	}
	// Redeliveries are dropped on the replica that reads the shard; B read from the start, A2
	// only what A left: B saw some.
	if final[0][`flowd_kinesis_duplicate_events_total{stream="flow-logs"}`] == 0 || final[0][`flowd_kinesis_control_messages_total{stream="flow-logs"}`] == 0 {
		t.Errorf("B dropped no duplicates or skipped no control message: %v, %v", final[0][`flowd_kinesis_duplicate_events_total{stream="flow-logs"}`],
			final[0][`flowd_kinesis_control_messages_total{stream="flow-logs"}`])
	}
	if up := final[0][`flowd_ingest_source_up{log_group="kinesis:flow-logs"}`]; up != 1 {
		t.Errorf("flowd_ingest_source_up of the stream = %v, want 1", up)
	}
	if un := sum(final, `flowd_kinesis_uncheckpointed_events_total{stream="flow-logs"}`); un != 0 {
		t.Errorf("%v events committed without their lease checkpoint, in a run without kills", un)
	}

	stopB()
	stopA2()
	// A new replica with no checkpoint: every shard resumes at its lease checkpoint. Once it
	// has counted records put now into every open shard, it has read past anything a lease
	// checkpoint left behind, which it would have counted too.
	baseC, _, _ := e.replica(t, "c")
	waitAll(t, "C holding every shard", func(s []map[string]float64) bool {
		return s[0]["flowd_kinesis_shards_owned{stream=\"flow-logs\"}"] == 3
	}, baseC)
	before := e.accepted
	if shards := e.put(t, 30); len(shards) != 3 {
		t.Fatalf("the last records went to %d shards, want all 3 open ones: %v", len(shards), shards)
	}
	c := waitAll(t, "C counting the last records", func(s []map[string]float64) bool {
		return s[0][acceptedKey] >= float64(e.accepted-before)
	}, baseC)
	if got := c[0][acceptedKey]; got != float64(e.accepted-before) {
		t.Errorf("C counted %v events, want only the %d put after the others stopped (the rest were checkpointed)", got, e.accepted-before)
	}
	if e.other == 0 || len(e.unique) != e.accepted+e.other {
		t.Fatalf("test data: %d unique, %d accepted, %d other", len(e.unique), e.accepted, e.other)
	}
}
