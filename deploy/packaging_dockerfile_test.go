package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flowd-dev/flowd/internal/config"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string
}

// stage is the instructions from one FROM to the next.
type stage struct {
	From         string
	Instructions []instruction
}

func dockerfileStages(t *testing.T) []stage {
	t.Helper()
	var (
		stages  []stage
		pending strings.Builder
	)
	for _, line := range strings.Split(string(readFile(t, "Dockerfile")), "\n") {
		trimmed := strings.TrimSpace(line)
		if pending.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		pending.WriteString(trimmed)
		text := pending.String()
		pending.Reset()
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		switch {
		case in.Cmd == "FROM":
			stages = append(stages, stage{From: in.Args})
		case len(stages) > 0:
			stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a runtime stage", len(stages))
	}
	return stages
}

func (s stage) args(cmd string) []string {
	var out []string
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

func TestDockerfileRuntimeStage(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages[len(stages)-1]
	checks := []struct {
		cmd  string
		want []string
	}{
		{"USER", []string{"65532:65532"}},
		{"EXPOSE", []string{"9820"}},
		{"VOLUME", []string{`["/var/lib/flowd"]`}},
		{"ENTRYPOINT", []string{`["/usr/local/bin/flowd"]`}},
		{"CMD", []string{`["run", "--config.file=/etc/flowd/flowd.yaml"]`}},
		{"RUN", nil}, // scratch has no shell: a RUN here could never have worked
	}
	if final.From != "scratch" {
		t.Errorf("runtime stage FROM %q, want scratch (CI builds exactly this stage)", final.From)
	}
	for _, c := range checks {
		if got := final.args(c.cmd); !slices.Equal(got, c.want) {
			t.Errorf("runtime stage %s %q, want %q", c.cmd, got, c.want)
		}
	}
	for _, cp := range final.args("COPY") {
		if !strings.HasPrefix(cp, "--from=build ") {
			t.Errorf("runtime COPY %q: everything must come from the build stage's /out", cp)
		}
	}
}

func TestDockerfileBuildStage(t *testing.T) {
	build := dockerfileStages(t)[0]
	if !strings.HasPrefix(build.From, "golang:") || !strings.HasSuffix(build.From, " AS build") {
		t.Errorf("build stage FROM %q, want a golang image named build", build.From)
	}
	if !slices.Contains(build.args("ENV"), "CGO_ENABLED=0") {
		t.Error("build stage must set CGO_ENABLED=0: the scratch image has no libc")
	}
	var goBuild string
	for _, run := range build.args("RUN") {
		if strings.Contains(run, "go build") {
			goBuild = run
		}
	}
	for _, want := range []string{"-trimpath", "-ldflags=", "./cmd/flowd", "check-config --config.file="} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the go build RUN lacks %q: %s", want, goBuild)
		}
	}
	// The baked-in config must be one flowd accepts.
	m := regexp.MustCompile(`cp (\S+\.yaml) /out/rootfs/etc/flowd/flowd\.yaml`).FindStringSubmatch(goBuild)
	if m == nil {
		t.Fatal("the build stage does not copy a config to /etc/flowd/flowd.yaml")
	}
	if _, err := config.Load(readFile(t, m[1])); err != nil {
		t.Errorf("baked-in config %s: %v", m[1], err)
	}
}

// TestDockerfileVersionVariablesExist checks every -X of the -ldflags names a package-level
// string variable that exists: the linker silently ignores a -X whose target is missing, and the
// image would report version "dev" for ever.
func TestDockerfileVersionVariablesExist(t *testing.T) {
	var goBuild string
	for _, run := range dockerfileStages(t)[0].args("RUN") {
		if strings.Contains(run, "go build") {
			goBuild = run
		}
	}
	targets := regexp.MustCompile(`-X (\S+)\.(\w+)=`).FindAllStringSubmatch(goBuild, -1)
	if len(targets) == 0 {
		t.Fatal("no -X pkg.Var=value in the go build -ldflags")
	}
	for _, m := range targets {
		pkg, name := m[1], m[2]
		t.Run(pkg+"."+name, func(t *testing.T) {
			// The main package is named "main" for -X, whatever its import path.
			dir := filepath.Join(repoRoot, "cmd", "flowd")
			if pkg != "main" {
				rel, ok := strings.CutPrefix(pkg, "github.com/flowd-dev/flowd/")
				if !ok {
					t.Fatalf("-X %s.%s: not a flowd package", pkg, name)
				}
				dir = filepath.Join(repoRoot, rel)
			}
			if !stringVarDeclared(t, dir, name) {
				t.Errorf("no package-level string variable %s in %s", name, dir)
			}
		})
	}
}

// stringVarDeclared reports whether a non-test file in dir declares var name of type string
// (explicitly or by a string literal), which is what -X can set.
func stringVarDeclared(t *testing.T, dir, name string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("package dir: %v", err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if id.Name != name {
						continue
					}
					if typ, ok := vs.Type.(*ast.Ident); ok && typ.Name == "string" {
						return true
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// TestReleaseBuildsAsTheDockerfile checks scripts/release.sh builds its binaries with the
// Dockerfile's flags (the same -ldflags, -trimpath, no cgo), for linux/amd64 and arm64, so the
// released binaries are the image's binary for each architecture.
func TestReleaseBuildsAsTheDockerfile(t *testing.T) {
	var goBuild string
	for _, run := range dockerfileStages(t)[0].args("RUN") {
		if strings.Contains(run, "go build") {
			goBuild = run
		}
	}
	docker := regexp.MustCompile(`-ldflags="([^"]+)"`).FindStringSubmatch(goBuild)
	if docker == nil {
		t.Fatalf("no -ldflags in the Dockerfile's go build: %s", goBuild)
	}
	script := string(readFile(t, "scripts/release.sh"))
	release := regexp.MustCompile(`(?m)^ldflags="([^"]+)"$`).FindStringSubmatch(script)
	if release == nil {
		t.Fatal(`scripts/release.sh has no ldflags="..." line`)
	}
	// The Dockerfile's build arguments are the script's shell variables.
	want := strings.NewReplacer("${VERSION}", "${version}", "${REVISION}", "${revision}").Replace(docker[1])
	if release[1] != want {
		t.Errorf("scripts/release.sh -ldflags %q, want the Dockerfile's %q", release[1], want)
	}
	for _, want := range []string{"CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath", "arches=(amd64 arm64)", "sha256sum", "helm\" package", "bud "} {
		if !strings.Contains(script, want) {
			t.Errorf("scripts/release.sh lacks %q", want)
		}
	}
}
