// Package e2e checks flowd's operations kit (deploy/prometheus, deploy/grafana, deploy/alertmanager,
// deploy/compose). The static checks run with every `go test ./...`: every rule and dashboard query
// parses with the PromQL parser and uses only the metric families and labels of the contract in
// docs/architecture.md (or the shipped recording rules), and the provisioning, Alertmanager and
// compose files hold together. The end-to-end test (build tag e2e, run by scripts/ci.d/60-e2e.sh)
// runs flowd's demo under a real Prometheus and Alertmanager.
package e2e
