package analyze

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputAmongGood runs a truncated gzip, a missing file and a directory among good files:
// the bad ones are reported with their name and where they broke, the good ones and the complete
// lines before the break are summarised, and the exit code says an input failed. The truth is
// counted independently: the gzip program decompresses what it can of the truncated file, and
// recount (strings.Fields and strconv) counts its complete lines and the good files.
func TestBadInputAmongGood(t *testing.T) {
	t.Parallel()
	gz, err := exec.LookPath("gzip")
	if err != nil {
		t.Fatalf("the independent count needs the gzip program: %v", err)
	}
	// gzip -dc writes what it decompressed, then fails on the truncation.
	var prefix bytes.Buffer
	cmd := exec.Command(gz, "-dc", "testdata/truncated.gz")
	cmd.Stdout = &prefix
	if err := cmd.Run(); err == nil {
		t.Fatal("gzip -dc testdata/truncated.gz succeeded: the file is not truncated")
	}
	complete := prefix.Bytes()[:bytes.LastIndexByte(prefix.Bytes(), '\n')+1]
	dir := t.TempDir()
	prefixFile := filepath.Join(dir, "truncated-prefix.log")
	if err := os.WriteFile(prefixFile, complete, 0o600); err != nil {
		t.Fatal(err)
	}
	want := recount(t, "testdata/plain.log", prefixFile, "testdata/plain.log.gz")
	if want.records < 50 {
		t.Fatalf("the truncated file yields %d records: too few to tell counted from dropped", want.records)
	}
	truncatedLines := bytes.Count(complete, []byte{'\n'})
	size, err := os.Stat("testdata/truncated.gz")
	if err != nil {
		t.Fatal(err)
	}

	missing := filepath.Join(dir, "missing.log")
	files := []string{"testdata/plain.log", "testdata/truncated.gz", missing, dir, "testdata/plain.log.gz"}
	var out, errb bytes.Buffer
	code := Main(append([]string{"--output", "json"}, files...), nil, &out, &errb)
	if code != ExitError {
		t.Errorf("exit %d, want %d (an input failed)", code, ExitError)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("no summary printed: %v\nstdout %q\nstderr %s", err, out.String(), errb.String())
	}
	if rep.Records != want.records || rep.Malformed != want.malformed {
		t.Errorf("records/malformed = %d/%d, want %d/%d", rep.Records, rep.Malformed, want.records, want.malformed)
	}
	for _, act := range []string{"ACCEPT", "REJECT"} {
		if rep.Totals[act] != want.totals[act] {
			t.Errorf("totals[%s] = %+v, want %+v", act, rep.Totals[act], want.totals[act])
		}
	}
	if len(rep.Files) != len(files) {
		t.Fatalf("%d files in the report, want %d", len(rep.Files), len(files))
	}
	for i, f := range rep.Files {
		if bad := i >= 1 && i <= 3; bad != (f.Error != "") {
			t.Errorf("files[%d] %s: error %q", i, f.Name, f.Error)
		}
	}
	if rep.Files[1].Lines != uint64(truncatedLines) {
		t.Errorf("truncated.gz: %d lines, gzip -dc gave %d complete lines", rep.Files[1].Lines, truncatedLines)
	}
	stderr := errb.String()
	for _, w := range []string{
		fmt.Sprintf("read testdata/truncated.gz: after line %d (byte %d decompressed): gzip: unexpected EOF at byte %d of the file", truncatedLines, prefix.Len(), size.Size()),
		"read " + missing + ": open " + missing + ": no such file or directory",
		"read " + dir + ": read " + dir + ": is a directory",
		"3 of 5 inputs failed",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}

	// The table marks the failed inputs too.
	out.Reset()
	errb.Reset()
	if code := Main(files[:3], nil, &out, &errb); code != ExitError || !strings.Contains(out.String(), "(FAILED, see stderr)") {
		t.Errorf("table: exit %d, output:\n%s", code, out.String())
	}
}

func TestUpgradeArgs(t *testing.T) {
	t.Parallel()
	var warn bytes.Buffer
	got := UpgradeArgs([]string{"-output", "json", "-log-format=${version}", "--top", "5", "-h", "-", "-nope", "--", "-output"}, &warn)
	want := []string{"--output", "json", "--log-format=${version}", "--top", "5", "-h", "-", "-nope", "--", "-output"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("UpgradeArgs = %q, want %q", got, want)
	}
	if w := warn.String(); !strings.Contains(w, "-output is deprecated, use --output") || !strings.Contains(w, "-log-format is deprecated, use --log-format") || strings.Count(w, "\n") != 2 {
		t.Errorf("warnings %q", w)
	}
}

// TestRecordFormatFlags checks the old and new spellings of the record-format flag end in the
// same list, the old one with a deprecation warning.
func TestRecordFormatFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args       []string
		deprecated bool
	}{
		{args: []string{"--record-format", defaultSpec}},
		{args: []string{"--log-format", defaultSpec}, deprecated: true},
		{args: []string{"-log-format=" + defaultSpec}, deprecated: true},
	} {
		var out, errb bytes.Buffer
		code := Main(append(tc.args, "--output=json", "testdata/plain.log"), nil, &out, &errb)
		if code != ExitOK {
			t.Errorf("%q: exit %d: %s", tc.args, code, errb.String())
			continue
		}
		if got := strings.Contains(errb.String(), "--log-format is deprecated, use --record-format"); got != tc.deprecated {
			t.Errorf("%q: deprecation warning %v, want %v: %q", tc.args, got, tc.deprecated, errb.String())
		}
		var rep Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Records == 0 {
			t.Errorf("%q: records %d, %v", tc.args, rep.Records, err)
		}
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// FuzzReadChunks checks readChunks against the plain reading of its input: the emitted text is
// the input (up to the last complete line when the read fails), the line numbers follow, and a
// failure reports the lines and bytes read.
func FuzzReadChunks(f *testing.F) {
	f.Add([]byte("a\nb\n"), false)
	f.Add([]byte("a\nb"), true)
	f.Add([]byte("\n\n\r\nlast"), false)
	f.Fuzz(func(t *testing.T, data []byte, fail bool) {
		var rerr error = io.EOF
		if fail {
			rerr = io.ErrUnexpectedEOF
		}
		var got strings.Builder
		next := 1
		lines, err := readChunks(&failingReader{data: data, err: rerr}, func(text string, first int) {
			if first != next {
				t.Errorf("chunk starts at line %d, want %d", first, next)
			}
			got.WriteString(text)
			next = first + strings.Count(text, "\n")
			if !strings.HasSuffix(text, "\n") {
				next++
			}
		}, func(int) { t.Error("a line under the buffer size reported too long") })
		want := string(data)
		wantLines := strings.Count(want, "\n")
		if fail {
			want = want[:strings.LastIndexByte(want, '\n')+1]
			var pe *PositionError
			if !errors.As(err, &pe) || pe.Lines != wantLines || pe.Offset != int64(len(data)) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v, want a PositionError at line %d, byte %d", err, wantLines, len(data))
			}
		} else {
			if err != nil {
				t.Errorf("error %v", err)
			}
			if len(want) > 0 && !strings.HasSuffix(want, "\n") {
				wantLines++
			}
		}
		if got.String() != want || lines != wantLines {
			t.Errorf("emitted %q, %d lines; want %q, %d", got.String(), lines, want, wantLines)
		}
	})
}
