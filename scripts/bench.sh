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
