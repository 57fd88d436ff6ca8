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

// calledActions returns the IAM actions of the CloudWatch Logs and STS operations that flowd's
// own code calls: calls of an operation's method (on the SDK client or an interface wrapping
// it), of its paginator constructor, and of the STS credential provider that calls AssumeRole.
// The emulator and the simulator are left out: they serve or feed the API, never call AWS; so
// is every file that imports them (the demo, which runs against an in-process emulator).
func calledActions(t *testing.T) map[string][]string {
	t.Helper()
	byName := map[string]string{}
	for _, op := range sdkOperations(&cloudwatchlogs.Client{}) {
		byName[op] = "logs:" + op
		byName["New"+op+"Paginator"] = "logs:" + op
	}
	for _, op := range sdkOperations(&sts.Client{}) {
		byName[op] = "sts:" + op
	}
	if byName["FilterLogEvents"] == "" || byName["AssumeRole"] == "" {
		t.Fatal("the SDK clients' operations were not found by reflection")
	}
	// stscreds.NewAssumeRoleProvider is how the SDK's users call AssumeRole.
	byName["NewAssumeRoleProvider"] = "sts:AssumeRole"

	found := map[string][]string{}
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
			for _, imp := range file.Imports {
				switch strings.Trim(imp.Path.Value, `"`) {
				case "github.com/flowd-dev/flowd/internal/emulator", "github.com/flowd-dev/flowd/internal/simulate":
					return nil
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var name string
				switch fn := call.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				if action, ok := byName[name]; ok {
					found[action] = append(found[action], fset.Position(call.Pos()).String())
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
	}
	return found
}

// TestFlowdPolicyGrantsExactlyTheCalledActions holds the policies flowd's role gets against
// the operations its code calls: a call without a grant fails in production with
// AccessDenied, a grant without a call is privilege nobody needs.
func TestFlowdPolicyGrantsExactlyTheCalledActions(t *testing.T) {
	called := calledActions(t)
	if _, ok := called["logs:FilterLogEvents"]; !ok {
		t.Fatalf("no FilterLogEvents call found in cmd/ or internal/ (found %v): the scan is broken", called)
	}
	granted := map[string]string{}
	for _, path := range []string{"deploy/iam/flowd-policy.json", "deploy/iam/flowd-assume-role-policy.json"} {
		for _, st := range readPolicy(t, path).Statement {
			for _, a := range st.Action {
				granted[a] = path
			}
			if len(st.Resource) == 0 || slices.Contains(st.Resource, "*") {
				t.Errorf("%s: %s: Resource %v, want ARNs", path, st.Sid, st.Resource)
			}
		}
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
