#!/usr/bin/env bash
# Runs every benchmark of the hot paths and summarises them with benchstat.
# Usage: scripts/bench.sh [count]   (results in bench/<date>.txt; compare two runs with
# `go tool benchstat bench/old.txt bench/new.txt`).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-6}
mkdir -p bench
out="bench/$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'); $(nproc) cores; $(go version)"
  go test -run='^$' -bench=. -benchmem -count="$count" ./internal/...
} | tee "$out"
go tool benchstat "$out"

# Ingest figures of the real binary against the emulator (docs/performance.md, "Ingest
# throughput and API efficiency"): events/s with the quota lifted and at 5 requests/s, and
# FilterLogEvents calls per million events in a steady run against the minimum. Add -long after
# -perf for the bigger volumes. The result lines go to the same file.
go test -tags stress -count=1 -timeout 30m -v -run '^(TestThroughput|TestAPIEfficiency)$' ./test/stress/ \
  -args -perf ${BENCH_STRESS_ARGS:-} 2>&1 | grep -E '^(PASS|FAIL) scenario=' | tee -a "$out"
