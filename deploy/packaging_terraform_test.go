package deploy

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/flowd-dev/flowd/internal/lease"
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
	// The module creates the lease table, so lease.Table.Ensure finds it with DescribeTable and
	// never calls CreateTable: the one called action the module's policy leaves out
	// (TestTerraformLeaseTableMatchesTheCode checks the table is the one Ensure would create).
	want := slices.DeleteFunc(slices.Clone(called), func(a string) bool { return a == "dynamodb:CreateTable" })
	if len(want) != len(called)-1 {
		t.Fatalf("the code no longer calls dynamodb:CreateTable (%v): drop the exception", called)
	}
	if got := policyActions(t, findBlock(t, bodies, "data", "aws_iam_policy_document", "flowd")); !slices.Equal(got, want) {
		t.Errorf("flowd policy actions %v, want the actions the code calls but dynamodb:CreateTable %v", got, want)
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

// TestTerraformInventoryStatement checks the EC2 inventory's statement of flowd's policy as
// TestFlowdPolicyGrantsExactlyTheCalledActions checks deploy/iam's: it alone has the resource
// "*", it holds only ec2:Describe* actions, and var.enable_inventory switches it.
func TestTerraformInventoryStatement(t *testing.T) {
	doc := findBlock(t, terraformFiles(t), "data", "aws_iam_policy_document", "flowd")
	found := 0
	var check func(b *hclsyntax.Block, dynamic *hclsyntax.Block)
	check = func(b *hclsyntax.Block, dynamic *hclsyntax.Block) {
		for _, inner := range b.Body.Blocks {
			switch {
			case inner.Type == "dynamic" && slices.Equal(inner.Labels, []string{"statement"}):
				check(inner, inner)
			case inner.Type == "statement", inner.Type == "content":
				sid := ""
				if _, ok := inner.Body.Attributes["sid"]; ok {
					sid = literal(t, inner, "sid").AsString()
				}
				var star bool
				if attr, ok := inner.Body.Attributes["resources"]; ok {
					if v, diags := attr.Expr.Value(nil); !diags.HasErrors() && v.CanIterateElements() {
						for _, r := range v.AsValueSlice() {
							star = star || (r.Type() == cty.String && r.AsString() == "*")
						}
					}
				}
				if sid != inventorySid {
					if star {
						t.Errorf("statement %q has the resource \"*\": only %s may", sid, inventorySid)
					}
					continue
				}
				found++
				if v := literal(t, inner, "resources"); !v.Equals(cty.TupleVal([]cty.Value{cty.StringVal("*")})).True() {
					t.Errorf("%s resources = %#v, want [\"*\"]", sid, v)
				}
				for _, a := range literal(t, inner, "actions").AsValueSlice() {
					if !strings.HasPrefix(a.AsString(), "ec2:Describe") {
						t.Errorf("%s holds %s: only ec2:Describe* actions may be granted on \"*\"", sid, a.AsString())
					}
				}
				if dynamic == nil || !refersTo(dynamic, "for_each", "var.enable_inventory") {
					t.Errorf("%s is not switched by var.enable_inventory (a dynamic statement whose for_each uses it)", sid)
				}
			}
		}
	}
	check(doc, nil)
	if found != 1 {
		t.Errorf("%d %s statements in flowd's policy, want 1", found, inventorySid)
	}
	if v := literal(t, findBlock(t, terraformFiles(t), "variable", "enable_inventory"), "default"); !v.Equals(cty.True).True() {
		t.Errorf("enable_inventory default = %#v, want true", v)
	}
}

// createTableRecorder is a lease.DynamoDB without the table: DescribeTable answers
// ResourceNotFoundException, CreateTable records what it was asked to create.
type createTableRecorder struct {
	lease.DynamoDB // any other call panics: Ensure makes none
	created        *dynamodb.CreateTableInput
}

func (r *createTableRecorder) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return nil, &dbtypes.ResourceNotFoundException{Message: aws.String("no table")}
}

func (r *createTableRecorder) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	r.created = in
	return &dynamodb.CreateTableOutput{}, nil
}

