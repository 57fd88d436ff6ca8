#!/usr/bin/env bash
# Every example config in configs/ must pass `flowd check-config` (the built binary, as users run it).
set -euo pipefail
bin=$(mktemp -d)/flowd
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/flowd
shopt -s nullglob
files=(configs/*.yaml configs/*.yml)
if [ ${#files[@]} -eq 0 ]; then
  echo "no config in configs/"; exit 1
fi
for f in "${files[@]}"; do
  echo "check-config ${f}"
  "$bin" check-config --config.file="$f" >/dev/null
done
