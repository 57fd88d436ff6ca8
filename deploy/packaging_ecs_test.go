package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"go.yaml.in/yaml/v3"

	"github.com/flowd-dev/flowd/internal/config"
)

// The ECS SDK's input types carry no JSON tags, so encoding/json matches the file's keys to
// the Go field names case-insensitively: "ContainerDefinitions" would pass as well as the
// "containerDefinitions" the ECS API and `aws ecs register-task-definition --cli-input-json`
// take. So each file is decoded strictly (unknown keys fail), then sent through the SDK's
// own serializer, which writes the API's exact member names, to a local server; the request
// body must equal the file. A key in the wrong case, a value of the wrong type or one the
// decode dropped shows up as a difference; the SDK's validation of required members runs too.

// captureECS returns an ECS client whose requests go to a local server, and a function that
// returns the JSON body of the last request.
func captureECS(t *testing.T) (*ecs.Client, func() map[string]any) {
	t.Helper()
	var (
		mu   sync.Mutex
		last []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		last = body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	client := ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	return client, func() map[string]any {
		mu.Lock()
		defer mu.Unlock()
		var doc map[string]any
		if err := json.Unmarshal(last, &doc); err != nil {
			t.Fatalf("request body: %v", err)
		}
		return doc
	}
}

// jsonDiff describes the first differences between two decoded JSON values.
func jsonDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: file has an object, the SDK wrote %v", path, got)}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: in the file, not written by the SDK (wrong case or not an API member)", path, k))
				continue
			}
			out = append(out, jsonDiff(path+"."+k, wv, gv)...)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: written by the SDK, not in the file", path, k))
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: file has %v, the SDK wrote %v", path, want, got)}
		}
		var out []string
		for i := range w {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: file has %v, the SDK wrote %v", path, want, got)}
		}
		return nil
	}
}

// roundTrip checks that file decodes strictly into input and that the SDK serializes it back
// to the same document when send is called.
func roundTrip(t *testing.T, file string, input any, send func(context.Context) error, body func() map[string]any) {
	t.Helper()
	data := readFile(t, file)
	if err := decodeJSONStrict(data, input); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if err := send(context.Background()); err != nil {
		t.Fatalf("%s: the SDK refused the input: %v", file, err)
	}
	var want map[string]any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, d := range jsonDiff("$", want, body()) {
		t.Errorf("%s: %s", file, d)
	}
}

func TestECSTaskDefinitionIsARegisterTaskDefinitionInput(t *testing.T) {
	client, body := captureECS(t)
	var in ecs.RegisterTaskDefinitionInput
	roundTrip(t, "deploy/ecs/task-definition.json", &in, func(ctx context.Context) error {
		_, err := client.RegisterTaskDefinition(ctx, &in)
		return err
	}, body)
}

func TestECSServiceIsACreateServiceInput(t *testing.T) {
	client, body := captureECS(t)
	var in ecs.CreateServiceInput
	roundTrip(t, "deploy/ecs/service.json", &in, func(ctx context.Context) error {
		_, err := client.CreateService(ctx, &in)
		return err
	}, body)
}

// TestECSTaskDefinitionRunsFlowdSafely checks what the issue asks of the task: a task role,
// logs, a health check, the config passed in, and flowd's container locked down.
func TestECSTaskDefinitionRunsFlowdSafely(t *testing.T) {
	var td ecs.RegisterTaskDefinitionInput
	if err := decodeJSONStrict(readFile(t, "deploy/ecs/task-definition.json"), &td); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(td.TaskRoleArn) == "" || aws.ToString(td.ExecutionRoleArn) == "" {
		t.Error("the task needs a task role (flowd's AWS calls) and an execution role (image pull, logs)")
	}
	byName := map[string]int{}
	for i, c := range td.ContainerDefinitions {
		byName[aws.ToString(c.Name)] = i
		if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != "awslogs" {
			t.Errorf("container %s: no awslogs log configuration", aws.ToString(c.Name))
		}
	}
	i, ok := byName["flowd"]
	if !ok {
		t.Fatal("no container named flowd")
	}
	flowd := td.ContainerDefinitions[i]
	if !aws.ToBool(flowd.Essential) || !aws.ToBool(flowd.ReadonlyRootFilesystem) || aws.ToString(flowd.User) != "65532:65532" {
		t.Errorf("flowd: essential %v, read-only root %v, user %q; want true, true, 65532:65532",
			aws.ToBool(flowd.Essential), aws.ToBool(flowd.ReadonlyRootFilesystem), aws.ToString(flowd.User))
	}
	if len(flowd.PortMappings) != 1 || aws.ToInt32(flowd.PortMappings[0].ContainerPort) != 9820 {
		t.Errorf("flowd: port mappings %+v, want 9820", flowd.PortMappings)
	}
	if got := strings.Join(flowd.Command, " "); !strings.HasPrefix(got, "run --config.env=FLOWD_CONFIG") || strings.Contains(got, "--config.file") {
		t.Errorf("flowd: command %q, want run --config.env=FLOWD_CONFIG (the config from the task's secret, no file)", got)
	}
	mounts := map[string]bool{}
	for _, m := range flowd.MountPoints {
		mounts[aws.ToString(m.ContainerPath)] = aws.ToBool(m.ReadOnly)
	}
	if ro, ok := mounts["/var/lib/flowd"]; !ok || ro {
		t.Error("flowd: the checkpoint needs a writable volume at /var/lib/flowd")
	}
	// The image has no shell: the health check must run flowd's own healthcheck subcommand
	// against the port flowd serves.
	if flowd.HealthCheck == nil {
		t.Error("flowd: no health check")
	} else if cmd := flowd.HealthCheck.Command; len(cmd) < 3 || cmd[0] != "CMD" || cmd[1] != "/usr/local/bin/flowd" || cmd[2] != "healthcheck" ||
		!strings.Contains(strings.Join(cmd, " "), "127.0.0.1:9820/-/healthy") {
		t.Errorf("flowd: health check %q, want [CMD /usr/local/bin/flowd healthcheck --url=http://127.0.0.1:9820/-/healthy]", cmd)
	}
}

