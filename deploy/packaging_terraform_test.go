package deploy

import (
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// These tests need no terraform binary: the module is checked with the HCL library Terraform
// is built on: every file parses and is in `terraform fmt` layout, and the values that must
// agree with flowd (the log format, the aggregation interval, the IAM actions) are read from
// the syntax tree and evaluated where they are literals. Where a terraform binary and a
// provider mirror are present, scripts/ci.d/70-packaging.sh also runs terraform fmt -check,
// init, validate and terraform test (deploy/terraform/tests, a mocked provider).

// terraformFiles parses every .tf file of the module and its examples.
func terraformFiles(t *testing.T) map[string]*hclsyntax.Body {
	t.Helper()
	parser := hclparse.NewParser()
	bodies := map[string]*hclsyntax.Body{}
	root := filepath.Join(repoRoot, "deploy", "terraform")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return err
		}
		file, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Errorf("%s: %v", path, diags)
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		bodies[rel] = file.Body.(*hclsyntax.Body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) == 0 {
		t.Fatal("no .tf file under deploy/terraform")
	}
	return bodies
}

// findBlock returns the block of the module (not the examples) with this type and labels.
func findBlock(t *testing.T, bodies map[string]*hclsyntax.Body, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	for name, body := range bodies {
		if strings.Contains(name, string(filepath.Separator)) {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type == typ && slices.Equal(b.Labels, labels) {
				return b
			}
		}
	}
	t.Fatalf("no %s %q block in the module", typ, labels)
	return nil
}

// literal evaluates an attribute that must be a constant.
func literal(t *testing.T, b *hclsyntax.Block, name string) cty.Value {
	t.Helper()
	attr, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v: no attribute %s", b.Type, b.Labels, name)
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s %v: %s is not a constant: %v", b.Type, b.Labels, name, diags)
	}
	return v
}

// refersTo reports whether an attribute's expression refers to the traversal ref ("var.x").
func refersTo(b *hclsyntax.Block, name, ref string) bool {
	attr, ok := b.Body.Attributes[name]
	if !ok {
		return false
	}
	for _, tr := range attr.Expr.Variables() {
		if traversalString(tr) == ref {
			return true
		}
	}
	return false
}

func traversalString(tr hcl.Traversal) string {
	var parts []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			parts = append(parts, s.Name)
		case hcl.TraverseAttr:
			parts = append(parts, s.Name)
		}
	}
	return strings.Join(parts, ".")
}

// terraformLogFormat is the default of the module's log_format variable, as Terraform sees it:
// the HCL escapes $${ evaluated to ${.
func terraformLogFormat(t *testing.T) string {
	t.Helper()
	v := literal(t, findBlock(t, terraformFiles(t), "variable", "log_format"), "default")
	if v.Type() != cty.String {
		t.Fatalf("log_format default is %s, want a string", v.Type().FriendlyName())
	}
	return v.AsString()
}

func TestTerraformIsFormatted(t *testing.T) {
	root := filepath.Join(repoRoot, "deploy", "terraform")
	for name := range terraformFiles(t) {
		t.Run(name, func(t *testing.T) {
			src := readFile(t, filepath.Join("deploy", "terraform", name))
			if got := hclwrite.Format(src); string(got) != string(src) {
				t.Errorf("%s is not in terraform fmt layout; formatted it reads:\n%s", filepath.Join(root, name), got)
			}
		})
	}
}

