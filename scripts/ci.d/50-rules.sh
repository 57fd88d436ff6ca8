#!/usr/bin/env bash
# Prometheus rules and Alertmanager config: the committed rule file matches its parameters,
# promtool checks the rules and runs their unit tests, amtool checks the Alertmanager example.
set -euo pipefail
cd "$(dirname "$0")/../.."
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT
go run ./deploy/prometheus/gen -params deploy/prometheus/params.yml -out "$generated"
if ! cmp -s "$generated" deploy/prometheus/flowd-rules.yml; then
  echo "deploy/prometheus/flowd-rules.yml is stale: run go run ./deploy/prometheus/gen -params deploy/prometheus/params.yml -out deploy/prometheus/flowd-rules.yml"
  diff -u deploy/prometheus/flowd-rules.yml "$generated" || true
  exit 1
fi
promtool check rules deploy/prometheus/flowd-rules.yml
promtool test rules deploy/prometheus/tests/*.yml
if [ -f deploy/alertmanager/alertmanager.yml ]; then
  amtool check-config deploy/alertmanager/alertmanager.yml
fi
