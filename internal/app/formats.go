package app

import (
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/parse"
)

// formatTable finds the record formats of a batch's source. Ingest names a source by its log
// group (name or ARN), plus "#prefix" for a stream prefix; groups found by discovery carry the
// discovered name, so discovery sources are matched by prefix.
type formatTable struct {
	exact    map[string]route
	prefixes []prefixFormats // longest prefix first
	// streams are the routes of Kinesis sources that count every group of their stream, by
	// the batch source prefix of the stream (kinesis.BatchSource(stream, "")).
	streams map[string]route
	// sets are the aggregators of the label sets the routes name (set by the app before the
	// table is stored, so a worker sees a table and its aggregators together).
	sets *labelSets
}

// route is what a source's records go through: its formats, and the key of its label set.
type route struct {
	m   *parse.Matcher
	key string
}

type prefixFormats struct {
	prefix, streamSuffix string
	route
}

func newFormatTable(sources []config.Source) (*formatTable, error) {
	t := &formatTable{exact: make(map[string]route), streams: make(map[string]route)}
	for _, s := range sources {
		if s.Discover != "" {
			continue // its groups arrive as sources of their own once discovered
		}
		if s.Kinesis != nil {
			if err := t.addStream(s); err != nil {
				return nil, err
			}
			continue
		}
		m, err := parse.NewMatcher(s.Formats...)
		if err != nil {
			return nil, err
		}
		suffix := ""
		if s.LogStreamPrefix != "" {
			suffix = "#" + s.LogStreamPrefix
		}
		r := route{m: m, key: s.Labels.Key()}
		switch {
		case s.LogGroup != "":
			t.exact[s.LogGroup+suffix] = r
		case s.LogGroupARN != "":
			t.exact[s.LogGroupARN+suffix] = r
		default:
			t.prefixes = append(t.prefixes, prefixFormats{prefix: s.LogGroupPrefix, streamSuffix: suffix, route: r})
		}
	}
	sort.SliceStable(t.prefixes, func(i, j int) bool { return len(t.prefixes[i].prefix) > len(t.prefixes[j].prefix) })
	return t, nil
}

// lookup returns the matcher of a source name, or nil if no configured source produces it.
func (t *formatTable) lookup(source string) *parse.Matcher { return t.lookupRoute(source).m }

// lookupRoute returns the route of a source name (a nil matcher if no configured source
// produces it).
func (t *formatTable) lookupRoute(source string) route {
	if r, ok := t.exact[source]; ok {
		return r
	}
	if len(t.streams) > 0 && strings.HasPrefix(source, kinesis.SourcePrefix) {
		for prefix, r := range t.streams {
			if strings.HasPrefix(source, prefix) {
				return r
			}
		}
		return route{}
	}
	for _, p := range t.prefixes {
		group := source
		if p.streamSuffix != "" {
			var ok bool
			if group, ok = strings.CutSuffix(source, p.streamSuffix); !ok {
				continue
			}
		} else if strings.Contains(source, "#") {
			continue
		}
		if strings.HasPrefix(group, p.prefix) {
			return p.route
		}
	}
	return route{}
}

// addStream adds the routes of a Kinesis source: one per listed group, or one for the stream.
func (t *formatTable) addStream(s config.Source) error {
	key := s.Labels.Key()
	if s.Kinesis.Groups == nil {
		m, err := parse.NewMatcher(s.Formats...)
		if err != nil {
			return err
		}
		t.streams[kinesis.BatchSource(s.Kinesis.Stream, "")] = route{m: m, key: key}
		return nil
	}
	for g, kg := range s.Kinesis.Groups {
		m, err := parse.NewMatcher(kg.Formats...)
		if err != nil {
			return err
		}
		t.exact[kinesis.BatchSource(s.Kinesis.Stream, g)] = route{m: m, key: key}
	}
	return nil
}

// warnFormats logs the warnings of every configured format (a misspelled field, a format that
// cannot count flows): such a config is valid, but probably not what was meant.
func warnFormats(log *zap.Logger, sources []config.Source) {
	for _, s := range sources {
		for _, f := range s.Formats {
			for _, w := range f.Warnings() {
				log.Warn("log format warning", zap.String("log_group", s.Name()), zap.String("format", f.String()),
					zap.String("kind", w.Kind.String()), zap.String("warning", w.String()))
			}
		}
	}
}
