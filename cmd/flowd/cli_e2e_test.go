package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// TestMain removes the binary flowdBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		_ = os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// flowdBinary builds the binary once for the tests of this package that run it.
func flowdBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flowd-cli-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "flowd")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// result is how a run of the binary ended.
type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs the binary with args in dir (a fresh empty directory if ""), env added to the
// environment, and stdin; it waits for the process to end (a minute at most: a backstop for a
// hung binary, not a wait for something to happen).
func runBinary(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, flowdBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("flowd %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("flowd %q did not end within a minute", args)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// TestHelpPaths runs every help path of every command on the built binary, in an empty directory
// (no flowd.yaml), with addresses that would be taken or dialled if the command ran: each must
// print its help on stdout, write nothing on stderr (no logger built, no error) and exit 0.
func TestHelpPaths(t *testing.T) {
	t.Parallel()
	var dialled atomic.Int64
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { dialled.Add(1) }))
	t.Cleanup(probe.Close)
	listen := freePort(t)
	commands := []string{"run", "demo", "analyze", "check-config", "version", "healthcheck"}
	// The flags a run would act on: a config that does not exist, a port, a URL to dial.
	flagsOf := map[string][]string{
		"run":          {"--config.file=/nonexistent/flowd.yaml", "--web.listen-address=" + listen},
		"demo":         {"--web.listen-address=" + listen, "--demo.emulator-address=" + listen},
		"analyze":      {"/nonexistent/flows.log"},
		"check-config": {"/nonexistent/flowd.yaml"},
		"healthcheck":  {"--url=" + probe.URL + "/-/healthy"},
	}
	type tc struct {
		args []string
		want string // on stdout
	}
	cases := []tc{
		{args: []string{"--help"}, want: "usage: flowd [<flags>] <command>"},
		{args: []string{"-h"}, want: "usage: flowd [<flags>] <command>"},
		{args: []string{"help"}, want: "usage: flowd [<flags>] <command>"},
		{args: []string{"--log.level=debug", "--log.format=logfmt", "--help"}, want: "usage: flowd [<flags>] <command>"},
		{args: []string{"--help-long"}, want: "usage: flowd [<flags>] <command>"},
		{args: []string{"--help-man"}, want: ".TH flowd 1"},
		{args: []string{"--version"}, want: "flowd dev (revision "},
		{args: []string{"help", "help"}, want: "usage: flowd help [<command>...]"},
	}
	for _, c := range commands {
		usage := "usage: flowd " + c
		cases = append(cases,
			tc{args: []string{"help", c}, want: usage},
			tc{args: append([]string{c, "--help"}, flagsOf[c]...), want: usage},
			tc{args: append([]string{c, "-h"}, flagsOf[c]...), want: usage},
			tc{args: append(append([]string{c}, flagsOf[c]...), "--help"), want: usage},
			tc{args: append([]string{"--log.level=debug", c, "--help"}, flagsOf[c]...), want: usage},
			tc{args: append([]string{c, "--help-long"}, flagsOf[c]...), want: "usage: flowd"},
			tc{args: append([]string{c, "--help-man"}, flagsOf[c]...), want: ".TH flowd 1"},
		)
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, "", nil, "", c.args...)
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0, %q on stdout, nothing on stderr", r.code, head(r.stdout), r.stderr, c.want)
			}
			if c.args[0] == "version" && regexp.MustCompile(`(?m)^flowd dev \(revision`).MatchString(r.stdout) {
				t.Errorf("version --help printed the version too:\n%s", r.stdout)
			}
		})
	}
	t.Cleanup(func() {
		if n := dialled.Load(); n != 0 {
			t.Errorf("a help path dialled the healthcheck URL %d times", n)
		}
	})
}

