package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flowd-dev/flowd/internal/config"
)

// The manifests in deploy/kubernetes are the chart's output (scripts/render-k8s.sh --check,
// run by scripts/ci.d/70-packaging.sh with helm and kubeconform, fails on drift); these tests
// read them, with no tool, for what flowd needs of its pod.

// chartValuesFile is the part of the chart's values.yaml the tests read.
type chartValuesFile struct {
	Config string `yaml:"config"`
}

func chartValues(t *testing.T) chartValuesFile {
	t.Helper()
	var v chartValuesFile
	if err := yaml.Unmarshal(readFile(t, "deploy/helm/flowd/values.yaml"), &v); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	return v
}

// manifests returns the objects of deploy/kubernetes/flowd.yaml by kind.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	return manifestsOf(t, "deploy/kubernetes/flowd.yaml")
}

// manifestsOf returns the objects of a rendered manifest file by kind.
func manifestsOf(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	byKind := map[string]map[string]any{}
	for _, doc := range yamlDocs(t, path) {
		kind, _ := doc["kind"].(string)
		if _, dup := byKind[kind]; dup {
			t.Fatalf("two %s objects", kind)
		}
		byKind[kind] = doc
	}
	return byKind
}

func renderedConfig(t *testing.T) string {
	t.Helper()
	return digString(t, manifests(t)["ConfigMap"], "data", "flowd.yaml")
}

// TestShippedConfigsLoad runs flowd's own config loader on every config the deployment
// artifacts ship, so a key flowd does not know or a bad value fails here, not at start-up.
func TestShippedConfigsLoad(t *testing.T) {
	tests := map[string]string{
		"deploy/ecs/flowd.yaml":                            string(readFile(t, "deploy/ecs/flowd.yaml")),
		"deploy/ecs/flowd-kinesis.yaml":                    string(readFile(t, "deploy/ecs/flowd-kinesis.yaml")),
		"deploy/helm/flowd/values.yaml config":             chartValues(t).Config,
		"deploy/helm/kinesis-values.yaml config":           kinesisValues(t).Config,
		"deploy/kubernetes/flowd.yaml (ConfigMap)":         renderedConfig(t),
		"deploy/kubernetes/flowd-kinesis.yaml (ConfigMap)": digString(t, manifestsOf(t, kinesisManifest)["ConfigMap"], "data", "flowd.yaml"),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := config.Load([]byte(data)); err != nil {
				t.Fatalf("flowd rejects it: %v", err)
			}
			var raw map[string]any
			if err := yaml.Unmarshal([]byte(data), &raw); err != nil {
				t.Fatal(err)
			}
			// The root file system is read-only: the checkpoint must be on the volume.
			if p := digString(t, raw, "checkpoint", "path"); !strings.HasPrefix(p, "/var/lib/flowd/") {
				t.Errorf("checkpoint.path %q is not under the /var/lib/flowd volume", p)
			}
		})
	}
}

