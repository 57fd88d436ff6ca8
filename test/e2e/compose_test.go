package e2e

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	composeFile           = "deploy/compose/docker-compose.yml"
	composePrometheusFile = "deploy/compose/prometheus.yml"
)

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   []string          `yaml:"depends_on"`
	Environment map[string]string `yaml:"environment"`
	Restart     string            `yaml:"restart"`
}

type composeProject struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

// decodeStrict decodes YAML into v, rejecting keys v does not declare.
func decodeStrict(t testing.TB, file string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(string(readRepoFile(t, file))))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestComposeStack validates what can be validated without a container engine: the services
// exist, every bind-mounted file or directory exists, named volumes are declared, the build
// context has its Dockerfile, and dependencies name services.
func TestComposeStack(t *testing.T) {
	t.Parallel()
	var c composeProject
	decodeStrict(t, composeFile, &c)
	dir := filepath.Dir(composeFile)
	for _, want := range []string{"flowd", "prometheus", "alertmanager", "grafana"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
	for name, s := range c.Services {
		t.Run(name, func(t *testing.T) {
			if s.Image == "" && s.Build == nil {
				t.Error("neither image nor build")
			}
			if s.Image != "" && s.Build == nil && !strings.Contains(s.Image, ":") {
				t.Errorf("image %q is not pinned to a tag", s.Image)
			}
			if s.Build != nil {
				df := path.Join(dir, s.Build.Context, s.Build.Dockerfile)
				if _, err := os.Stat(filepath.Join(repoRoot, df)); err != nil {
					t.Errorf("build: %v", err)
				}
			}
			for _, v := range s.Volumes {
				src, _, ok := strings.Cut(v, ":")
				if !ok {
					t.Errorf("volume %q has no target", v)
					continue
				}
				if strings.HasPrefix(src, ".") {
					if _, err := os.Stat(filepath.Join(repoRoot, dir, src)); err != nil {
						t.Errorf("volume %q: %v", v, err)
					}
				} else if _, ok := c.Volumes[src]; !ok {
					t.Errorf("named volume %q is not declared", src)
				}
			}
			for _, d := range s.DependsOn {
				if _, ok := c.Services[d]; !ok {
					t.Errorf("depends on unknown service %q", d)
				}
			}
		})
	}
	if cmd := c.Services["flowd"].Command; len(cmd) == 0 || cmd[0] != "demo" {
		t.Errorf("flowd runs %v, want the demo", cmd)
	}
	if !slices.Contains(c.Services["alertmanager"].Command, "--cluster.listen-address=") {
		t.Error("alertmanager should run without clustering (--cluster.listen-address=)")
	}
}

// TestComposePrometheus checks the compose Prometheus config: its rule files are the shipped
// ones as mounted, it scrapes flowd under the job the rules select, and it alerts the compose
// Alertmanager.
func TestComposePrometheus(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Global        map[string]string `yaml:"global"`
		RuleFiles     []string          `yaml:"rule_files"`
		Alerting      map[string]any    `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	decodeStrict(t, composePrometheusFile, &cfg)
	var project composeProject
	decodeStrict(t, composeFile, &project)
	mounts := map[string]string{} // container path -> repository path
	for _, v := range project.Services["prometheus"].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.HasPrefix(parts[0], ".") {
			mounts[parts[1]] = path.Join(filepath.Dir(composeFile), parts[0])
		}
	}
	if mounts["/etc/prometheus/prometheus.yml"] != composePrometheusFile {
		t.Errorf("compose mounts %q as prometheus.yml, want %s", mounts["/etc/prometheus/prometheus.yml"], composePrometheusFile)
	}
	if len(cfg.RuleFiles) != 1 || mounts[cfg.RuleFiles[0]] != rulesFile {
		t.Errorf("rule_files %v must be the mounted %s (mounts %v)", cfg.RuleFiles, rulesFile, mounts)
	}
	selector := ""
	for _, line := range strings.Split(string(readRepoFile(t, "deploy/prometheus/params.yml")), "\n") {
		if v, ok := strings.CutPrefix(line, "selector: "); ok {
			selector = strings.TrimSpace(v)
		}
	}
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		if `job="`+sc.JobName+`"` != selector {
			continue
		}
		found = true
		if len(sc.StaticConfigs) != 1 || !slices.Contains(sc.StaticConfigs[0].Targets, "flowd:9820") {
			t.Errorf("job %s does not scrape flowd:9820", sc.JobName)
		}
	}
	if !found {
		t.Errorf("no scrape job matches the rules' selector %s", selector)
	}
	if !strings.Contains(string(readRepoFile(t, composePrometheusFile)), "alertmanager:9093") {
		t.Error("alerts do not go to the compose Alertmanager")
	}
}

// TestAlertmanagerExample checks the example's receivers are all defined and used (amtool
// check-config in scripts/ci.d/50-rules.sh checks the rest).
func TestAlertmanagerExample(t *testing.T) {
	t.Parallel()
	type route struct {
		Receiver string           `yaml:"receiver"`
		Matchers []string         `yaml:"matchers"`
		Routes   []map[string]any `yaml:"routes"`
	}
	var cfg struct {
		Route struct {
			Receiver string  `yaml:"receiver"`
			Routes   []route `yaml:"routes"`
		} `yaml:"route"`
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "deploy/alertmanager/alertmanager.yml"), &cfg); err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, r := range cfg.Receivers {
		defined[r.Name] = true
	}
	used := map[string]bool{cfg.Route.Receiver: true}
	for _, r := range cfg.Route.Routes {
		used[r.Receiver] = true
	}
	for name := range used {
		if !defined[name] {
			t.Errorf("route uses undefined receiver %q", name)
		}
	}
	for name := range defined {
		if !used[name] {
			t.Errorf("receiver %q is never routed to", name)
		}
	}
	if !defined["null"] {
		t.Error(`no "null" receiver`)
	}
}

// The compose stack is the best first look for people with Docker: the README's quick start
// links it and gives its command.
func TestReadmeQuickStartLinksCompose(t *testing.T) {
	t.Parallel()
	readme := string(readRepoFile(t, "README.md"))
	start := strings.Index(readme, "## Quick start")
	if start < 0 {
		t.Fatal("README.md has no Quick start section")
	}
	section := readme[start+len("## Quick start"):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	for _, want := range []string{"](" + composeFile + ")", "docker compose -f " + composeFile + " up"} {
		if !strings.Contains(section, want) {
			t.Errorf("README's quick start lacks %q", want)
		}
	}
	readRepoFile(t, composeFile) // the link's target exists
}
