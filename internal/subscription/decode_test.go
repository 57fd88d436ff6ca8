package subscription

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The Kinesis example payload of the AWS subscription filter guide (reference §13 shape).
const awsExample = `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"aws-plugin-test-flows","logStream":"eni-aaaaaaaa-all","subscriptionFilters":["match-all"],"logEvents":[{"id":"33503748002479370955346306650196094071913271643270021120","timestamp":1502360020000,"message":"2 123456789 eni-aaaaaaaa 10.0.27.226 10.42.96.199 3604 17720 17 1 132 1502360020 1502360079 REJECT OK"},{"id":"33503748002479370955346306650196094071913271643270021121","timestamp":1502360021000,"message":"line \"two\"\n"}]}`

const controlExample = `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}`

func TestDecodeData(t *testing.T) {
	t.Parallel()
	var d Decoder
	var m Message
	if err := d.Decode(gz(t, awsExample), &m); err != nil {
		t.Fatal(err)
	}
	if m.Control() || m.Owner != "123456789012" || m.LogGroup != "aws-plugin-test-flows" || m.LogStream != "eni-aaaaaaaa-all" {
		t.Fatalf("header: %+v", m)
	}
	if len(m.SubscriptionFilters) != 1 || m.SubscriptionFilters[0] != "match-all" {
		t.Fatalf("filters: %q", m.SubscriptionFilters)
	}
	if len(m.LogEvents) != 2 || m.LogEvents[0].Timestamp != 1502360020000 || !strings.HasSuffix(m.LogEvents[0].Message, "REJECT OK") ||
		m.LogEvents[1].ID != "33503748002479370955346306650196094071913271643270021121" || m.LogEvents[1].Message != "line \"two\"\n" {
		t.Fatalf("events: %+v", m.LogEvents)
	}
	// Reuse: a second decode of the control message resets everything.
	if err := d.Decode(gz(t, controlExample), &m); err != nil {
		t.Fatal(err)
	}
	if !m.Control() || m.LogGroup != "" {
		t.Fatalf("control: %+v", m)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	bomb := gz(t, `{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","message":"`+strings.Repeat("A", 2<<20)+`"}]}`)
	cases := []struct {
		name   string
		data   []byte
		max    int
		field  string
		reason string
	}{
		{"not gzip", []byte("{}"), 0, "data", "gzip"},
		{"truncated gzip", gz(t, awsExample)[:40], 0, "data", "gzip"},
		{"trailing bytes", append(gz(t, awsExample), 0x1f, 0x8b), 0, "data", "gzip"},
		{"bomb", bomb, 1 << 20, "data", "too_large"},
		{"not json", gz(t, "hello"), 0, "payload", "json"},
		{"wrong type", gz(t, `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":"x"}]}`), 0, "logEvents.timestamp", "json"},
		{"fraction", gz(t, `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1.5}]}`), 0, "logEvents.timestamp", "json"},
		{"string type", gz(t, `{"messageType":"DATA_MESSAGE","owner":5}`), 0, "owner", "json"},
		{"trailing data", gz(t, `{"messageType":"CONTROL_MESSAGE"} {}`), 0, "payload", "json"},
		{"no type", gz(t, `{"logGroup":"g"}`), 0, "messageType", "missing_field"},
		{"bad type", gz(t, `{"messageType":"HELLO"}`), 0, "messageType", "bad_value"},
		{"no group", gz(t, `{"messageType":"DATA_MESSAGE","logStream":"s"}`), 0, "logGroup", "missing_field"},
		{"no stream", gz(t, `{"messageType":"DATA_MESSAGE","logGroup":"g"}`), 0, "logStream", "missing_field"},
		{"no id", gz(t, `{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1"},{"timestamp":5}]}`), 0, "logEvents[1].id", "missing_field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{MaxBytes: c.max}
			var m Message
			err := d.Decode(c.data, &m)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Field != c.field || e.Reason != c.reason {
				t.Fatalf("err = %v (field %q reason %q), want field %q reason %q", err, e.Field, e.Reason, c.field, c.reason)
			}
			if c.reason == "too_large" && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	in := Message{MessageType: TypeData, Owner: "1", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{"f"},
		LogEvents: []LogEvent{{ID: "1", Timestamp: 5, Message: "a"}, {ID: "2", Timestamp: 6, Message: "b"}}}
	data, err := Encode(&in)
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	var out Message
	if err := d.Decode(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.LogEvents[1] != in.LogEvents[1] || out.LogGroup != "g" || len(out.LogEvents) != 2 {
		t.Fatalf("round trip: %+v", out)
	}
}

// FuzzDecode: any input gives a message or an *Error, never a panic; what decodes re-encodes
// to the same message.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(gz(f, string(b)))
	}
	f.Add(gz(f, awsExample))
	f.Add(gz(f, controlExample))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Decoder{MaxBytes: 1 << 20}
		var m Message
		err := d.Decode(data, &m)
		// The reference inflates with the standard library; the decoder's gzip layer is
		// klauspost/compress, which also refuses reserved header flag bits (RFC 1952 says a
		// decoder should) that the standard library ignores. Compare the JSON layers only.
		var ge *Error
		if raw, ok := gunzip(data); ok && err != nil && !(errors.As(err, &ge) && ge.Reason == "gzip") {
			var ref Message
			if json.Unmarshal(raw, &ref) == nil && ref.validate() == nil {
				t.Fatalf("encoding/json accepts what the scanner refuses (%v): %q", err, raw)
			}
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" || e.Field == "" {
				t.Fatalf("error %v is not a complete *Error", err)
			}
			return
		}
		// The scanner must agree with encoding/json wherever encoding/json accepts the record.
		if raw, ok := gunzip(data); ok {
			var ref Message
			if json.Unmarshal(raw, &ref) == nil && ref.validate() == nil && !sameMessage(&ref, &m) {
				t.Fatalf("scanner and encoding/json differ:\n%+v\n%+v", m, ref)
			}
		}
		again, err := Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		var m2 Message
		if err := d.Decode(again, &m2); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if m2.LogGroup != m.LogGroup || len(m2.LogEvents) != len(m.LogEvents) {
			t.Fatalf("round trip changed the message: %+v vs %+v", m, m2)
		}
	})
}

