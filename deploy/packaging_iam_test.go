package deploy

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// policyDocument is an IAM policy or trust policy, decoded strictly: a misspelled key is an
// error rather than a statement IAM would reject or read differently.
type policyDocument struct {
	Version   string
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Principal map[string]stringOrList `json:",omitempty"`
	Action    stringOrList
	Resource  stringOrList                       `json:",omitempty"`
	Condition map[string]map[string]stringOrList `json:",omitempty"`
}

// stringOrList is IAM's "one string or a list of strings".
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(data []byte) error {
	var one string
	if err := decodeJSONStrict(data, &one); err == nil {
		*s = stringOrList{one}
		return nil
	}
	var many []string
	if err := decodeJSONStrict(data, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func readPolicy(t *testing.T, path string) policyDocument {
	t.Helper()
	var doc policyDocument
	if err := decodeJSONStrict(readFile(t, path), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want 2012-10-17", path, doc.Version)
	}
	if len(doc.Statement) == 0 {
		t.Errorf("%s: no statement", path)
	}
	for i, st := range doc.Statement {
		if st.Effect != "Allow" {
			t.Errorf("%s: statement %d: Effect %q, want Allow", path, i, st.Effect)
		}
		if len(st.Action) == 0 {
			t.Errorf("%s: statement %d: no Action", path, i)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: statement %d: wildcard action %q", path, i, a)
			}
		}
	}
	return doc
}

// sdkOperations lists the API operations of an AWS SDK client type: its methods of the form
// Op(ctx, *OpInput, ...func(*Options)) (*OpOutput, error).
func sdkOperations(client any) []string {
	typ := reflect.TypeOf(client)
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	var ops []string
	for i := 0; i < typ.NumMethod(); i++ {
		m := typ.Method(i)
		ft := m.Type
		if ft.NumIn() != 4 || ft.In(1) != ctxType || ft.In(2).Kind() != reflect.Pointer {
			continue
		}
		if ft.In(2).Elem().Name() == m.Name+"Input" {
			ops = append(ops, m.Name)
		}
	}
	return ops
}

type awsService struct {
	prefix, importPath string
	client             any
	scoped             bool
}

// awsServices are the AWS SDK clients flowd's code may call, with the IAM service prefix of
// their actions. A call of an operation of a client not listed here is not seen: add the
// client when the code starts using one.
//
// scoped: the service's operation names are also common method names of other types
// (dynamodb's Scan and Query are bufio.Scanner.Scan and url.URL.Query; kinesis's GetRecords
// and PutRecord are ordinary names too), so a call by that name counts only in a package that
// imports the SDK package. That is where flowd calls them: through the interfaces its packages
// declare with the SDK's input types (kinesis.API, lease.DynamoDB), which cannot be written, or
// given an *OpInput, without the import.
var awsServices = []awsService{
	{"logs", "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs", &cloudwatchlogs.Client{}, false},
	{"sts", "github.com/aws/aws-sdk-go-v2/service/sts", &sts.Client{}, false},
	{"ec2", "github.com/aws/aws-sdk-go-v2/service/ec2", &ec2.Client{}, false},
	{"kinesis", "github.com/aws/aws-sdk-go-v2/service/kinesis", &kinesis.Client{}, true},
	{"dynamodb", "github.com/aws/aws-sdk-go-v2/service/dynamodb", &dynamodb.Client{}, true},
}

// inventorySid names the one statement allowed Resource "*": EC2's Describe actions have no
// resource-level permissions, so IAM only accepts them on every resource.
const inventorySid = "ReadEC2Inventory"

// calledActions returns the IAM actions of the operations of awsServices that flowd's own
// code calls: calls of an operation's method (on the SDK client or an interface wrapping it),
// of its paginator constructor, and of the STS credential provider that calls AssumeRole.
// The emulator and the simulator are left out: they serve or feed the API, never call AWS; so
// is every file that imports them (the demo, which runs against an in-process emulator).
//
// An operation name two services share (CloudWatch Logs and EC2 both have CancelExportTask,
// for one) is attributed by the call's package qualifier (ec2.NewXPaginator), else by the SDK
// packages the calling package imports; a call still ambiguous fails the test rather than
// being guessed.
func calledActions(t *testing.T) map[string][]string {
	t.Helper()
	byName := map[string][]string{}         // operation or constructor name -> candidate actions
	byPkg := map[string]map[string]string{} // SDK import path -> name -> action
	for _, svc := range awsServices {
		names := map[string]string{}
		for _, op := range sdkOperations(svc.client) {
			action := svc.prefix + ":" + op
			names[op] = action
			names["New"+op+"Paginator"] = action
		}
		for name, action := range names {
			byName[name] = append(byName[name], action)
		}
		byPkg[svc.importPath] = names
	}
	for _, want := range []string{"FilterLogEvents", "AssumeRole", "DescribeFlowLogs", "NewDescribeFlowLogsPaginator", "GetRecords", "NewScanPaginator"} {
		if len(byName[want]) == 0 {
			t.Fatalf("the SDK clients' operations were not found by reflection (no %s)", want)
		}
	}
	// stscreds.NewAssumeRoleProvider is how the SDK's users call AssumeRole.
	byName["NewAssumeRoleProvider"] = []string{"sts:AssumeRole"}

	type call struct {
		dir, pos, name, qualifier string // qualifier: the import path of pkg in pkg.Name(...)
	}
	var calls []call
	sdkImports := map[string]map[string]bool{} // package directory -> SDK import paths of its files
	fset := token.NewFileSet()
	for _, root := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, root), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "emulator", "simulate", "testdata":
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			dir := filepath.Dir(path)
			imports := map[string]string{} // local name -> import path
			for _, imp := range file.Imports {
				ip := strings.Trim(imp.Path.Value, `"`)
				switch ip {
				case "github.com/flowd-dev/flowd/internal/emulator", "github.com/flowd-dev/flowd/internal/simulate":
					return nil
				}
				local := ip[strings.LastIndex(ip, "/")+1:]
				if imp.Name != nil {
					local = imp.Name.Name
				}
				imports[local] = ip
			}
			for _, ip := range imports {
				if _, ok := byPkg[ip]; ok {
					if sdkImports[dir] == nil {
						sdkImports[dir] = map[string]bool{}
					}
					sdkImports[dir][ip] = true
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var cl call
				switch fn := c.Fun.(type) {
				case *ast.SelectorExpr:
					cl.name = fn.Sel.Name
					if x, ok := fn.X.(*ast.Ident); ok {
						cl.qualifier = imports[x.Name]
					}
				case *ast.Ident:
					cl.name = fn.Name
				}
				if _, ok := byName[cl.name]; ok {
					cl.dir, cl.pos = dir, fset.Position(c.Pos()).String()
					calls = append(calls, cl)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
	}

	found := map[string][]string{}
	for _, c := range calls {
		if names, ok := byPkg[c.qualifier]; ok {
			if action, ok := names[c.name]; ok {
				found[action] = append(found[action], c.pos)
			}
			continue
		}
		var candidates []string
		for _, action := range byName[c.name] {
			if svc := serviceOf(action); !svc.scoped || sdkImports[c.dir][svc.importPath] {
				candidates = append(candidates, action)
			}
		}
		if len(candidates) == 0 {
			continue // only scoped services' operations by that name, in a package importing none of them
		}
		if len(candidates) > 1 {
			var imported []string
			for _, svc := range awsServices {
				if action, ok := byPkg[svc.importPath][c.name]; ok && sdkImports[c.dir][svc.importPath] && slices.Contains(candidates, action) {
					imported = append(imported, action)
				}
			}
			candidates = imported
		}
		if len(candidates) != 1 {
			t.Errorf("%s: %s is an operation of %v: the scan cannot tell which (qualify the call, or import only one of those SDK packages in its package)", c.pos, c.name, byName[c.name])
			continue
		}
		found[candidates[0]] = append(found[candidates[0]], c.pos)
	}
	return found
}

// serviceOf returns the entry of awsServices whose prefix the action carries.
func serviceOf(action string) awsService {
	prefix, _, _ := strings.Cut(action, ":")
	for _, s := range awsServices {
		if s.prefix == prefix {
			return s
		}
	}
	return awsService{}
}

// TestFlowdPolicyGrantsExactlyTheCalledActions holds the policies flowd's role gets against
// the operations its code calls: a call without a grant fails in production with
// AccessDenied (UnauthorizedOperation for EC2), a grant without a call is privilege nobody
// needs. Every statement names ARNs, except the EC2 inventory's, which must be "*".
func TestFlowdPolicyGrantsExactlyTheCalledActions(t *testing.T) {
	called := calledActions(t)
	for _, want := range []string{"logs:FilterLogEvents", "ec2:DescribeNetworkInterfaces", "kinesis:GetRecords", "dynamodb:UpdateItem", "dynamodb:Scan"} {
		if _, ok := called[want]; !ok {
			t.Fatalf("no call of %s found in cmd/ or internal/ (found %v): the scan is broken", want, called)
		}
	}
	granted := map[string]string{}
	inventoryStatements := 0
	for _, path := range []string{"deploy/iam/flowd-policy.json", "deploy/iam/flowd-assume-role-policy.json", "deploy/iam/flowd-kinesis-policy.json"} {
		for _, st := range readPolicy(t, path).Statement {
			for _, a := range st.Action {
				granted[a] = path
			}
			checkStatementResources(t, path, st)
			if st.Sid == inventorySid {
				inventoryStatements++
			}
		}
	}
	if inventoryStatements > 1 {
		t.Errorf("%d statements %s, want at most one", inventoryStatements, inventorySid)
	}
	for action, where := range called {
		if _, ok := granted[action]; !ok {
			t.Errorf("flowd calls %s (%s) but no policy in deploy/iam grants it", action, strings.Join(where, ", "))
		}
	}
	for action, path := range granted {
		if _, ok := called[action]; !ok {
			t.Errorf("%s grants %s, which flowd's code never calls", path, action)
		}
	}
	actions := make([]string, 0, len(called))
	for a := range called {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	t.Logf("actions flowd calls: %v", actions)
}

// checkStatementResources holds a statement of flowd's policies to least privilege: EC2
// actions only in the inventory statement, which has Resource "*" and nothing but
// ec2:Describe* actions (read-only, no resource-level permissions); every other statement
// names ARNs.
func checkStatementResources(t *testing.T, path string, st policyStatement) {
	t.Helper()
	if st.Sid == inventorySid {
		if !slices.Equal(st.Resource, []string{"*"}) {
			t.Errorf("%s: %s: Resource %v, want \"*\" (EC2 Describe actions have no resource-level permissions)", path, st.Sid, st.Resource)
		}
		for _, a := range st.Action {
			if !strings.HasPrefix(a, "ec2:Describe") {
				t.Errorf("%s: %s: action %s: the statement with Resource \"*\" may hold only ec2:Describe* actions", path, st.Sid, a)
			}
		}
		return
	}
	if len(st.Resource) == 0 || slices.Contains(st.Resource, "*") {
		t.Errorf("%s: %s: Resource %v, want ARNs", path, st.Sid, st.Resource)
	}
	for _, a := range st.Action {
		if strings.HasPrefix(a, "ec2:") {
			t.Errorf("%s: %s: action %s belongs in the statement %s", path, st.Sid, a, inventorySid)
		}
	}
}

// TestFilterLogEventsIsScopedToLogGroups checks the read grant names log groups, with the
// ":*" suffix IAM matches FilterLogEvents against.
func TestFilterLogEventsIsScopedToLogGroups(t *testing.T) {
	for _, st := range readPolicy(t, "deploy/iam/flowd-policy.json").Statement {
		if !slices.Contains(st.Action, "logs:FilterLogEvents") {
			continue
		}
		for _, r := range st.Resource {
			if !strings.HasPrefix(r, "arn:aws:logs:") || !strings.Contains(r, ":log-group:") || !strings.HasSuffix(r, ":*") || strings.HasSuffix(r, ":log-group:*") {
				t.Errorf("FilterLogEvents resource %q: want one log group's ARN ending in :*", r)
			}
		}
	}
}

// TestTrustPolicies checks who may assume each role.
func TestTrustPolicies(t *testing.T) {
	tests := []struct {
		file, principalType, principal, action string
		conditionKeys                          []string
	}{
		{"deploy/iam/trust-irsa.json", "Federated", ":oidc-provider/oidc.eks.", "sts:AssumeRoleWithWebIdentity", []string{":sub", ":aud"}},
		{"deploy/iam/trust-ecs-tasks.json", "Service", "ecs-tasks.amazonaws.com", "sts:AssumeRole", []string{"aws:SourceAccount", "aws:SourceArn"}},
		{"deploy/iam/trust-cross-account.json", "AWS", ":role/flowd", "sts:AssumeRole", []string{"sts:ExternalId"}},
		{"deploy/iam/trust-flow-logs-delivery.json", "Service", "vpc-flow-logs.amazonaws.com", "sts:AssumeRole", []string{"aws:SourceAccount", "aws:SourceArn"}},
		{"deploy/iam/trust-logs-to-kinesis.json", "Service", "logs.us-east-1.amazonaws.com", "sts:AssumeRole", []string{"aws:SourceArn"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			doc := readPolicy(t, tt.file)
			if len(doc.Statement) != 1 {
				t.Fatalf("%d statements, want 1", len(doc.Statement))
			}
			st := doc.Statement[0]
			if !slices.Equal(st.Action, []string{tt.action}) {
				t.Errorf("Action %v, want %s", st.Action, tt.action)
			}
			if len(st.Resource) != 0 {
				t.Errorf("a trust policy has no Resource, got %v", st.Resource)
			}
			ids := st.Principal[tt.principalType]
			if len(ids) != 1 || !strings.Contains(ids[0], tt.principal) {
				t.Errorf("Principal %v, want one %s principal containing %q", st.Principal, tt.principalType, tt.principal)
			}
			var keys []string
			for _, byKey := range st.Condition {
				for key := range byKey {
					keys = append(keys, key)
				}
			}
			for _, want := range tt.conditionKeys {
				if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, want) }) {
					t.Errorf("no condition on %s (conditions %v)", want, keys)
				}
			}
		})
	}
}

