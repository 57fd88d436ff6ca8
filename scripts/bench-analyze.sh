#!/usr/bin/env bash
# Measures `flowd analyze` over a generated file of N flow log lines (default 2,000,000) against
# what users do today, an awk one-liner counting flows and bytes by action and destination port,
# on the same file in the same run. Reports wall time, CPU time (user+sys), peak memory and
# records per second of each whole process.
# Usage: scripts/bench-analyze.sh [lines]
# It builds ./cmd/flowd when it exists; until then it builds a stand-in main that calls
# analyze.Main (the code `flowd analyze` runs) in a temporary module outside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
lines=${1:-2000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The input: the default format, 300 interfaces, skewed service ports, ~10% rejects, NODATA,
# IPv6, times over an hour, half the records in the reply direction. Deterministic (srand(1)).
awk -v n="$lines" 'BEGIN {
  srand(1); split("443 443 443 443 80 80 22 5432 3306 6379 53 8080 9092 123 25 3389", ports, " ")
  for (i = 0; i < n; i++) {
    eni = sprintf("eni-%017x", int(rand()^3 * 300) + 4096)
    t = 1700000000 + int(i * 3600 / n) - int(rand() * 60)
    if (rand() < 0.01) { printf "2 123456789012 %s - - - - - - - %d %d - NODATA\n", eni, t, t + 60; continue }
    svc = ports[int(rand()^2 * 16) + 1]; proto = (svc == 53 || svc == 123) ? 17 : 6
    c = int(rand()^3 * 5000)
    cli = (rand() < 0.1) ? sprintf("2001:db8::%x", c) : sprintf("198.51.%d.%d", int(c / 250), c % 250 + 1)
    srv = (substr(cli, 1, 4) == "2001") ? sprintf("2600:1f18::%x", int(rand() * 64)) : sprintf("10.0.%d.%d", int(rand() * 4), int(rand() * 250) + 1)
    eph = 32768 + int(rand() * 28000); pk = 1 + int(rand() * 100); by = pk * (40 + int(rand() * 1400))
    act = (rand() < 0.1) ? "REJECT" : "ACCEPT"
    if (rand() < 0.5) printf "2 123456789012 %s %s %s %d %d %d %d %d %d %d %s OK\n", eni, cli, srv, eph, svc, proto, pk, by, t, t + 60, act
    else              printf "2 123456789012 %s %s %s %d %d %d %d %d %d %d %s OK\n", eni, srv, cli, svc, eph, proto, pk, by, t, t + 60, act
  }
}' > "$tmp/flows.log"
echo "input: $lines lines, $(du -m "$tmp/flows.log" | cut -f1) MB"

if [ -f cmd/flowd/main.go ]; then
  go build -o "$tmp/flowd" ./cmd/flowd
  analyze=("$tmp/flowd" analyze)
  echo "binary: ./cmd/flowd"
else
  mkdir "$tmp/main"
  cat > "$tmp/main/go.mod" <<MOD
module github.com/flowd-dev/flowd/tmpanalyzebench

go 1.26.0

require github.com/flowd-dev/flowd v0.0.0

replace github.com/flowd-dev/flowd => $repo
MOD
  printf 'package main\n\nimport (\n\t"os"\n\n\t"github.com/flowd-dev/flowd/internal/analyze"\n)\n\nfunc main() { os.Exit(analyze.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }\n' > "$tmp/main/main.go"
  (cd "$tmp/main" && GOFLAGS=-mod=mod go build -o "$tmp/flowd-analyze" .)
  analyze=("$tmp/flowd-analyze")
  echo "binary: stand-in main calling analyze.Main (cmd/flowd not present yet)"
fi

# measure NAME CMD...: runs CMD with stdout to a file, prints wall, CPU and records/s.
measure() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" > "$tmp/$name.out"
  t1=$(date +%s.%N)
  read -r user sys rss < "$tmp/time"
  awk -v name="$name" -v w="$(echo "$t1 - $t0" | bc)" -v u="$user" -v s="$sys" -v m="$rss" -v n="$lines" 'BEGIN {
    printf "%-14s wall %6.2fs  cpu %6.2fs  peak RSS %4d MB  %9.0f records/s (wall)  %9.0f records/cpu-s\n", name, w, u + s, m / 1024, n / w, n / (u + s) }'
}

echo "awk: $(readlink -f "$(command -v awk)")"
measure flowd-analyze "${analyze[@]}" --output json "$tmp/flows.log" | tee "$tmp/report"
measure awk awk '{f[$13" "$7]++; b[$13" "$7]+=$10} END{for (k in f) print k, f[k], b[k]}' "$tmp/flows.log" | tee -a "$tmp/report"
awk '/^flowd-analyze/ {fw = $3; fc = $5} /^awk / {aw = $3; ac = $5}
  END {printf "flowd analyze vs awk: %.1fx in wall time, %.1fx in CPU time\n", aw / fw, ac / fc}' "$tmp/report"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
grep -o '"records": [0-9]*' "$tmp/flowd-analyze.out" | head -1
echo "awk keys: $(wc -l < "$tmp/awk.out")"
