#!/usr/bin/env bash
# End-to-end test of the operations kit: flowd demo under a real Prometheus (1s intervals, the
# shipped rule template with test-speed parameters) and a real Alertmanager (the shipped example).
# Needs prometheus and prometheus-alertmanager from Debian (00-deps.sh installs them). Every child
# process is stopped by PID by the test itself; the whole run is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -tags e2e -count=1 -timeout 6m -run '^TestEndToEnd$' -v ./test/e2e
