#!/usr/bin/env bash
# Proof under stress, short version: the real flowd binary against the CloudWatch Logs emulator
# and the simulator's ground truth (late delivery, throttling storm, faults, kill -9, cardinality
# attack, malformed flood), and three replicas sharing a Kinesis stream (kills, split, merge).
# Each scenario prints one PASS/FAIL line; the scenarios run side by side (-parallel), a few
# minutes in total on 2 cores. The long version and the soak are in
# docs/performance.md ("Stress results", "Soak").
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go test -tags stress -count=1 -timeout 12m -parallel 8 -v ./test/stress/ -args -short-ci > "$out" 2>&1 || status=$?
grep -E '^(PASS|FAIL) scenario=' "$out" || true
if [ "$status" -ne 0 ]; then
  grep -vE '^(PASS|FAIL) scenario=' "$out" | tail -200
fi
exit "$status"
