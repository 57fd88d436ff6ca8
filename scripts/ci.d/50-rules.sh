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
am=deploy/alertmanager/alertmanager.yml
amtool check-config "$am"
# Routing of the example: critical pages, traffic goes to security, other warnings to the platform.
route() { amtool config routes test --config.file="$am" --verify.receivers="$1" "${@:2}" 2>/dev/null; }
route pager alertname=FlowdDown severity=critical category=pipeline
route pager alertname=FlowdSourceNotPolled severity=critical category=pipeline
route security-team alertname=FlowdPortScan severity=warning category=traffic src_addr=203.0.113.9
route security-team alertname=FlowdRejectSpike severity=warning category=traffic scope=port port=22
route platform-team alertname=FlowdIngestThrottled severity=warning category=pipeline
route pager alertname=FlowdKinesisShardsUnowned severity=critical category=pipeline stream=flow-logs
route platform-team alertname=FlowdKinesisLag severity=warning category=pipeline stream=flow-logs
route null alertname=Silenced severity=none