// TestTerraformFlowLogFeedsFlowd checks the one variable feeds both the flow log and the
// rendered flowd config, with the one-minute aggregation interval.
func TestTerraformFlowLogFeedsFlowd(t *testing.T) {
	bodies := terraformFiles(t)
	flowLog := findBlock(t, bodies, "resource", "aws_flow_log", "vpc")
	if !refersTo(flowLog, "log_format", "var.log_format") {
		t.Error("aws_flow_log.vpc.log_format must be var.log_format")
	}
	if v := literal(t, flowLog, "max_aggregation_interval"); !v.Equals(cty.NumberIntVal(60)).True() {
		t.Errorf("max_aggregation_interval = %#v, want 60", v)
	}
	if v := literal(t, flowLog, "log_destination_type"); v.AsString() != "cloud-watch-logs" {
		t.Errorf("log_destination_type = %q, want cloud-watch-logs", v.AsString())
	}
	if !refersTo(findBlock(t, bodies, "output", "flowd_config"), "value", "local.flowd_config") {
		t.Error("output flowd_config must be local.flowd_config (the same YAML the SSM parameter holds)")
	}
	var flowdConfig *hclsyntax.Block
	for _, body := range bodies {
		for _, b := range body.Blocks {
			if _, ok := b.Body.Attributes["flowd_config"]; ok && b.Type == "locals" {
				flowdConfig = b
			}
		}
	}
	if flowdConfig == nil {
		t.Fatal("no local flowd_config")
	}
	for _, ref := range []string{"var.log_format", "var.log_group_name"} {
		if !refersTo(flowdConfig, "flowd_config", ref) {
			t.Errorf("local flowd_config does not use %s", ref)
		}
	}
	// Both set-ups, new and existing, go through the one switch.
	for _, typ := range [][]string{{"aws_cloudwatch_log_group", "flow_logs"}, {"aws_iam_role", "delivery"}, {"aws_iam_role_policy", "delivery"}, {"aws_flow_log", "vpc"}} {
		if !refersTo(findBlock(t, bodies, "resource", typ...), "for_each", "local.flow_log") {
			t.Errorf("resource %s.%s is not created through local.flow_log (var.create_flow_log)", typ[0], typ[1])
		}
	}
	if !refersTo(findBlock(t, bodies, "resource", "aws_cloudwatch_log_group", "flow_logs"), "retention_in_days", "var.retention_in_days") {
		t.Error("the log group's retention_in_days must come from var.retention_in_days")
	}
	if got := terraformLogFormat(t); strings.Contains(got, "$$") || !strings.HasPrefix(got, "${") {
		t.Errorf("log_format default evaluates to %q: want the AWS spelling ${field}", got)
	}
}

// policyActions collects the literal actions of every statement of an aws_iam_policy_document,
// including the content of dynamic statement blocks.
func policyActions(t *testing.T, doc *hclsyntax.Block) []string {
	t.Helper()
	var actions []string
	var visit func(b *hclsyntax.Block)
	visit = func(b *hclsyntax.Block) {
		for _, inner := range b.Body.Blocks {
			switch {
			case inner.Type == "statement", inner.Type == "content":
				for _, v := range literal(t, inner, "actions").AsValueSlice() {
					actions = append(actions, v.AsString())
				}
			case inner.Type == "dynamic" && slices.Equal(inner.Labels, []string{"statement"}):
				visit(inner)
			}
		}
	}
	visit(doc)
	sort.Strings(actions)
	return actions
}

// TestTerraformPoliciesMatchTheCode checks the Terraform policies grant what deploy/iam grants:
// flowd's role exactly the actions its code calls, the delivery role what the service needs.
func TestTerraformPoliciesMatchTheCode(t *testing.T) {
	bodies := terraformFiles(t)
	var called []string
	for a := range calledActions(t) {
		called = append(called, a)
	}
	sort.Strings(called)
	if got := policyActions(t, findBlock(t, bodies, "data", "aws_iam_policy_document", "flowd")); !slices.Equal(got, called) {
		t.Errorf("flowd policy actions %v, want the actions the code calls %v", got, called)
	}
	if got := policyActions(t, findBlock(t, bodies, "data", "aws_iam_policy_document", "delivery")); !slices.Equal(got, deliveryActions) {
		t.Errorf("delivery policy actions %v, want %v", got, deliveryActions)
	}
	trust := findBlock(t, bodies, "data", "aws_iam_policy_document", "delivery_trust")
	found := false
	for _, st := range trust.Body.Blocks {
		for _, p := range st.Body.Blocks {
			if p.Type == "principals" && literal(t, p, "identifiers").Equals(cty.TupleVal([]cty.Value{cty.StringVal("vpc-flow-logs.amazonaws.com")})).True() {
				found = true
			}
		}
	}
	if !found {
		t.Error("the delivery role must trust the service principal vpc-flow-logs.amazonaws.com")
	}
}

// TestTerraformExampleUsesTheModule checks each example calls the module by its relative path.
func TestTerraformExampleUsesTheModule(t *testing.T) {
	n := 0
	for name, body := range terraformFiles(t) {
		if !strings.HasPrefix(name, "examples") {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type == "module" {
				n++
				if src := literal(t, b, "source").AsString(); src != "../.." {
					t.Errorf("%s: module source %q, want ../..", name, src)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no example calls the module")
	}
}