// deliveryActions are what VPC Flow Logs needs to publish to CloudWatch Logs.
var deliveryActions = []string{
	"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
	"logs:DescribeLogStreams", "logs:PutLogEvents",
}

// TestDeliveryPolicy checks the flow log's own role grants the five actions the service uses.
func TestDeliveryPolicy(t *testing.T) {
	var got []string
	for _, st := range readPolicy(t, "deploy/iam/flow-logs-delivery-policy.json").Statement {
		got = append(got, st.Action...)
	}
	sort.Strings(got)
	if !slices.Equal(got, deliveryActions) {
		t.Errorf("actions %v, want %v", got, deliveryActions)
	}
}

// TestKinesisPolicyIsScoped checks deploy/iam/flowd-kinesis-policy.json: the stream's actions
// on stream ARNs only, the lease table's on table ARNs only (never an index or "*"), one
// statement per service, and every action the Kinesis source's code calls (internal/kinesis,
// internal/lease: calledActions) in it. TestFlowdPolicyGrantsExactlyTheCalledActions holds the
// three policy files together to exactly the called actions.
func TestKinesisPolicyIsScoped(t *testing.T) {
	const path = "deploy/iam/flowd-kinesis-policy.json"
	got := map[string][]string{}
	for _, st := range readPolicy(t, path).Statement {
		if len(st.Action) == 0 {
			continue
		}
		service := st.Action[0][:strings.Index(st.Action[0], ":")+1]
		prefix := "arn:aws:" + service
		for _, a := range st.Action {
			if !strings.HasPrefix(a, service) {
				t.Errorf("%s: %s mixes %s and %s actions: one statement per resource", path, st.Sid, service, a)
			}
		}
		if len(st.Resource) == 0 {
			t.Errorf("%s: %s: no Resource", path, st.Sid)
		}
		for _, r := range st.Resource {
			kind := map[string]string{"kinesis:": ":stream/", "dynamodb:": ":table/"}[service]
			if !strings.HasPrefix(r, prefix) || kind == "" || !strings.Contains(r, kind) || strings.Contains(r, "*") || strings.Contains(r, "/index/") {
				t.Errorf("%s: %s: Resource %q, want one %s...%s<name> ARN", path, st.Sid, r, prefix, kind)
			}
		}
		got[prefix] = append(got[prefix], st.Action...)
	}
	want := map[string][]string{}
	for action := range calledActions(t) {
		if service, _, _ := strings.Cut(action, ":"); service == "kinesis" || service == "dynamodb" {
			want["arn:aws:"+service+":"] = append(want["arn:aws:"+service+":"], action)
		}
	}
	if len(want) != 2 {
		t.Fatalf("calls of the kinesis and dynamodb clients found: %v; the scan of internal/kinesis and internal/lease is broken", want)
	}
	for prefix, actions := range want {
		slices.Sort(actions)
		if have := slices.Sorted(slices.Values(got[prefix])); !slices.Equal(have, actions) {
			t.Errorf("%s: actions on %s... are %v, the code calls %v", path, prefix, have, actions)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: statements on %d services, want %d", path, len(got), len(want))
	}
}

// TestLogsToKinesisPolicy checks the role CloudWatch Logs assumes to feed the Kinesis source:
// kinesis:PutRecord on the one stream flowd reads (flowd-kinesis-policy.json's), the same as
// the module's role in deploy/terraform/kinesis.tf.
func TestLogsToKinesisPolicy(t *testing.T) {
	var streams []string
	for _, st := range readPolicy(t, "deploy/iam/flowd-kinesis-policy.json").Statement {
		if slices.Contains(st.Action, "kinesis:GetRecords") {
			streams = append(streams, st.Resource...)
		}
	}
	var actions, resources []string
	for _, st := range readPolicy(t, "deploy/iam/logs-to-kinesis-policy.json").Statement {
		actions = append(actions, st.Action...)
		resources = append(resources, st.Resource...)
	}
	if !slices.Equal(actions, []string{"kinesis:PutRecord"}) || !slices.Equal(resources, streams) {
		t.Errorf("logs-to-kinesis-policy.json grants %v on %v, want kinesis:PutRecord on flowd's stream %v", actions, resources, streams)
	}
	if got := policyActions(t, findBlock(t, terraformFiles(t), "data", "aws_iam_policy_document", "logs_to_kinesis")); !slices.Equal(got, actions) {
		t.Errorf("Terraform's logs_to_kinesis policy grants %v, deploy/iam %v", got, actions)
	}
	// The trust is bound to the sending accounts' log ARNs, with a wildcard, so StringLike.
	for _, st := range readPolicy(t, "deploy/iam/trust-logs-to-kinesis.json").Statement {
		if arns := st.Condition["StringLike"]["aws:SourceArn"]; len(arns) == 0 || !strings.HasPrefix(arns[0], "arn:aws:logs:") {
			t.Errorf("trust-logs-to-kinesis.json: condition %v, want StringLike aws:SourceArn on arn:aws:logs:...", st.Condition)
		}
	}
}
