GO ?= go

.PHONY: build test lint vet fuzz-smoke bench demo

build:
	$(GO) build -o bin/flowd ./cmd/flowd

# Everything CI runs (see scripts/ci.d for the steps).
test:
	bash scripts/test.sh

lint:
	bash scripts/ci.d/10-lint.sh

vet:
	$(GO) vet ./...

fuzz-smoke:
	bash scripts/ci.d/30-fuzz.sh

bench:
	bash scripts/bench.sh

demo:
	$(GO) run ./cmd/flowd demo
