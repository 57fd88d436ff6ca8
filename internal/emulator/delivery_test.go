package emulator

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkhttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
	"github.com/flowd-dev/flowd/internal/memnet"
	"github.com/flowd-dev/flowd/internal/subscription"
)

// Events put into a subscribed group come out of a Kinesis stream (kinesisemu, read with the
// real kinesis client) as AWS writes them: decoded by internal/subscription, they are exactly
// the matching events put after the filter was created, ids included, each record of one log
// stream under its name as partition key, and records repeated only as many times as the
// emulator counts duplicates. Virtual time (testing/synctest): RunSubscriptions' ticker and the
// visibility delay run without waiting.
func TestSubscriptionDeliveryIntoKinesis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		kin, err := kinesisemu.New(kinesisemu.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := kin.CreateStream("flow", 2); err != nil {
			t.Fatal(err)
		}
		const delay = 30 * time.Second
		srv, err := New(Config{VisibilityDelay: delay, SubscriptionSink: kin, SubscriptionDuplicateProbability: 0.25, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		dial, stop := srv.StartInMemory()
		defer func() { _ = stop() }()
		logs := cloudwatchlogs.New(cloudwatchlogs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://logs.test"),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), Retryer: aws.NopRetryer{},
			HTTPClient: awshttp.Wrap(sdkhttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
				tr.DialContext, tr.DisableKeepAlives = dial, true
			}))})
		kl, kstop := memnet.Serve(kin)
		defer kstop()
		ktr := kl.Transport()
		defer ktr.CloseIdleConnections()
		kc := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://kinesis.test"),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), Retryer: aws.NopRetryer{},
			HTTPClient: awshttp.Wrap(&http.Client{Transport: ktr})})

		runCtx, cancel := context.WithCancel(ctx)
		delivering := make(chan struct{})
		go func() {
			defer close(delivering)
			srv.RunSubscriptions(runCtx)
		}()

		streams := []string{"eni-0a-all", "eni-0b-all", "eni-0c-all", "eni-0d-all", "eni-0e-all", "eni-0f-all"}
		if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(testGroup)}); err != nil {
			t.Fatal(err)
		}
		for _, s := range streams {
			if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String(s)}); err != nil {
				t.Fatal(err)
			}
		}
		put := func(stream string, msgs ...string) {
			t.Helper()
			now := time.Now().UnixMilli()
			evs := make([]InputEvent, len(msgs))
			for i, m := range msgs {
				evs[i] = InputEvent{Timestamp: now - 60_000 + int64(i), Message: m}
			}
			if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(testGroup),
				LogStreamName: aws.String(stream), LogEvents: sdkEvents(evs)}); err != nil {
				t.Fatal(err)
			}
		}
		put(streams[0], "2 REJECT put before the filter")
		if _, err := logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{LogGroupName: aws.String(testGroup),
			FilterName: aws.String("rejects"), FilterPattern: aws.String("REJECT"),
			DestinationArn: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/flow"), RoleArn: aws.String(testRoleARN)}); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			for i, s := range streams {
				var msgs []string
				for j := range 40 {
					action := "ACCEPT"
					if (i+j+round)%3 == 0 {
						action = "REJECT"
					}
					msgs = append(msgs, fmt.Sprintf("2 %s %s round %d event %d", s, action, round, j))
				}
				put(s, msgs...)
			}
			if round == 0 {
				time.Sleep(delay - time.Second)
				synctest.Wait()
				if st := srv.Stats().Subscriptions; st.Records != 0 {
					t.Fatalf("%d records delivered before the events were visible", st.Records)
				}
			}
			time.Sleep(7 * time.Second)
		}
		time.Sleep(delay + 2*DefaultDeliveryInterval)
		synctest.Wait()
		cancel()
		<-delivering

		want := map[string]Event{}
		for _, ev := range srv.GroundTruth(testGroup) {
			if strings.Contains(ev.Message, "REJECT") && !strings.Contains(ev.Message, "before the filter") {
				want[ev.EventID] = ev
			}
		}
		shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow")})
		if err != nil {
			t.Fatal(err)
		}
		var dec subscription.Decoder
		var m subscription.Message
		seen := map[string]int{}
		shardOf := map[string]string{}
		var datas [][]byte
		control, records := 0, 0
		for _, sh := range shards.Shards {
			for _, r := range readShard(t, kc, aws.ToString(sh.ShardId)) {
				if err := dec.Decode(r.Data, &m); err != nil {
					t.Fatalf("decode: %v", err)
				}
				if m.Control() {
					control++
					continue
				}
				records++
				datas = append(datas, r.Data)
				if m.Owner != "123456789012" || m.LogGroup != testGroup || !slices.Equal(m.SubscriptionFilters, []string{"rejects"}) ||
					aws.ToString(r.PartitionKey) != m.LogStream {
					t.Errorf("record owner %q group %q filters %v stream %q partition key %q", m.Owner, m.LogGroup, m.SubscriptionFilters, m.LogStream, aws.ToString(r.PartitionKey))
				}
				if prev, ok := shardOf[m.LogStream]; ok && prev != aws.ToString(sh.ShardId) {
					t.Errorf("log stream %s in shards %s and %s", m.LogStream, prev, aws.ToString(sh.ShardId))
				}
				shardOf[strings.Clone(m.LogStream)] = aws.ToString(sh.ShardId)
				for _, ev := range m.LogEvents {
					w, ok := want[ev.ID]
					if !ok {
						t.Errorf("delivered event %s %q was not put after the filter or does not match", ev.ID, ev.Message)
						continue
					}
					if w.Timestamp != ev.Timestamp || w.Message != ev.Message || w.LogStreamName != m.LogStream {
						t.Errorf("event %s: delivered (%d, %q, %s), put (%d, %q, %s)", ev.ID, ev.Timestamp, ev.Message, m.LogStream, w.Timestamp, w.Message, w.LogStreamName)
					}
					seen[strings.Clone(ev.ID)]++ // the decoder's strings live until its next Decode
				}
			}
		}
		for id := range want {
			if seen[id] == 0 {
				t.Errorf("event %s %q never delivered", id, want[id].Message)
			}
		}
		dups := 0
		for i := range datas {
			for j := range i {
				if bytes.Equal(datas[i], datas[j]) {
					dups++
				}
			}
		}
		st := srv.Stats().Subscriptions
		if control != 1 || st.ControlMessages != 1 {
			t.Errorf("%d control messages in the stream, %d counted, want 1", control, st.ControlMessages)
		}
		if st.Duplicates == 0 || int64(dups) != st.Duplicates || int64(records) != st.Records+st.Duplicates {
			t.Errorf("%d records (%d repeated) in the stream; stats %+v: want some duplicates, all counted", records, dups, st)
		}
		// One record per log stream per round: 6 streams x 5 rounds.
		if st.Records != 30 || st.Events != int64(len(want)) || st.Retries != 0 {
			t.Errorf("stats %+v, want 30 records of %d events, no retries", st, len(want))
		}
	})
}