func gunzip(data []byte) ([]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	zr.Multistream(false)
	b, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	return b, err == nil && len(b) < 1<<20
}

func sameMessage(a, b *Message) bool {
	return a.MessageType == b.MessageType && a.Owner == b.Owner && a.LogGroup == b.LogGroup && a.LogStream == b.LogStream &&
		slices.Equal(a.SubscriptionFilters, b.SubscriptionFilters) && slices.Equal(a.LogEvents, b.LogEvents)
}

func BenchmarkDecode(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/vpc/flow","logStream":"eni-0123456789abcdef0-all","subscriptionFilters":["flowd"],"logEvents":[`)
	const n = 500
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":"3350374800247937095534665019609407191327164327002112`)
		sb.WriteByte(byte('0' + i%10))
		sb.WriteString(`","timestamp":1502360020000,"message":"2 123456789012 eni-0123456789abcdef0 10.0.27.226 10.42.96.199 3604 17720 6 10 1320 1502360020 1502360079 ACCEPT OK"}`)
	}
	sb.WriteString(`]}`)
	data := gz(b, sb.String())
	var d Decoder
	var m Message
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := d.Decode(data, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// FuzzScan compares the JSON scanner with encoding/json on the uncompressed document: where
// encoding/json decodes a valid record, the scanner must decode the same message.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(awsExample))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var sc scanner
		sc.b = raw
		var m Message
		err := sc.message(&m)
		var ref Message
		refErr := json.Unmarshal(raw, &ref)
		if refErr == nil && ref.validate() == nil {
			if err != nil {
				t.Fatalf("encoding/json accepts what the scanner refuses (%v): %q", err, raw)
			}
			if !sameMessage(&ref, &m) {
				t.Fatalf("scanner and encoding/json differ on %q:\n%+v\n%+v", raw, m, ref)
			}
		}
	})
}
