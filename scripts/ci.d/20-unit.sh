#!/usr/bin/env bash
# Unit and integration tests with the race detector.
set -euo pipefail
go test -race -count=1 -timeout 15m ./...