// TestStatefulSetPod checks the default rendering: one StatefulSet pod whose checkpoint is on
// its own claim (volumeClaimTemplates, kept on uninstall), so helm upgrade and config changes
// do not lose it; no Deployment.
func TestStatefulSetPod(t *testing.T) {
	objs := manifests(t)
	if objs["Deployment"] != nil || objs["PersistentVolumeClaim"] != nil {
		t.Error("deploy/kubernetes/flowd.yaml has a Deployment or a chart-managed claim; flowd runs as a StatefulSet with volumeClaimTemplates")
	}
	// One pod: a budget would allow no eviction at all and block every node drain.
	if objs["PodDisruptionBudget"] != nil {
		t.Error("deploy/kubernetes/flowd.yaml has a PodDisruptionBudget for its single pod")
	}
	for _, kind := range []string{"ServiceAccount", "ConfigMap", "Service", "StatefulSet"} {
		if objs[kind] == nil {
			t.Fatalf("deploy/kubernetes/flowd.yaml has no %s", kind)
		}
	}
	if got := digString(t, objs["ServiceAccount"], "metadata", "annotations", "eks.amazonaws.com/role-arn"); !strings.HasPrefix(got, "arn:aws:iam::") {
		t.Errorf("ServiceAccount IRSA annotation %q, want a role ARN", got)
	}
	dep := objs["StatefulSet"]
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"spec", "replicas"}, 1},
		{[]any{"spec", "updateStrategy", "type"}, "RollingUpdate"},
		{[]any{"spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"}, "Retain"},
		{[]any{"spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"}, "Retain"},
		{[]any{"spec", "volumeClaimTemplates", 0, "metadata", "name"}, "checkpoint"},
		{[]any{"spec", "volumeClaimTemplates", 0, "spec", "accessModes", 0}, "ReadWriteOnce"},
		{[]any{"spec", "template", "spec", "securityContext", "runAsNonRoot"}, true},
		{[]any{"spec", "template", "spec", "securityContext", "runAsUser"}, 65532},
		{[]any{"spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"}, true},
		{[]any{"spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"}, false},
		{[]any{"spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "drop", 0}, "ALL"},
		{[]any{"spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"}, 9820},
		{[]any{"spec", "template", "spec", "containers", 0, "livenessProbe", "httpGet", "path"}, "/-/healthy"},
		{[]any{"spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "path"}, "/-/ready"},
		{[]any{"spec", "template", "spec", "containers", 0, "args", 0}, "run"},
		{[]any{"spec", "template", "spec", "containers", 0, "args", 1}, "--config.file=/etc/flowd/flowd.yaml"},
		{[]any{"spec", "template", "spec", "serviceAccountName"}, digString(t, objs["ServiceAccount"], "metadata", "name")},
	}
	for _, c := range checks {
		got, err := dig(dep, c.path...)
		if err != nil {
			t.Errorf("StatefulSet: %v", err)
			continue
		}
		if got != c.want {
			t.Errorf("StatefulSet %v = %v, want %v", c.path, got, c.want)
		}
	}
	mounts, _ := dig(dep, "spec", "template", "spec", "containers", 0, "volumeMounts")
	var paths []string
	for _, m := range mounts.([]any) {
		paths = append(paths, digString(t, m, "mountPath"))
	}
	for _, want := range []string{"/etc/flowd", "/var/lib/flowd"} {
		if !slices.Contains(paths, want) {
			t.Errorf("no volume mounted at %s (mounts %v)", want, paths)
		}
	}
	// The checkpoint mount comes from the claim template, not from a pod volume (an emptyDir).
	volumes, _ := dig(dep, "spec", "template", "spec", "volumes")
	for _, v := range volumes.([]any) {
		if digString(t, v, "name") == "checkpoint" {
			t.Errorf("the pod has its own checkpoint volume %v; it must come from volumeClaimTemplates", v)
		}
	}
	if got, _ := dig(objs["Service"], "spec", "ports", 0, "port"); got != 9820 {
		t.Errorf("Service port %v, want 9820", got)
	}
}

// kinesisManifest is the chart rendered with deploy/helm/kinesis-values.yaml.
const kinesisManifest = "deploy/kubernetes/flowd-kinesis.yaml"

// kinesisValuesFile is the part of deploy/helm/kinesis-values.yaml the tests read.
type kinesisValuesFile struct {
	ReplicaCount int    `yaml:"replicaCount"`
	Config       string `yaml:"config"`
	PDB          struct {
		MaxUnavailable int `yaml:"maxUnavailable"`
	} `yaml:"pdb"`
}

func kinesisValues(t *testing.T) kinesisValuesFile {
	t.Helper()
	var v kinesisValuesFile
	if err := yaml.Unmarshal(readFile(t, "deploy/helm/kinesis-values.yaml"), &v); err != nil {
		t.Fatalf("kinesis-values.yaml: %v", err)
	}
	return v
}

// TestKinesisReplicas checks the chart rendered for several replicas on a Kinesis source
// (deploy/kubernetes/flowd-kinesis.yaml, rendered by scripts/render-k8s.sh from
// deploy/helm/kinesis-values.yaml): replicaCount pods of one StatefulSet, each with its own
// checkpoint claim and no --shard (the leases split the shards, not the flag), Kinesis sources
// only, and a PodDisruptionBudget that selects exactly those pods and lets one go at a time.
func TestKinesisReplicas(t *testing.T) {
	values := kinesisValues(t)
	if values.ReplicaCount < 2 {
		t.Fatalf("kinesis-values.yaml replicaCount = %d, want several replicas", values.ReplicaCount)
	}
	objs := manifestsOf(t, kinesisManifest)
	sts, pdb := objs["StatefulSet"], objs["PodDisruptionBudget"]
	if sts == nil || pdb == nil {
		t.Fatalf("%s: StatefulSet %v, PodDisruptionBudget %v; want both", kinesisManifest, sts != nil, pdb != nil)
	}
	if got, _ := dig(sts, "spec", "replicas"); got != values.ReplicaCount {
		t.Errorf("StatefulSet replicas = %v, want replicaCount %d", got, values.ReplicaCount)
	}
	if got := digString(t, sts, "spec", "volumeClaimTemplates", 0, "metadata", "name"); got != "checkpoint" {
		t.Errorf("volumeClaimTemplates[0] = %q: each replica needs its own checkpoint claim", got)
	}
	args, _ := dig(sts, "spec", "template", "spec", "containers", 0, "args")
	for _, a := range args.([]any) {
		if strings.HasPrefix(a.(string), "--shard") {
			t.Errorf("replica arg %q: Kinesis replicas share shards through leases, not --shard", a)
		}
	}
	var cfg struct {
		Sources []map[string]any `yaml:"sources"`
	}
	if err := yaml.Unmarshal([]byte(digString(t, objs["ConfigMap"], "data", "flowd.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) == 0 {
		t.Fatal("the rendered config has no source")
	}
	for i, src := range cfg.Sources {
		if _, ok := src["kinesis_stream"]; !ok {
			t.Errorf("sources[%d] %v is not a Kinesis source: each of %d replicas would count it", i, src, values.ReplicaCount)
		}
	}

	if got := digString(t, pdb, "apiVersion"); got != "policy/v1" {
		t.Errorf("PodDisruptionBudget apiVersion %q, want policy/v1", got)
	}
	if got, _ := dig(pdb, "spec", "maxUnavailable"); got != values.PDB.MaxUnavailable || got != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable = %v, want the values' %d (1)", got, values.PDB.MaxUnavailable)
	}
	if _, err := dig(pdb, "spec", "minAvailable"); err == nil {
		t.Error("PodDisruptionBudget sets both minAvailable and maxUnavailable")
	}
	selector, _ := dig(pdb, "spec", "selector", "matchLabels")
	stsSelector, _ := dig(sts, "spec", "selector", "matchLabels")
	podLabels, _ := dig(sts, "spec", "template", "metadata", "labels")
	if !reflect.DeepEqual(selector, stsSelector) {
		t.Errorf("PodDisruptionBudget selects %v, the StatefulSet %v", selector, stsSelector)
	}
	for k, v := range selector.(map[string]any) {
		if podLabels.(map[string]any)[k] != v {
			t.Errorf("PodDisruptionBudget label %s=%v is not on the pods (%v)", k, v, podLabels)
		}
	}
}

// TestChartRulesAreTheShippedRules checks the chart's copy of the Prometheus rules (the chart
// cannot read files outside itself) is byte for byte deploy/prometheus's rule files.
func TestChartRulesAreTheShippedRules(t *testing.T) {
	src, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "prometheus", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, path := range src {
		data := readFile(t, filepath.Join("deploy", "prometheus", filepath.Base(path)))
		var top map[string]any
		if yaml.Unmarshal(data, &top) != nil || top["groups"] == nil {
			continue // not a rule file
		}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".yaml"), ".yml") + ".yml"
		want[name] = data
	}
	if len(want) == 0 {
		t.Fatal("no rule file in deploy/prometheus")
	}
	copies, err := os.ReadDir(filepath.Join(repoRoot, "deploy", "helm", "flowd", "files", "prometheus"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range copies {
		if e.Name() == ".gitkeep" {
			continue
		}
		got[e.Name()] = true
		data := readFile(t, filepath.Join("deploy", "helm", "flowd", "files", "prometheus", e.Name()))
		if w, ok := want[e.Name()]; !ok {
			t.Errorf("chart has files/prometheus/%s, which deploy/prometheus no longer has: run scripts/render-k8s.sh", e.Name())
		} else if !bytes.Equal(data, w) {
			t.Errorf("chart's files/prometheus/%s differs from deploy/prometheus: run scripts/render-k8s.sh", e.Name())
		}
	}
	for name := range want {
		if !got[name] {
			t.Errorf("deploy/prometheus rule file %s is missing from the chart: run scripts/render-k8s.sh", name)
		}
	}
}

// TestChartDashboardsAreTheShippedDashboards checks the chart's copy of the Grafana dashboards
// (for its dashboards ConfigMap) is byte for byte deploy/grafana/dashboards.
func TestChartDashboardsAreTheShippedDashboards(t *testing.T) {
	src, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(src) == 0 {
		t.Fatalf("no dashboards in deploy/grafana/dashboards: %v", err)
	}
	copies, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "helm", "flowd", "files", "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(copies) != len(src) {
		t.Errorf("the chart has %d dashboards, deploy/grafana/dashboards %d: run scripts/render-k8s.sh", len(copies), len(src))
	}
	for _, path := range src {
		name := filepath.Base(path)
		want := readFile(t, filepath.Join("deploy", "grafana", "dashboards", name))
		got, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "helm", "flowd", "files", "dashboards", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("chart's files/dashboards/%s differs from deploy/grafana/dashboards (or is missing): run scripts/render-k8s.sh", name)
		}
	}
}
