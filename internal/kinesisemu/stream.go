package kinesisemu

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

var maxHash = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

type record struct {
	n       uint64
	pk      string
	data    []byte
	arrival time.Time
}

type shard struct {
	id                  string
	parent, adjacent    string
	lo, hi              *big.Int
	startN              uint64
	endN                uint64 // 0 while open; else the last position the shard can hold
	records             []record
	readCalls, iterCall *rate.Limiter
	readBytes           float64 // bucket of bytes, may go negative
	readAt              time.Time
	writeRecs, writeB   *rate.Limiter
}

func (sh *shard) open() bool { return sh.endN == 0 }

type stream struct {
	name      string
	arn       string
	created   time.Time
	shards    []*shard
	nextShard int
}

// seq formats a position as a 56-digit sequence number, as Kinesis' look.
func seq(n uint64) string { return fmt.Sprintf("4959%052d", n) }

var seqRE = regexp.MustCompile(`^4959[0-9]{52}$`)

func parseSeq(s string) (uint64, bool) {
	if !seqRE.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[4:], 10, 64)
	return n, err == nil
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *Server) newShard(st *stream, lo, hi *big.Int, parent, adjacent string) *shard {
	cfg := s.cfg
	sh := &shard{id: fmt.Sprintf("shardId-%012d", st.nextShard), parent: parent, adjacent: adjacent, lo: lo, hi: hi, startN: s.nextN,
		readBytes: cfg.ReadBytesPerSecond, readAt: cfg.Clock()}
	st.nextShard++
	lim := func(r float64) *rate.Limiter {
		if r < 0 {
			return nil
		}
		l := rate.NewLimiter(rate.Limit(r), int(math.Max(1, math.Ceil(r))))
		l.SetBurstAt(cfg.Clock(), l.Burst())
		return l
	}
	sh.readCalls, sh.iterCall, sh.writeRecs, sh.writeB = lim(cfg.ReadCallsPerSecond), lim(cfg.ReadCallsPerSecond), lim(cfg.WriteRecordsPerSecond), lim(cfg.WriteBytesPerSecond)
	st.shards = append(st.shards, sh)
	return sh
}

// stream finds a stream by name or ARN; the caller holds s.mu.
func (s *Server) stream(name, arn string) (*stream, *APIError) {
	if name == "" && arn != "" {
		for _, st := range s.streams {
			if st.arn == arn {
				return st, nil
			}
		}
		return nil, apiErr("ResourceNotFoundException", "Stream %s under account %s not found.", arn, s.cfg.AccountID)
	}
	if name == "" {
		return nil, invalid("Either StreamName or StreamARN must be given.")
	}
	st, ok := s.streams[name]
	if !ok {
		return nil, apiErr("ResourceNotFoundException", "Stream %s under account %s not found.", name, s.cfg.AccountID)
	}
	if arn != "" && arn != st.arn {
		return nil, invalid("StreamARN %s does not match StreamName %s.", arn, name)
	}
	return st, nil
}

func (st *stream) shard(id string) (*shard, *APIError) {
	for _, sh := range st.shards {
		if sh.id == id {
			return sh, nil
		}
	}
	return nil, apiErr("ResourceNotFoundException", "Shard %s in stream %s under account %s does not exist", id, st.name, "")
}

var streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// CreateStream creates a stream of n shards with even hash key ranges (in-process helper; the
// same as the operation).
func (s *Server) CreateStream(name string, n int) error {
	if e := s.create(name, n); e != nil {
		return e
	}
	return nil
}

