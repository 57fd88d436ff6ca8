package app

import (
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/parse"
)

// formatTable finds the record formats of a batch's source. Ingest names a source by its log
// group (name or ARN), plus "#prefix" for a stream prefix; groups found by discovery carry the
// discovered name, so discovery sources are matched by prefix.
type formatTable struct {
	exact    map[string]*parse.Matcher
	prefixes []prefixFormats // longest prefix first
}

type prefixFormats struct {
	prefix, streamSuffix string
	m                    *parse.Matcher
}

func newFormatTable(sources []config.Source) (*formatTable, error) {
	t := &formatTable{exact: make(map[string]*parse.Matcher)}
	for _, s := range sources {
		if s.Discover != "" {
			continue // its groups arrive as sources of their own once discovered
		}
		m, err := parse.NewMatcher(s.Formats...)
		if err != nil {
			return nil, err
		}
		suffix := ""
		if s.LogStreamPrefix != "" {
			suffix = "#" + s.LogStreamPrefix
		}
		switch {
		case s.LogGroup != "":
			t.exact[s.LogGroup+suffix] = m
		case s.LogGroupARN != "":
			t.exact[s.LogGroupARN+suffix] = m
		default:
			t.prefixes = append(t.prefixes, prefixFormats{prefix: s.LogGroupPrefix, streamSuffix: suffix, m: m})
		}
	}
	sort.SliceStable(t.prefixes, func(i, j int) bool { return len(t.prefixes[i].prefix) > len(t.prefixes[j].prefix) })
	return t, nil
}

// lookup returns the matcher of a source name, or nil if no configured source produces it.
func (t *formatTable) lookup(source string) *parse.Matcher {
	if m, ok := t.exact[source]; ok {
		return m
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
			return p.m
		}
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
