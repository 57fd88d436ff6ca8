package config

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.yaml.in/yaml/v3"

	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/lease"
)

// TestDefaultsDocumentedOnce holds the effective config that check-config prints for an empty
// file (Default, the only place defaults are written) against the default column of
// docs/configuration.md, key by key and both ways: every key of the ingest, checkpoint,
// aggregate and workers sections has its default documented, and every documented default is
// the one the code applies. Then it checks that the runtime options built from those defaults
// carry them unchanged (ingest applies none of its own: the start position is config's -15m).
func TestDefaultsDocumentedOnce(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{} // "ingest.max_delay" -> "15m"
	section := ""
	heading := regexp.MustCompile("^## `([a-z_]+)(\\[\\])?`")
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| `([^`]*)`")
	for _, line := range strings.Split(string(doc), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			section = m[1]
			if m[2] != "" {
				section = "" // sources[]: no defaults of its own
			}
			continue
		}
		if section == "" {
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil {
			key := section + "." + m[1]
			if section == m[1] {
				key = m[1] // workers
			}
			documented[key] = m[2]
		}
	}

	printed, err := Default().YAML() // what check-config prints, before any user key
	if err != nil {
		t.Fatal(err)
	}
	var effective map[string]any
	if err := yaml.Unmarshal(printed, &effective); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for sec, v := range effective {
		m, ok := v.(map[string]any)
		if !ok {
			if sec != "sources" {
				keys[sec] = true
			}
			continue
		}
		for k := range m {
			keys[sec+"."+k] = true
		}
	}
	for k := range keys {
		if _, ok := documented[k]; !ok {
			t.Errorf("%s: printed by check-config but its default is not in docs/configuration.md", k)
		}
	}
	for k, v := range documented {
		if !keys[k] {
			t.Errorf("%s: documented with default %q but not a key of the effective config", k, v)
			continue
		}
		// Decode the documented value into an empty File and compare that field with Default's.
		sec, key, nested := strings.Cut(k, ".")
		src := k + ": " + v
		if nested {
			src = sec + ":\n  " + key + ": " + v
		}
		var got File
		dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
		dec.KnownFields(true)
		if err := dec.Decode(&got); err != nil {
			t.Errorf("%s: documented default %q does not decode: %v", k, v, err)
			continue
		}
		want := Default()
		if g, w := field(t, got, k), field(t, want, k); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: docs say %q (%v), the code applies %v", k, v, g, w)
		}
	}

	cfg, err := Load([]byte("sources: [{log_group: g}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.IngestOptions
	if o.StartOffset != -15*time.Minute || o.MaxDelay != 15*time.Minute || o.LateGrace != 5*time.Minute ||
		o.PollInterval != 30*time.Second || o.MaxDefer != 2*time.Minute || o.RequestsPerSecond != 5 ||
		o.MaxInFlight != 4 || o.DiscoveryInterval != 5*time.Minute || !reflect.DeepEqual(o.EarlyPasses, []time.Duration{5 * time.Minute}) ||
		len(o.Groups) != 1 || o.Groups[0].Name != "g" {
		t.Errorf("ingest options built from the defaults = %+v", o)
	}
	if cfg.Workers < 1 {
		t.Errorf("workers 0 must become GOMAXPROCS, got %d", cfg.Workers)
	}
}

// field returns the value of the File field whose YAML path is k ("ingest.max_delay").
func field(t *testing.T, f File, k string) any {
	t.Helper()
	v := reflect.ValueOf(f)
	for _, name := range strings.Split(k, ".") {
		found := false
		for i := range v.NumField() {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if tag == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			t.Fatalf("no field %q in %s", name, k)
		}
	}
	return v.Interface()
}

// TestAcceptedConfigsRun checks that check-config's validation is the daemon's: every config
// that Load accepts (the examples in configs/ and testdata/good) builds an ingest Manager, the
// only validation the daemon adds, so check-config passes nothing that flowd run refuses.
func TestAcceptedConfigsRun(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../configs/*.yaml")
	good, _ := filepath.Glob("testdata/good/*")
	files = append(files, good...)
	if len(files) < 3 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		cfg, err := LoadFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(cfg.IngestOptions.Groups) == 0 && len(cfg.IngestOptions.Discovery) == 0 && len(cfg.Inventories) > 0 && cfg.Inventories[0].Discover {
			continue // only discover sources: the app waits for the discovered groups, then builds the Manager with them
		}
		for _, s := range cfg.Sources {
			if s.Kinesis == nil {
				continue
			}
			table, err := lease.NewTable(dynamodb.New(dynamodb.Options{}), s.Kinesis.LeaseTable)
			if err == nil {
				_, err = kinesis.New(cfg.KinesisOptions(s, "test-owner"), kds.New(kds.Options{}), table, nil, nil)
			}
			if err != nil {
				t.Errorf("%s: %s accepted by config but refused by the Kinesis source: %v", f, s.Name(), err)
			}
		}
		if len(cfg.IngestOptions.Groups) == 0 && len(cfg.IngestOptions.Discovery) == 0 {
			continue // only Kinesis sources: no Manager
		}
		none := ingest.ClientFactoryFunc(func(context.Context, ingest.AWSSpec) (ingest.Client, error) { return nil, nil })
		if _, err := ingest.New(cfg.IngestOptions, none, nil, nil); err != nil {
			t.Errorf("%s: accepted by config but refused by ingest: %v", f, err)
		}
	}
}
