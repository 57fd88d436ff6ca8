#!/usr/bin/env bash
# Formatting, vet and staticcheck (pinned in go.mod as a tool).
set -euo pipefail
go mod download
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go tool staticcheck ./...
