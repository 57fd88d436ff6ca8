package parse

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// corpusFile is one file of testdata/formats: a format (first line) and its records. Lines
// starting with "#" and blank lines are comments.
type corpusFile struct {
	name   string // file name without .txt
	spec   string
	format *Format
	lines  []string
}

// loadCorpus reads every file of testdata/formats, compiling its format.
func loadCorpus(tb testing.TB) []corpusFile {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "formats", "*.txt"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no testdata formats: %v", err)
	}
	slices.Sort(paths)
	var files []corpusFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		cf := corpusFile{name: strings.TrimSuffix(filepath.Base(p), ".txt")}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if cf.spec == "" {
				cf.spec = line
				continue
			}
			cf.lines = append(cf.lines, line)
		}
		cf.format, err = Compile(cf.spec)
		if err != nil {
			tb.Fatalf("%s: compile %q: %v", p, cf.spec, err)
		}
		if len(cf.lines) == 0 {
			tb.Fatalf("%s: no records", p)
		}
		files = append(files, cf)
	}
	return files
}

// corpusByName returns the file of that name.
func corpusByName(tb testing.TB, files []corpusFile, name string) corpusFile {
	tb.Helper()
	for _, f := range files {
		if f.name == name {
			return f
		}
	}
	tb.Fatalf("no testdata file %s.txt", name)
	return corpusFile{}
}

// recordDiff compares a and b field by field and returns the names of the fields that differ
// (Opaque compared by content, so nil and empty are equal).
func recordDiff(a, b *Record) []string {
	var diff []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < va.NumField(); i++ {
		name := va.Type().Field(i).Name
		if !va.Type().Field(i).IsExported() {
			continue
		}
		if name == "Opaque" {
			if !slices.Equal(a.Opaque, b.Opaque) {
				diff = append(diff, name)
			}
			continue
		}
		if va.Field(i).Interface() != vb.Field(i).Interface() {
			diff = append(diff, name)
		}
	}
	return diff
}