// TestTerraformLeaseTableMatchesTheCode checks the module's lease table against the table
// internal/lease creates when it is missing (lease.Table.Ensure, run against a recorder): the
// same hash key, attribute type and billing mode, and no range key. A table with another key
// would fail every lease write.
func TestTerraformLeaseTableMatchesTheCode(t *testing.T) {
	rec := &createTableRecorder{}
	tab, err := lease.NewTable(rec, "flowd-leases")
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Ensure(context.Background()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	in := rec.created
	if in == nil || len(in.KeySchema) != 1 || len(in.AttributeDefinitions) != 1 {
		t.Fatalf("Ensure created %+v: want one key and one attribute definition", in)
	}
	if in.KeySchema[0].KeyType != dbtypes.KeyTypeHash || aws.ToString(in.KeySchema[0].AttributeName) != aws.ToString(in.AttributeDefinitions[0].AttributeName) {
		t.Fatalf("Ensure's key schema %+v does not match its attributes %+v", in.KeySchema, in.AttributeDefinitions)
	}
	key, keyType := aws.ToString(in.KeySchema[0].AttributeName), string(in.AttributeDefinitions[0].AttributeType)

	table := findBlock(t, terraformFiles(t), "resource", "aws_dynamodb_table", "leases")
	if got := literal(t, table, "hash_key").AsString(); got != key {
		t.Errorf("aws_dynamodb_table.leases hash_key = %q, internal/lease's key is %q", got, key)
	}
	if _, ok := table.Body.Attributes["range_key"]; ok {
		t.Error("aws_dynamodb_table.leases has a range_key; internal/lease addresses leases by the hash key alone")
	}
	if got := literal(t, table, "billing_mode").AsString(); got != string(in.BillingMode) {
		t.Errorf("aws_dynamodb_table.leases billing_mode = %q, internal/lease creates %q", got, in.BillingMode)
	}
	var attrs []string
	for _, b := range table.Body.Blocks {
		if b.Type == "attribute" {
			attrs = append(attrs, literal(t, b, "name").AsString()+":"+literal(t, b, "type").AsString())
		}
	}
	if want := []string{key + ":" + keyType}; !slices.Equal(attrs, want) {
		t.Errorf("aws_dynamodb_table.leases attributes %v, want %v", attrs, want)
	}
	if !refersTo(table, "name", "var.lease_table_name") {
		t.Error("aws_dynamodb_table.leases name must be var.lease_table_name (the one flowd_config names)")
	}
}

// dynamicStatements returns the content blocks of the dynamic statements of a policy document,
// by sid, with the dynamic block each came from.
func dynamicStatements(t *testing.T, doc *hclsyntax.Block) map[string][2]*hclsyntax.Block {
	t.Helper()
	out := map[string][2]*hclsyntax.Block{}
	for _, d := range doc.Body.Blocks {
		if d.Type != "dynamic" || !slices.Equal(d.Labels, []string{"statement"}) {
			continue
		}
		for _, c := range d.Body.Blocks {
			if c.Type == "content" {
				out[literal(t, c, "sid").AsString()] = [2]*hclsyntax.Block{d, c}
			}
		}
	}
	return out
}

// TestTerraformKinesisMatchesTheCode checks the module's Kinesis source against deploy/iam and
// internal/kinesis: flowd's two statements are deploy/iam/flowd-kinesis-policy.json's (same
// sids and actions, less dynamodb:CreateTable), switched by var.enable_kinesis and on the
// stream's and table's ARNs; the subscription distributes by log stream (internal/kinesis drops
// a redelivered event on the shard that read it first, so a log stream must stay on one
// shard); the stream uses the AWS managed key (flowd's policy has no kms:Decrypt); and the role
// CloudWatch Logs assumes is bound by aws:SourceArn.
func TestTerraformKinesisMatchesTheCode(t *testing.T) {
	bodies := terraformFiles(t)
	statements := dynamicStatements(t, findBlock(t, bodies, "data", "aws_iam_policy_document", "flowd"))
	for _, st := range readPolicy(t, "deploy/iam/flowd-kinesis-policy.json").Statement {
		want := slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return a == "dynamodb:CreateTable" })
		slices.Sort(want)
		blocks, ok := statements[st.Sid]
		if !ok {
			t.Errorf("flowd's policy has no statement %s (deploy/iam/flowd-kinesis-policy.json has)", st.Sid)
			continue
		}
		dyn, content := blocks[0], blocks[1]
		var got []string
		for _, v := range literal(t, content, "actions").AsValueSlice() {
			got = append(got, v.AsString())
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s actions %v, want %v", st.Sid, got, want)
		}
		if !refersTo(dyn, "for_each", "var.enable_kinesis") {
			t.Errorf("%s is not switched by var.enable_kinesis", st.Sid)
		}
		arn := map[bool]string{true: "local.kinesis_stream_arn", false: "local.lease_table_arn"}[strings.HasPrefix(want[0], "kinesis:")]
		if !refersTo(dyn, "for_each", arn) {
			t.Errorf("%s is not on %s", st.Sid, arn)
		}
	}

	filter := findBlock(t, bodies, "resource", "aws_cloudwatch_log_subscription_filter", "flow_logs")
	if got := literal(t, filter, "distribution").AsString(); got != "ByLogStream" {
		t.Errorf("the subscription filter's distribution is %q, want ByLogStream", got)
	}
	for _, ref := range []string{"aws_kinesis_stream.flow_logs", "aws_iam_role.logs_to_kinesis"} {
		if !refersTo(filter, "destination_arn", ref) && !refersTo(filter, "role_arn", ref) {
			t.Errorf("the subscription filter does not use %s", ref)
		}
	}
	stream := findBlock(t, bodies, "resource", "aws_kinesis_stream", "flow_logs")
	if got := literal(t, stream, "kms_key_id").AsString(); got != "alias/aws/kinesis" {
		t.Errorf("the stream's kms_key_id is %q: a customer managed key needs kms:Decrypt, which flowd's policy does not grant", got)
	}

	trust := findBlock(t, bodies, "data", "aws_iam_policy_document", "logs_to_kinesis_trust")
	var principal, sourceArn bool
	for _, st := range trust.Body.Blocks {
		for _, b := range st.Body.Blocks {
			switch b.Type {
			case "principals":
				principal = literal(t, b, "type").AsString() == "Service"
			case "condition":
				sourceArn = sourceArn || (literal(t, b, "variable").AsString() == "aws:SourceArn" && literal(t, b, "test").AsString() == "StringLike")
			}
		}
	}
	if !principal || !sourceArn {
		t.Errorf("the role CloudWatch Logs assumes: service principal %v, StringLike aws:SourceArn condition %v; want both", principal, sourceArn)
	}
	if v := literal(t, findBlock(t, bodies, "variable", "enable_kinesis"), "default"); !v.Equals(cty.False).True() {
		t.Errorf("enable_kinesis default = %#v, want false", v)
	}
}
