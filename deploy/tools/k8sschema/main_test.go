package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		gvk  gvk
		want string
	}{
		{gvk{"", "v1", "Service"}, "service-v1.json"},
		{gvk{"apps", "v1", "Deployment"}, "deployment-apps-v1.json"},
		{gvk{"rbac.authorization.k8s.io", "v1", "ClusterRole"}, "clusterrole-rbac-v1.json"},
		{gvk{"autoscaling", "v2", "HorizontalPodAutoscaler"}, "horizontalpodautoscaler-autoscaling-v2.json"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.gvk.fileName(); got != tt.want {
				t.Errorf("fileName() = %q, want %q", got, tt.want)
			}
		})
	}
}

// spec is a miniature swagger document: a resource referring to a nested object, an
// IntOrString and a Quantity, plus a definition nothing refers to.
const spec = `{"definitions": {
  "io.k8s.api.demo.v1.Widget": {
    "description": "A widget.",
    "properties": {
      "kind": {"type": "string", "description": "Kind."},
      "spec": {"$ref": "#/definitions/io.k8s.api.demo.v1.WidgetSpec"},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}}
    },
    "x-kubernetes-group-version-kind": [{"group": "demo.example.io", "version": "v1", "kind": "Widget"}]
  },
  "io.k8s.api.demo.v1.WidgetSpec": {
    "properties": {
      "port": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
      "size": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
      "description": {"type": "string"}
    }
  },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
  "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
  "io.k8s.api.demo.v1.Unused": {"properties": {"x": {"type": "string"}}}
}}`

func TestRunWritesStrictStandaloneSchemas(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "swagger.json")
	if err := os.WriteFile(in, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := run([]string{"-spec", in, "-out", out}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "widget-demo-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	defs := got["definitions"].(map[string]any)
	if len(defs) != 4 {
		t.Errorf("%d definitions, want the 4 reachable ones: %v", len(defs), defs)
	}
	if _, ok := defs["io.k8s.api.demo.v1.Unused"]; ok {
		t.Error("an unreachable definition was copied")
	}
	if got["additionalProperties"] != false {
		t.Errorf("root additionalProperties = %v, want false", got["additionalProperties"])
	}
	if _, ok := got["description"]; ok {
		t.Error("descriptions should be dropped")
	}
	labels := got["properties"].(map[string]any)["labels"].(map[string]any)
	if !reflect.DeepEqual(labels["additionalProperties"], map[string]any{"type": "string"}) {
		t.Errorf("a map's additionalProperties was overwritten: %v", labels)
	}
	widgetSpec := defs["io.k8s.api.demo.v1.WidgetSpec"].(map[string]any)
	if _, ok := widgetSpec["properties"].(map[string]any)["description"]; !ok {
		t.Error("a property named description was dropped with the descriptions")
	}
	intOrString := defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"].(map[string]any)
	if len(intOrString["oneOf"].([]any)) != 2 {
		t.Errorf("IntOrString = %v, want string or integer", intOrString)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, []byte(`{"definitions": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "swagger.json")
	if err := os.WriteFile(good, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string][]string{
		"no flags":       {},
		"missing file":   {"-spec", filepath.Join(dir, "nope.json"), "-out", dir},
		"no definitions": {"-spec", empty, "-out", dir},
		"no such kind":   {"-spec", good, "-out", filepath.Join(dir, "o"), "-kinds", "Gadget"},
		"dangling $ref":  nil,
	}
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.WriteFile(dangling, []byte(`{"definitions": {"a.B": {"properties": {"x": {"$ref": "#/definitions/a.Missing"}},
	  "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "B"}]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests["dangling $ref"] = []string{"-spec", dangling, "-out", filepath.Join(dir, "d")}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if err := run(args); err == nil {
				t.Error("run succeeded, want an error")
			}
		})
	}
}
