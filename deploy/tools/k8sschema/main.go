// Command k8sschema writes the JSON schemas kubeconform reads, generated offline from the
// Kubernetes OpenAPI (Swagger 2.0) document that ships in the k8s.io/kubernetes Go module
// (api/openapi-spec/swagger.json), so the packaging check needs no network and no schema
// download.
//
//	go run ./deploy/tools/k8sschema -spec swagger.json -out DIR [-kinds Deployment,Service]
//
// It writes one standalone schema per group-version-kind, named as kubeconform looks them up
// (kind-group-version.json, kind-version.json for the core group), each holding the
// definitions it refers to. The schemas are strict: objects reject properties the API does
// not define, which is what `kubeconform -strict` expects of the "-strict" schema directory.
// Two types are widened to what the API server accepts: IntOrString (string or integer) and
// Quantity (string or number).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const (
	intOrStringDef = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantityDef    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	refPrefix      = "#/definitions/"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "k8sschema:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("k8sschema", flag.ContinueOnError)
	spec := fs.String("spec", "", "path of the Kubernetes swagger.json")
	out := fs.String("out", "", "directory to write the schemas into")
	kinds := fs.String("kinds", "", "comma-separated kinds to write (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *spec == "" || *out == "" {
		return errors.New("-spec and -out are required")
	}
	data, err := os.ReadFile(*spec)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("decode %s: %w", *spec, err)
	}
	if len(doc.Definitions) == 0 {
		return fmt.Errorf("%s has no definitions", *spec)
	}
	want := map[string]bool{}
	for _, k := range strings.Split(*kinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			want[strings.ToLower(k)] = true
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	n, err := writeAll(doc.Definitions, want, *out)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no schema written (kinds %q)", *kinds)
	}
	fmt.Printf("k8sschema: wrote %d schemas to %s\n", n, *out)
	return nil
}

// gvk is one entry of a definition's x-kubernetes-group-version-kind list.
type gvk struct {
	Group, Version, Kind string
}

// fileName is where kubeconform looks for the schema of g: the kind, the first label of the
// group, and the version, lower case.
func (g gvk) fileName() string {
	name := strings.ToLower(g.Kind)
	if g.Group != "" {
		name += "-" + strings.ToLower(strings.Split(g.Group, ".")[0])
	}
	return name + "-" + strings.ToLower(g.Version) + ".json"
}

func writeAll(defs map[string]map[string]any, want map[string]bool, out string) (int, error) {
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	written := 0
	for _, name := range names {
		for _, g := range kindsOf(defs[name]) {
			if len(want) > 0 && !want[strings.ToLower(g.Kind)] {
				continue
			}
			schema, err := standalone(defs, name)
			if err != nil {
				return written, err
			}
			data, err := json.Marshal(schema)
			if err != nil {
				return written, fmt.Errorf("encode %s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(out, g.fileName()), data, 0o644); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}

// kindsOf reads a definition's x-kubernetes-group-version-kind list; definitions without one
// are not top-level resources and get no file of their own.
func kindsOf(def map[string]any) []gvk {
	list, _ := def["x-kubernetes-group-version-kind"].([]any)
	var out []gvk
	for _, item := range list {
		m, _ := item.(map[string]any)
		g, _ := m["group"].(string)
		v, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		if k != "" && v != "" {
			out = append(out, gvk{Group: g, Version: v, Kind: k})
		}
	}
	return out
}

// standalone returns the definition root with every definition it reaches copied under
// "definitions", so the file validates with no other file.
func standalone(defs map[string]map[string]any, root string) (map[string]any, error) {
	reached := map[string]bool{}
	if err := reach(defs, root, reached); err != nil {
		return nil, err
	}
	sub := make(map[string]any, len(reached))
	for name := range reached {
		sub[name] = convert(name, defs[name])
	}
	schema := map[string]any{}
	for k, v := range convert(root, defs[root]) {
		schema[k] = v
	}
	schema["$schema"] = "http://json-schema.org/draft-04/schema#"
	schema["definitions"] = sub
	return schema, nil
}

// reach adds name and every definition it refers to, directly or not, to seen.
func reach(defs map[string]map[string]any, name string, seen map[string]bool) error {
	if seen[name] {
		return nil
	}
	def, ok := defs[name]
	if !ok {
		return fmt.Errorf("reference to missing definition %q", name)
	}
	seen[name] = true
	var walkErr error
	walk(def, func(ref string) {
		if walkErr == nil {
			walkErr = reach(defs, ref, seen)
		}
	})
	return walkErr
}

// walk calls fn with the definition name of every local $ref under v.
func walk(v any, fn func(string)) {
	switch t := v.(type) {
	case map[string]any:
		if ref, ok := t["$ref"].(string); ok && strings.HasPrefix(ref, refPrefix) {
			fn(strings.TrimPrefix(ref, refPrefix))
		}
		for _, child := range t {
			walk(child, fn)
		}
	case []any:
		for _, child := range t {
			walk(child, fn)
		}
	}
}

// convert returns a strict copy of the named definition.
func convert(name string, def map[string]any) map[string]any {
	switch name {
	case intOrStringDef:
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "string"}, map[string]any{"type": "integer"},
		}}
	case quantityDef:
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "string"}, map[string]any{"type": "number"},
		}}
	}
	out, _ := strict(def).(map[string]any)
	return out
}

// strict copies v, closing every object schema that lists its properties: a property the API
// does not define is then an error, as `kubectl apply --validate=strict` makes it.
func strict(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t)+1)
		for k, child := range t {
			// Descriptions are most of the document's size and play no part in validation.
			if k == "description" {
				if _, isString := child.(string); isString {
					continue
				}
			}
			out[k] = strict(child)
		}
		if _, hasProps := t["properties"]; hasProps {
			if _, set := t["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			out[i] = strict(child)
		}
		return out
	default:
		return v
	}
}