// ecrImage is an image in the account's own ECR registry: the only images a task in a private
// subnet can pull with the VPC endpoints docs/deploy.md lists (ecr.api, ecr.dkr, s3).
var ecrImage = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/`)

// TestECSConfigComesFromSSM checks that flowd takes its config from an SSM parameter through
// the task's secrets, with no sidecar: one container, from ECR, reading --config.env, and an
// execution-role policy that grants ssm:GetParameters on exactly that parameter.
func TestECSConfigComesFromSSM(t *testing.T) {
	var td ecs.RegisterTaskDefinitionInput
	if err := decodeJSONStrict(readFile(t, "deploy/ecs/task-definition.json"), &td); err != nil {
		t.Fatal(err)
	}
	if len(td.ContainerDefinitions) != 1 || aws.ToString(td.ContainerDefinitions[0].Name) != "flowd" {
		t.Fatalf("%d containers, want flowd alone (no config sidecar)", len(td.ContainerDefinitions))
	}
	flowd := td.ContainerDefinitions[0]
	if img := aws.ToString(flowd.Image); !ecrImage.MatchString(img) {
		t.Errorf("image %q is not in the account's ECR registry", img)
	}
	for _, kv := range flowd.Environment {
		if aws.ToString(kv.Name) == "FLOWD_CONFIG" {
			t.Error("FLOWD_CONFIG is a plain environment value; it comes from secrets (SSM)")
		}
	}
	if len(flowd.Secrets) != 1 || aws.ToString(flowd.Secrets[0].Name) != "FLOWD_CONFIG" {
		t.Fatalf("secrets %+v, want FLOWD_CONFIG alone", flowd.Secrets)
	}
	param := aws.ToString(flowd.Secrets[0].ValueFrom)
	if !regexp.MustCompile(`^arn:aws:ssm:us-east-1:111122223333:parameter/.+`).MatchString(param) {
		t.Errorf("FLOWD_CONFIG valueFrom %q, want the ARN of an SSM parameter of the task's account and Region", param)
	}
	var granted []string
	for _, st := range readPolicy(t, "deploy/iam/ecs-task-execution-config-policy.json").Statement {
		if st.Effect != "Allow" || !slices.Equal(st.Action, []string{"ssm:GetParameters"}) {
			t.Errorf("statement %s: %s %v, want Allow ssm:GetParameters", st.Sid, st.Effect, st.Action)
		}
		granted = append(granted, st.Resource...)
	}
	if !slices.Equal(granted, []string{param}) {
		t.Errorf("the execution-role policy grants ssm:GetParameters on %v, want exactly %s", granted, param)
	}
	// docs/deploy.md stores deploy/ecs/flowd.yaml (which flowd accepts) in that parameter.
	name := param[strings.Index(param, ":parameter")+len(":parameter"):]
	if doc := string(readFile(t, "docs/deploy.md")); !strings.Contains(doc, "aws ssm put-parameter --name "+name+" --type String --value file://deploy/ecs/flowd.yaml") {
		t.Errorf("docs/deploy.md does not show how to store deploy/ecs/flowd.yaml in %s", name)
	}
	if _, err := config.Load(readFile(t, "deploy/ecs/flowd.yaml")); err != nil {
		t.Errorf("deploy/ecs/flowd.yaml: flowd rejects it: %v", err)
	}
}

func TestECSKinesisServiceIsACreateServiceInput(t *testing.T) {
	client, body := captureECS(t)
	var in ecs.CreateServiceInput
	roundTrip(t, "deploy/ecs/service-kinesis.json", &in, func(ctx context.Context) error {
		_, err := client.CreateService(ctx, &in)
		return err
	}, body)
}

// TestECSServicesCountEachRecordOnce checks the two services against their sources. The
// polling service (service.json) runs one task and stops it before its replacement starts: two
// tasks polling one log group would count its records twice. The Kinesis service
// (service-kinesis.json) runs several tasks of the same task definition, which share the
// stream's shards through leases, and may overlap during a deployment (the leases move, they
// are never held twice); its config (deploy/ecs/flowd-kinesis.yaml) has Kinesis sources only,
// and docs/deploy.md says how it gets into the task's parameter.
func TestECSServicesCountEachRecordOnce(t *testing.T) {
	var poll, kin ecs.CreateServiceInput
	if err := decodeJSONStrict(readFile(t, "deploy/ecs/service.json"), &poll); err != nil {
		t.Fatal(err)
	}
	if err := decodeJSONStrict(readFile(t, "deploy/ecs/service-kinesis.json"), &kin); err != nil {
		t.Fatal(err)
	}
	if got, dc := aws.ToInt32(poll.DesiredCount), poll.DeploymentConfiguration; got != 1 || dc == nil || aws.ToInt32(dc.MaximumPercent) != 100 || aws.ToInt32(dc.MinimumHealthyPercent) != 0 {
		t.Errorf("service.json: desiredCount %d, deployment %+v; want 1 task, stopped before its replacement starts (0%%/100%%)", got, dc)
	}
	if got := aws.ToInt32(kin.DesiredCount); got < 2 {
		t.Errorf("service-kinesis.json: desiredCount %d, want several tasks", got)
	}
	if dc := kin.DeploymentConfiguration; dc == nil || aws.ToInt32(dc.MinimumHealthyPercent) < 50 || dc.DeploymentCircuitBreaker == nil || !dc.DeploymentCircuitBreaker.Enable {
		t.Errorf("service-kinesis.json: deployment %+v; want at least half the tasks kept during a deployment, and the circuit breaker", dc)
	}
	if aws.ToString(kin.TaskDefinition) != aws.ToString(poll.TaskDefinition) || aws.ToString(kin.Cluster) != aws.ToString(poll.Cluster) {
		t.Errorf("service-kinesis.json runs %s on %s; want service.json's task definition %s on %s (the config, in the parameter, makes the difference)",
			aws.ToString(kin.TaskDefinition), aws.ToString(kin.Cluster), aws.ToString(poll.TaskDefinition), aws.ToString(poll.Cluster))
	}
	if aws.ToString(kin.ServiceName) == aws.ToString(poll.ServiceName) {
		t.Error("the two services have one name")
	}
	if nc := kin.NetworkConfiguration; nc == nil || nc.AwsvpcConfiguration == nil || len(nc.AwsvpcConfiguration.Subnets) < 2 {
		t.Error("service-kinesis.json: want subnets in several Availability Zones, so that one zone's loss leaves replicas to take its leases")
	}
	if len(kin.ServiceRegistries) != 1 || aws.ToInt32(kin.ServiceRegistries[0].ContainerPort) != 9820 {
		t.Errorf("service-kinesis.json: service registries %+v; Prometheus finds every task through Cloud Map on 9820", kin.ServiceRegistries)
	}

	const file = "deploy/ecs/flowd-kinesis.yaml"
	data := readFile(t, file)
	if _, err := config.Load(data); err != nil {
		t.Fatalf("%s: flowd rejects it: %v", file, err)
	}
	var cfg struct {
		Sources []map[string]any `yaml:"sources"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) == 0 {
		t.Fatalf("%s has no source", file)
	}
	for i, src := range cfg.Sources {
		if _, ok := src["kinesis_stream"]; !ok {
			t.Errorf("%s: sources[%d] is not a Kinesis source; each of %d tasks would count it", file, i, aws.ToInt32(kin.DesiredCount))
		}
	}
	if doc := string(readFile(t, "docs/deploy.md")); !strings.Contains(doc, "aws ssm put-parameter --name /flowd/config --type String --value file://"+file) ||
		!strings.Contains(doc, "aws ecs create-service --cli-input-json file://deploy/ecs/service-kinesis.json") {
		t.Errorf("docs/deploy.md does not show how to store %s in /flowd/config and create the Kinesis service", file)
	}
}