func head(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestHelpAnalyzeListsWhatItAccepts checks that `flowd help analyze` lists exactly the flags
// analyze accepts: every flag it lists is taken by `flowd analyze` (with a value fit for it),
// before or after the command for the global ones, and none is missing from the list below,
// so a flag added without a test value fails here.
func TestHelpAnalyzeListsWhatItAccepts(t *testing.T) {
	t.Parallel()
	r := runBinary(t, "", nil, "", "help", "analyze")
	if r.code != 0 {
		t.Fatalf("help analyze: exit %d %s", r.code, r.stderr)
	}
	values := map[string]string{
		"log.level": "debug", "log.format": "logfmt", "web.enable-pprof": "",
		"record-format": defaultFormatForTest, "output": "json", "max-ports": "100",
		"max-interfaces": "100", "top": "5", "window": "24h", "scan-ports": "10", "max-line-bytes": "1000",
	}
	listed := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(?:\[no-\])?([a-z][a-z0-9.-]*)`).FindAllStringSubmatch(r.stdout, -1)
	var names []string
	for _, m := range listed {
		names = append(names, m[1])
	}
	if !slices.Contains(names, "record-format") || slices.Contains(names, "log-format") {
		t.Errorf("help analyze lists %v: want --record-format and not the deprecated --log-format", names)
	}
	plain, err := filepath.Abs(filepath.Join("..", "..", "internal", "analyze", "testdata", "plain.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name == "help" || name == "version" {
			continue // help paths: TestHelpPaths
		}
		v, ok := values[name]
		if !ok {
			t.Errorf("help analyze lists --%s, which this test has no value for: add one", name)
			continue
		}
		flag := "--" + name
		if v != "" {
			flag += "=" + v
		}
		r := runBinary(t, "", nil, "", "analyze", flag, plain)
		if r.code != 0 || !strings.Contains(r.stdout, "RECORDS") && !strings.Contains(r.stdout, `"records"`) {
			t.Errorf("flowd analyze %s: exit %d, stderr %q", flag, r.code, r.stderr)
		}
	}
}

// defaultFormatForTest is the version 2 default format, spelled as the flow log API takes it.
const defaultFormatForTest = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// TestAnalyzeOnTheCLI runs analyze as the user did: with global flags before it, from
// standard input and from a file, and with the old single-dash flags.
func TestAnalyzeOnTheCLI(t *testing.T) {
	t.Parallel()
	plain, err := filepath.Abs(filepath.Join("..", "..", "internal", "analyze", "testdata", "plain.log"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	records := func(t *testing.T, r result) uint64 {
		t.Helper()
		var rep struct {
			Records uint64 `json:"records"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("exit %d, no JSON summary: %v\nstdout %q\nstderr %q", r.code, err, head(r.stdout), r.stderr)
		}
		return rep.Records
	}
	want := uint64(bytes.Count(data, []byte{'\n'})) // plain.log: one record a line
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		deprecated string // the warning expected on stderr
	}{
		{name: "stdin after global flags", stdin: string(data), args: []string{"--log.level=debug", "analyze", "--output=json"}},
		{name: "stdin as -", stdin: string(data), args: []string{"--log.level", "debug", "analyze", "--output", "json", "-"}},
		{name: "file after global flags", args: []string{"--log.level=debug", "analyze", "--output=json", plain}},
		{name: "old single-dash flags", args: []string{"analyze", "-output", "json", "-top=5", plain}, deprecated: "-output is deprecated, use --output"},
		{name: "old record-format flag", args: []string{"analyze", "-log-format", defaultFormatForTest, "--output=json", plain}, deprecated: "--log-format is deprecated, use --record-format"},
		{name: "record-format", args: []string{"analyze", "--record-format", defaultFormatForTest, "--output=json", plain}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, "", nil, tc.stdin, tc.args...)
			if got := records(t, r); r.code != 0 || got != want {
				t.Errorf("exit %d, %d records; want 0 and %d (stderr %q)", r.code, got, want, r.stderr)
			}
			if tc.deprecated == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.deprecated) {
				t.Errorf("stderr %q, want %q", r.stderr, tc.deprecated)
			}
		})
	}
}

// TestAnalyzeReadsAnAtFile: an input whose name starts with @ is read as flow logs, not expanded
// into arguments (kingpin's file expansion is off).
func TestAnalyzeReadsAnAtFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "analyze", "testdata", "plain.log"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "@flows.log"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, dir, nil, "", "analyze", "--output=json", "@flows.log")
	var rep struct {
		Records uint64 `json:"records"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v; stdout %q stderr %q", r.code, err, head(r.stdout), r.stderr)
	}
	if want := uint64(bytes.Count(data, []byte{'\n'})); rep.Records != want {
		t.Errorf("%d records from @flows.log, want %d", rep.Records, want)
	}
}
