#!/usr/bin/env bash
# The whole test suite: what `make test` and CI run. Each step is a script in scripts/ci.d,
# run in name order; any failure stops the run. Steps install what they need themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"
start=$(date +%s)
for step in scripts/ci.d/*.sh; do
  name=$(basename "$step" .sh)
  echo "==> ${name}"
  t0=$(date +%s)
  bash "$step"
  echo "<== ${name} ok ($(( $(date +%s) - t0 ))s)"
done
echo "all steps passed in $(( $(date +%s) - start ))s"
