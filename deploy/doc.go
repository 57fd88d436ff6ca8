// Package deploy holds flowd's deployment artifacts (container image, Helm chart, Kubernetes
// manifests, ECS task definition, IAM policies, Terraform module, Prometheus rules) and the
// tests that check them against the code: the AWS calls flowd makes, the config schema and
// the one flow log format string they must all agree on. It has no code of its own.
package deploy