// readShard reads a shard from its start to its current end, one call per second of virtual
// time (the per-shard read quota).
func readShard(t *testing.T, kc *kinesis.Client, shard string) []kinesistypes.Record {
	t.Helper()
	ctx := context.Background()
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("flow"), ShardId: aws.String(shard),
		ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var out []kinesistypes.Record
	next := it.ShardIterator
	for next != nil {
		page, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
		if err != nil {
			t.Fatalf("GetRecords %s: %v", shard, err)
		}
		out = append(out, page.Records...)
		if len(page.Records) == 0 {
			break
		}
		next = page.NextShardIterator
		time.Sleep(time.Second)
	}
	return out
}

// subscribedEnv is a fake-clock server with a recording sink and one filter on testGroup.
func subscribedEnv(t *testing.T, cfg Config, pattern string, distribution string) (*env, *recordingSink) {
	t.Helper()
	sink := &recordingSink{}
	cfg.SubscriptionSink = sink
	e := newEnv(t, cfg)
	e.mustPut(t, testGroup, "a", nil)
	e.mustPut(t, testGroup, "b", nil)
	in := putFilter("f", pattern, testStreamARN)
	if distribution != "" {
		in.Distribution = types.Distribution(distribution)
	}
	if _, err := e.client.PutSubscriptionFilter(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return e, sink
}

// dataRecords decodes a sink's records, without the control message.
func dataRecords(t *testing.T, sink *recordingSink) ([]sinkRecord, []subscription.Message) {
	t.Helper()
	recs := sink.taken()
	msgs := decodeAll(t, recs)
	var outR []sinkRecord
	var outM []subscription.Message
	for i, m := range msgs {
		if !m.Control() {
			outR, outM = append(outR, recs[i]), append(outM, m)
		}
	}
	return outR, outM
}

func messagesOf(msgs []subscription.Message, stream string) []string {
	var out []string
	for _, m := range msgs {
		if m.LogStream == stream {
			for _, ev := range m.LogEvents {
				out = append(out, ev.Message)
			}
		}
	}
	return out
}

// Delivery waits for visibility, applies the pattern, and sends one record per log stream
// with what became visible since the last round.
func TestSubscriptionDeliveryVisibilityAndBatches(t *testing.T) {
	t.Parallel()
	e, sink := subscribedEnv(t, Config{VisibilityDelay: time.Minute}, "REJECT", "")
	ctx := context.Background()
	now := e.clock.Now().UnixMilli()
	e.mustPut(t, testGroup, "a", []InputEvent{{now, "a1 REJECT"}, {now + 1, "a2 ACCEPT"}})
	e.mustPut(t, testGroup, "a", []InputEvent{{now - 5000, "a3 REJECT (older, put later)"}})
	e.mustPut(t, testGroup, "b", []InputEvent{{now, "b1 REJECT"}})
	e.mustPut(t, "/other/group", "a", []InputEvent{{now, "not subscribed REJECT"}})

	e.clock.Advance(time.Minute - time.Millisecond)
	e.srv.DeliverSubscriptions(ctx)
	if _, msgs := dataRecords(t, sink); len(msgs) != 0 {
		t.Fatalf("delivered before visible: %+v", msgs)
	}
	e.clock.Advance(time.Millisecond)
	e.srv.DeliverSubscriptions(ctx)
	recs, msgs := dataRecords(t, sink)
	if len(msgs) != 2 {
		t.Fatalf("%d records, want one per log stream (a, b): %+v", len(msgs), msgs)
	}
	if got := messagesOf(msgs, "a"); !slices.Equal(got, []string{"a1 REJECT", "a3 REJECT (older, put later)"}) {
		t.Errorf("stream a delivered %q, want the matching events in put order", got)
	}
	if got := messagesOf(msgs, "b"); !slices.Equal(got, []string{"b1 REJECT"}) {
		t.Errorf("stream b delivered %q", got)
	}
	for i, r := range recs {
		if r.stream != "flow" || r.pk != msgs[i].LogStream {
			t.Errorf("record %d into %q with key %q, want flow, key %q", i, r.stream, r.pk, msgs[i].LogStream)
		}
	}
	// Nothing new: a round puts nothing.
	e.srv.DeliverSubscriptions(ctx)
	if recs, _ := dataRecords(t, sink); len(recs) != 2 {
		t.Errorf("%d records after an idle round, want still 2", len(recs))
	}
	// Deleting the filter drops what it has not delivered.
	e.mustPut(t, testGroup, "a", []InputEvent{{now, "a4 REJECT"}})
	if _, err := e.client.DeleteSubscriptionFilter(ctx, &cloudwatchlogs.DeleteSubscriptionFilterInput{LogGroupName: aws.String(testGroup), FilterName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.srv.DeliverSubscriptions(ctx)
	if recs, _ := dataRecords(t, sink); len(recs) != 2 {
		t.Errorf("%d records after the filter was deleted, want still 2", len(recs))
	}
}

// A throttled destination: the record is tried again in later rounds, nothing is dropped, each
// log stream's records arrive in order, every failed attempt is counted.
func TestSubscriptionDeliveryRetriesInOrder(t *testing.T) {
	t.Parallel()
	e, sink := subscribedEnv(t, Config{}, "", "")
	ctx := context.Background()
	var failing bool
	var mu sync.Mutex
	sink.mu.Lock()
	sink.fail = func(int) bool { mu.Lock(); defer mu.Unlock(); return failing }
	sink.mu.Unlock()
	setFailing := func(v bool) { mu.Lock(); failing = v; mu.Unlock() }

	setFailing(true)
	now := e.clock.Now().UnixMilli()
	var wantA, wantB []string
	for round := range 3 {
		a := []InputEvent{{now + int64(round), fmt.Sprintf("a round %d", round)}}
		b := []InputEvent{{now + int64(round), fmt.Sprintf("b round %d", round)}}
		e.mustPut(t, testGroup, "a", a)
		e.mustPut(t, testGroup, "b", b)
		wantA, wantB = append(wantA, a[0].Message), append(wantB, b[0].Message)
		e.clock.Advance(time.Second)
		e.srv.DeliverSubscriptions(ctx)
	}
	if st := e.srv.Stats().Subscriptions; st.Records != 0 || st.Retries != 6 {
		t.Fatalf("while throttled: stats %+v, want nothing delivered and 6 failed attempts (2 streams x 3 rounds)", st)
	}
	setFailing(false)
	e.srv.DeliverSubscriptions(ctx)
	_, msgs := dataRecords(t, sink)
	if got := messagesOf(msgs, "a"); !slices.Equal(got, wantA) {
		t.Errorf("stream a delivered %q, want %q", got, wantA)
	}
	if got := messagesOf(msgs, "b"); !slices.Equal(got, wantB) {
		t.Errorf("stream b delivered %q, want %q", got, wantB)
	}
	if st := e.srv.Stats().Subscriptions; st.Records != 6 || st.Events != 6 || st.Retries != 6 {
		t.Errorf("stats %+v, want 6 records of one event each, 6 retries", st)
	}
}

// The duplicates and Random partition keys come from Seed alone: two runs put the same
// records, another seed differs.
func TestSubscriptionDeliveryDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64) ([]sinkRecord, SubscriptionStats) {
		e, sink := subscribedEnv(t, Config{Seed: seed, SubscriptionDuplicateProbability: 0.3}, "", DistributionRandom)
		ctx := context.Background()
		now := e.clock.Now().UnixMilli()
		for round := range 20 {
			e.mustPut(t, testGroup, "a", seqEvents(fmt.Sprintf("a %d", round), now, 1, 3))
			e.mustPut(t, testGroup, "b", seqEvents(fmt.Sprintf("b %d", round), now, 1, 2))
			// Requests in between must not shift the delivery's random choices.
			if round%2 == 0 {
				filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
			}
			e.clock.Advance(time.Second)
			e.srv.DeliverSubscriptions(ctx)
		}
		recs, _ := dataRecords(t, sink)
		return recs, e.srv.Stats().Subscriptions
	}
	first, st := run(3)
	second, _ := run(3)
	other, _ := run(4)
	same := func(a, b []sinkRecord) bool {
		return slices.EqualFunc(a, b, func(x, y sinkRecord) bool { return x.pk == y.pk && bytes.Equal(x.data, y.data) })
	}
	if !same(first, second) {
		t.Error("two runs with seed 3 put different records")
	}
	if same(first, other) {
		t.Error("seeds 3 and 4 put the same records")
	}
	if st.Duplicates == 0 || st.Duplicates == st.Records || int64(len(first)) != st.Records+st.Duplicates {
		t.Errorf("stats %+v for %d records put: want some, not all, duplicated", st, len(first))
	}
	keys := map[string]bool{}
	for _, r := range first {
		keys[r.pk] = true
		if r.pk == "a" || r.pk == "b" {
			t.Errorf("Random distribution used the log stream %q as partition key", r.pk)
		}
	}
	if len(keys) < int(st.Records)/2 {
		t.Errorf("%d distinct partition keys over %d records: not random", len(keys), st.Records)
	}
}

// blockingSink blocks every Put after the first (the control message) until released.
type blockingSink struct {
	entered, release chan struct{}
	calls            int
}

func (s *blockingSink) Put(string, string, []byte) (string, string, error) {
	s.calls++ // Puts are serial: one round at a time, and the control message before any round
	if s.calls > 1 {
		s.entered <- struct{}{}
		<-s.release
	}
	return "shardId-000000000000", "1", nil
}

// A slow destination holds up delivery, not the emulator: while a Put waits, the server's lock
// is free for puts and reads.
func TestSubscriptionDeliveryDoesNotHoldTheLock(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, Config{SubscriptionSink: sink})
	e.mustPut(t, testGroup, "a", nil)
	ctx := context.Background()
	if _, err := e.client.PutSubscriptionFilter(ctx, putFilter("f", "", testStreamARN)); err != nil {
		t.Fatal(err)
	}
	e.mustPut(t, testGroup, "a", seqEvents("x", e.clock.Now().UnixMilli(), 1, 5))
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.srv.DeliverSubscriptions(ctx)
	}()
	<-sink.entered
	if !e.srv.mu.TryLock() {
		close(sink.release)
		<-done
		t.Fatal("the server lock is held while a delivery waits for its destination")
	}
	e.srv.mu.Unlock()
	e.mustPut(t, testGroup, "a", seqEvents("y", e.clock.Now().UnixMilli(), 1, 5))
	if evs, _ := filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)}); len(evs) != 10 {
		t.Errorf("FilterLogEvents during a delivery: %d events, want 10", len(evs))
	}
	close(sink.release)
	<-done
}