func (s *Server) create(name string, n int) *APIError {
	if !streamNameRE.MatchString(name) {
		return invalid("StreamName %q: must match [a-zA-Z0-9_.-]{1,128}", name)
	}
	if n < 1 || n > 10000 {
		return invalid("ShardCount %d: must be between 1 and 10000", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[name]; ok {
		return apiErr("ResourceInUseException", "Stream %s under account %s already exists.", name, s.cfg.AccountID)
	}
	st := &stream{name: name, arn: "arn:aws:kinesis:" + s.cfg.Region + ":" + s.cfg.AccountID + ":stream/" + name, created: s.cfg.Clock()}
	width := new(big.Int).Div(new(big.Int).Add(maxHash, big.NewInt(1)), big.NewInt(int64(n)))
	for i := range n {
		lo := new(big.Int).Mul(width, big.NewInt(int64(i)))
		hi := new(big.Int).Sub(new(big.Int).Add(lo, width), big.NewInt(1))
		if i == n-1 {
			hi = new(big.Int).Set(maxHash)
		}
		s.newShard(st, lo, hi, "", "")
	}
	s.streams[name] = st
	return nil
}

func (s *Server) createStream(body []byte) (any, *APIError) {
	var in struct {
		StreamName        string
		ShardCount        *int
		StreamModeDetails *struct{ StreamMode string }
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.StreamModeDetails != nil && in.StreamModeDetails.StreamMode != "PROVISIONED" {
		return nil, invalid("StreamMode %q is not supported by this emulator", in.StreamModeDetails.StreamMode)
	}
	n := 1
	if in.ShardCount != nil {
		n = *in.ShardCount
	}
	if e := s.create(in.StreamName, n); e != nil {
		return nil, e
	}
	return struct{}{}, nil
}

type hashRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type seqRange struct {
	StartingSequenceNumber string  `json:"StartingSequenceNumber"`
	EndingSequenceNumber   *string `json:"EndingSequenceNumber,omitempty"`
}

type shardJSON struct {
	ShardID               string    `json:"ShardId"`
	ParentShardID         string    `json:"ParentShardId,omitempty"`
	AdjacentParentShardID string    `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashRange `json:"HashKeyRange"`
	SequenceNumberRange   seqRange  `json:"SequenceNumberRange"`
}

func (sh *shard) json() shardJSON {
	j := shardJSON{ShardID: sh.id, ParentShardID: sh.parent, AdjacentParentShardID: sh.adjacent,
		HashKeyRange:        hashRange{sh.lo.String(), sh.hi.String()},
		SequenceNumberRange: seqRange{StartingSequenceNumber: seq(sh.startN)}}
	if !sh.open() {
		e := seq(sh.endN)
		j.SequenceNumberRange.EndingSequenceNumber = &e
	}
	return j
}

func (st *stream) openCount() int {
	n := 0
	for _, sh := range st.shards {
		if sh.open() {
			n++
		}
	}
	return n
}

func (s *Server) describeStreamSummary(body []byte) (any, *APIError) {
	var in struct{ StreamName, StreamARN string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	return map[string]any{"StreamDescriptionSummary": map[string]any{
		"StreamName": st.name, "StreamARN": st.arn, "StreamStatus": "ACTIVE",
		"StreamModeDetails": map[string]string{"StreamMode": "PROVISIONED"}, "RetentionPeriodHours": 24,
		"StreamCreationTimestamp": epoch(st.created), "EnhancedMonitoring": []any{map[string]any{"ShardLevelMetrics": []string{}}},
		"EncryptionType": "NONE", "OpenShardCount": st.openCount(), "ConsumerCount": 0,
	}}, nil
}

func (s *Server) describeStream(body []byte) (any, *APIError) {
	var in struct {
		StreamName, StreamARN, ExclusiveStartShardId string
		Limit                                        *int
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 10000 {
			return nil, invalid("Limit %d: must be between 1 and 10000", *in.Limit)
		}
		limit = *in.Limit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	shards := st.after(in.ExclusiveStartShardId)
	more := len(shards) > limit
	if more {
		shards = shards[:limit]
	}
	out := []shardJSON{}
	for _, sh := range shards {
		out = append(out, sh.json())
	}
	return map[string]any{"StreamDescription": map[string]any{
		"StreamName": st.name, "StreamARN": st.arn, "StreamStatus": "ACTIVE",
		"StreamModeDetails": map[string]string{"StreamMode": "PROVISIONED"}, "RetentionPeriodHours": 24,
		"StreamCreationTimestamp": epoch(st.created), "EnhancedMonitoring": []any{map[string]any{"ShardLevelMetrics": []string{}}},
		"EncryptionType": "NONE", "Shards": out, "HasMoreShards": more,
	}}, nil
}

// after returns the shards whose id sorts after id ("" = all), in id order.
func (st *stream) after(id string) []*shard {
	i := sort.Search(len(st.shards), func(i int) bool { return st.shards[i].id > id })
	return st.shards[i:]
}

type listToken struct {
	Stream string `json:"s"`
	After  string `json:"a"`
	Issued int64  `json:"t"`
}

func (s *Server) listShards(body []byte) (any, *APIError) {
	var in struct {
		StreamName, StreamARN, ExclusiveStartShardId, NextToken string
		MaxResults                                              *int
		ShardFilter                                             json.RawMessage
		StreamCreationTimestamp                                 *float64
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.ShardFilter) > 0 {
		return nil, invalid("ShardFilter is not supported by this emulator")
	}
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10000 {
			return nil, invalid("MaxResults %d: must be between 1 and 10000", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	after := in.ExclusiveStartShardId
	name, arn := in.StreamName, in.StreamARN
	if in.NextToken != "" {
		if name != "" || arn != "" || after != "" {
			return nil, invalid("NextToken and StreamName/StreamARN/ExclusiveStartShardId cannot be provided together.")
		}
		raw, err := base64.StdEncoding.DecodeString(in.NextToken)
		var tok listToken
		if err != nil || json.Unmarshal(raw, &tok) != nil {
			return nil, invalid("NextToken is invalid.")
		}
		if s.cfg.Clock().Sub(time.UnixMilli(tok.Issued)) > 5*time.Minute {
			return nil, apiErr("ExpiredNextTokenException", "The NextToken has expired.")
		}
		name, after = tok.Stream, tok.After
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(name, arn)
	if e != nil {
		return nil, e
	}
	shards := st.after(after)
	out := map[string]any{}
	if len(shards) > limit {
		shards = shards[:limit]
		raw, _ := json.Marshal(listToken{Stream: st.name, After: shards[limit-1].id, Issued: s.cfg.Clock().UnixMilli()})
		out["NextToken"] = base64.StdEncoding.EncodeToString(raw)
	}
	list := []shardJSON{}
	for _, sh := range shards {
		list = append(list, sh.json())
	}
	out["Shards"] = list
	return out, nil
}

// hashOf maps a partition key (or an explicit hash key) to the 128-bit hash space.
func hashOf(pk, explicit string) (*big.Int, *APIError) {
	if explicit != "" {
		h, ok := new(big.Int).SetString(explicit, 10)
		if !ok || h.Sign() < 0 || h.Cmp(maxHash) > 0 {
			return nil, invalid("ExplicitHashKey %q: must be a decimal integer in [0, 2^128-1]", explicit)
		}
		return h, nil
	}
	sum := md5.Sum([]byte(pk))
	return new(big.Int).SetBytes(sum[:]), nil
}

func (st *stream) route(h *big.Int) *shard {
	for _, sh := range st.shards {
		if sh.open() && sh.lo.Cmp(h) <= 0 && h.Cmp(sh.hi) <= 0 {
			return sh
		}
	}
	return nil
}

// put stores one record; the caller holds s.mu. limit applies the shard's write quota.
func (s *Server) put(st *stream, pk, explicit string, data []byte, limit bool) (*shard, uint64, *APIError) {
	if len(pk) < 1 || len(pk) > 256 {
		return nil, 0, invalid("PartitionKey: length %d must be between 1 and 256", len(pk))
	}
	if len(data)+len(pk) > 1<<20 {
		return nil, 0, invalid("Data and PartitionKey of a record exceed 1 MiB (%d bytes)", len(data)+len(pk))
	}
	h, e := hashOf(pk, explicit)
	if e != nil {
		return nil, 0, e
	}
	sh := st.route(h)
	now := s.cfg.Clock()
	if limit && ((sh.writeRecs != nil && !sh.writeRecs.AllowN(now, 1)) || (sh.writeB != nil && !sh.writeB.AllowN(now, min(len(data)+len(pk), sh.writeB.Burst())))) {
		return sh, 0, apiErr("ProvisionedThroughputExceededException", "Rate exceeded for shard %s in stream %s under account %s.", sh.id, st.name, s.cfg.AccountID)
	}
	n := s.nextN
	s.nextN++
	sh.records = append(sh.records, record{n: n, pk: pk, data: slices.Clone(data), arrival: now})
	return sh, n, nil
}

// Put stores a record as PutRecord does, without quotas or faults (in-process helper for
// producers such as the CloudWatch Logs subscription of the demo). It returns the shard id and
// sequence number.
func (s *Server) Put(streamName, partitionKey string, data []byte) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(streamName, "")
	if e != nil {
		return "", "", e
	}
	sh, n, e := s.put(st, partitionKey, "", data, false)
	if e != nil {
		return "", "", e
	}
	return sh.id, seq(n), nil
}

func (s *Server) putRecord(body []byte) (any, *APIError) {
	var in struct {
		StreamName, StreamARN, PartitionKey, ExplicitHashKey string
		Data                                                 []byte
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	sh, n, e := s.put(st, in.PartitionKey, in.ExplicitHashKey, in.Data, true)
	if e != nil {
		return nil, e
	}
	return map[string]any{"ShardId": sh.id, "SequenceNumber": seq(n), "EncryptionType": "NONE"}, nil
}

func (s *Server) putRecords(body []byte) (any, *APIError) {
	var in struct {
		StreamName, StreamARN string
		Records               []struct {
			PartitionKey, ExplicitHashKey string
			Data                          []byte
		}
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.Records) < 1 || len(in.Records) > 500 {
		return nil, invalid("Records: %d records; must be between 1 and 500", len(in.Records))
	}
	total := 0
	for _, r := range in.Records {
		total += len(r.Data) + len(r.PartitionKey)
	}
	if total > 5<<20 {
		return nil, invalid("Records: %d bytes in all; the limit is 5 MiB", total)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	type result struct {
		SequenceNumber string `json:"SequenceNumber,omitempty"`
		ShardID        string `json:"ShardId,omitempty"`
		ErrorCode      string `json:"ErrorCode,omitempty"`
		ErrorMessage   string `json:"ErrorMessage,omitempty"`
	}
	out := make([]result, len(in.Records))
	failed := 0
	for i, r := range in.Records {
		sh, n, e := s.put(st, r.PartitionKey, r.ExplicitHashKey, r.Data, true)
		switch {
		case e != nil && e.Code == "ProvisionedThroughputExceededException":
			out[i] = result{ErrorCode: e.Code, ErrorMessage: e.Message}
			failed++
		case e != nil:
			return nil, e
		default:
			out[i] = result{SequenceNumber: seq(n), ShardID: sh.id}
		}
	}
	return map[string]any{"FailedRecordCount": failed, "Records": out, "EncryptionType": "NONE"}, nil
}

// An iterator names a shard and the first position to read, and when it was issued; a keyed
// check word makes a forged or garbled one detectable.
type iterator struct {
	stream, shard string
	from          uint64
	issued        int64 // ms
}

func (s *Server) encodeIterator(it iterator) string {
	b := binary.BigEndian.AppendUint64(nil, it.from)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issued))
	b = append(b, byte(len(it.stream)))
	b = append(b, it.stream...)
	b = append(b, it.shard...)
	b = binary.BigEndian.AppendUint64(b, s.check(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) check(b []byte) uint64 {
	h := s.secret
	for _, c := range b {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return h
}

func (s *Server) decodeIterator(text string) (iterator, *APIError) {
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(b) < 25 {
		return iterator{}, invalid("Invalid ShardIterator.")
	}
	body, sum := b[:len(b)-8], binary.BigEndian.Uint64(b[len(b)-8:])
	if s.check(body) != sum || int(body[16]) > len(body)-17 {
		return iterator{}, invalid("Invalid ShardIterator.")
	}
	nl := int(body[16])
	return iterator{from: binary.BigEndian.Uint64(body), issued: int64(binary.BigEndian.Uint64(body[8:])),
		stream: string(body[17 : 17+nl]), shard: string(body[17+nl:])}, nil
}

func (s *Server) getShardIterator(body []byte) (any, *APIError) {
	var in struct {
		StreamName, StreamARN, ShardId, ShardIteratorType, StartingSequenceNumber string
		Timestamp                                                                 *float64
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	sh, e := st.shard(in.ShardId)
	if e != nil {
		return nil, e
	}
	now := s.cfg.Clock()
	if sh.iterCall != nil && !sh.iterCall.AllowN(now, 1) {
		return nil, apiErr("ProvisionedThroughputExceededException", "Rate exceeded for shard %s in stream %s under account %s.", sh.id, st.name, s.cfg.AccountID)
	}
	var from uint64
	switch in.ShardIteratorType {
	case "TRIM_HORIZON":
		from = sh.startN
	case "LATEST":
		from = s.nextN
		if !sh.open() {
			from = sh.endN + 1
		}
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		n, ok := parseSeq(in.StartingSequenceNumber)
		if !ok {
			return nil, invalid("StartingSequenceNumber %q: not a valid sequence number", in.StartingSequenceNumber)
		}
		if n < sh.startN || n >= s.nextN || (!sh.open() && n > sh.endN) {
			return nil, invalid("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.", in.StartingSequenceNumber, sh.id, st.name, s.cfg.AccountID)
		}
		from = n
		if in.ShardIteratorType == "AFTER_SEQUENCE_NUMBER" {
			from++
		}
	case "AT_TIMESTAMP":
		if in.Timestamp == nil {
			return nil, invalid("Timestamp is required for AT_TIMESTAMP")
		}
		ts := time.UnixMilli(int64(math.Round(*in.Timestamp * 1000)))
		i := sort.Search(len(sh.records), func(i int) bool { return !sh.records[i].arrival.Before(ts) })
		if i < len(sh.records) {
			from = sh.records[i].n
		} else if sh.open() {
			from = s.nextN
		} else {
			from = sh.endN + 1
		}
	default:
		return nil, invalid("ShardIteratorType %q: must be TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP", in.ShardIteratorType)
	}
	return map[string]string{"ShardIterator": s.encodeIterator(iterator{stream: st.name, shard: sh.id, from: from, issued: now.UnixMilli()})}, nil
}

const maxGetRecordsBytes = 10 << 20

func (s *Server) getRecords(body []byte) (any, *APIError) {
	var in struct {
		ShardIterator string
		Limit         *int
		StreamARN     string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	limit := 10000
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 10000 {
			return nil, invalid("Limit %d: must be between 1 and 10000", *in.Limit)
		}
		limit = *in.Limit
	}
	it, e := s.decodeIterator(in.ShardIterator)
	if e != nil {
		return nil, e
	}
	now := s.cfg.Clock()
	if now.Sub(time.UnixMilli(it.issued)) > s.cfg.IteratorLifetime {
		return nil, apiErr("ExpiredIteratorException", "Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of 300000 milliseconds.",
			time.UnixMilli(it.issued).UTC().Format(time.RFC1123), now.UTC().Format(time.RFC1123))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(it.stream, "")
	if e != nil {
		return nil, e
	}
	sh, e := st.shard(it.shard)
	if e != nil {
		return nil, e
	}
	if sh.readCalls != nil && !sh.readCalls.AllowN(now, 1) {
		return nil, apiErr("ProvisionedThroughputExceededException", "Rate exceeded for shard %s in stream %s under account %s.", sh.id, st.name, s.cfg.AccountID)
	}
	if s.cfg.ReadBytesPerSecond > 0 {
		sh.readBytes = math.Min(s.cfg.ReadBytesPerSecond, sh.readBytes+now.Sub(sh.readAt).Seconds()*s.cfg.ReadBytesPerSecond)
		sh.readAt = now
		if sh.readBytes < 0 {
			return nil, apiErr("ProvisionedThroughputExceededException", "Rate exceeded for shard %s in stream %s under account %s.", sh.id, st.name, s.cfg.AccountID)
		}
	}
	i := sort.Search(len(sh.records), func(i int) bool { return sh.records[i].n >= it.from })
	type recJSON struct {
		SequenceNumber              string  `json:"SequenceNumber"`
		ApproximateArrivalTimestamp float64 `json:"ApproximateArrivalTimestamp"`
		Data                        []byte  `json:"Data"`
		PartitionKey                string  `json:"PartitionKey"`
		EncryptionType              string  `json:"EncryptionType"`
	}
	recs := []recJSON{}
	size := 0
	next := it.from
	for ; i < len(sh.records) && len(recs) < limit; i++ {
		r := sh.records[i]
		if len(recs) > 0 && size+len(r.data)+len(r.pk) > maxGetRecordsBytes {
			break
		}
		size += len(r.data) + len(r.pk)
		recs = append(recs, recJSON{seq(r.n), epoch(r.arrival), r.data, r.pk, "NONE"})
		next = r.n + 1
	}
	if s.cfg.ReadBytesPerSecond > 0 {
		sh.readBytes -= float64(size)
	}
	behind := int64(0)
	if i < len(sh.records) && len(recs) > 0 {
		behind = now.Sub(sh.records[i-1].arrival).Milliseconds()
	} else if i < len(sh.records) {
		behind = now.Sub(sh.records[i].arrival).Milliseconds()
	}
	out := map[string]any{"Records": recs, "MillisBehindLatest": behind}
	if !sh.open() && i >= len(sh.records) {
		// The end of a closed shard: no next iterator; the children to go on with.
		var children []map[string]any
		for _, c := range st.shards {
			if c.parent == sh.id || c.adjacent == sh.id {
				parents := []string{c.parent}
				if c.adjacent != "" {
					parents = append(parents, c.adjacent)
				}
				children = append(children, map[string]any{"ShardId": c.id, "ParentShards": parents, "HashKeyRange": hashRange{c.lo.String(), c.hi.String()}})
			}
		}
		out["ChildShards"] = children
		return out, nil
	}
	if next < it.from {
		next = it.from
	}
	out["NextShardIterator"] = s.encodeIterator(iterator{stream: st.name, shard: sh.id, from: next, issued: now.UnixMilli()})
	return out, nil
}

func (s *Server) closeShard(sh *shard) {
	if len(sh.records) > 0 {
		sh.endN = sh.records[len(sh.records)-1].n
	} else {
		sh.endN = max(sh.startN, s.nextN-1)
	}
	s.nextN++ // children start strictly after the parent's end
}

func (s *Server) splitShard(body []byte) (any, *APIError) {
	var in struct{ StreamName, StreamARN, ShardToSplit, NewStartingHashKey string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	sh, e := st.shard(in.ShardToSplit)
	if e != nil {
		return nil, e
	}
	if !sh.open() {
		return nil, apiErr("ResourceInUseException", "Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", sh.id, st.name, s.cfg.AccountID)
	}
	at, ok := new(big.Int).SetString(in.NewStartingHashKey, 10)
	if !ok || at.Cmp(sh.lo) <= 0 || at.Cmp(sh.hi) > 0 {
		return nil, invalid("NewStartingHashKey %q must be inside the hash key range of shard %s (%s..%s), above its start", in.NewStartingHashKey, sh.id, sh.lo, sh.hi)
	}
	s.closeShard(sh)
	s.newShard(st, new(big.Int).Set(sh.lo), new(big.Int).Sub(at, big.NewInt(1)), sh.id, "")
	s.newShard(st, at, new(big.Int).Set(sh.hi), sh.id, "")
	return struct{}{}, nil
}

func (s *Server) mergeShards(body []byte) (any, *APIError) {
	var in struct{ StreamName, StreamARN, ShardToMerge, AdjacentShardToMerge string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.stream(in.StreamName, in.StreamARN)
	if e != nil {
		return nil, e
	}
	a, e := st.shard(in.ShardToMerge)
	if e != nil {
		return nil, e
	}
	b, e := st.shard(in.AdjacentShardToMerge)
	if e != nil {
		return nil, e
	}
	if !a.open() || !b.open() {
		return nil, apiErr("ResourceInUseException", "Shards %s and %s in stream %s: one has already been merged or split.", a.id, b.id, st.name)
	}
	one := big.NewInt(1)
	lo, hi := a.lo, b.hi
	switch {
	case new(big.Int).Add(a.hi, one).Cmp(b.lo) == 0:
	case new(big.Int).Add(b.hi, one).Cmp(a.lo) == 0:
		lo, hi = b.lo, a.hi
	default:
		return nil, invalid("Shards %s and %s in stream %s under account %s are not adjacent.", a.id, b.id, st.name, s.cfg.AccountID)
	}
	s.closeShard(a)
	s.closeShard(b)
	s.newShard(st, new(big.Int).Set(lo), new(big.Int).Set(hi), a.id, b.id)
	return struct{}{}, nil
}
