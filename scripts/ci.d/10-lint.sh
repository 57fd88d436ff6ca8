#!/usr/bin/env bash
# Formatting, vet, staticcheck and golangci-lint (both pinned in go.mod as tools; `go tool` builds
# each once into the build cache, so later runs start at once).
set -euo pipefail
go mod download
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go tool staticcheck ./...
go tool golangci-lint run ./... # linters: .golangci.yml
