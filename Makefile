GO ?= go

.PHONY: build test lint vet fuzz-smoke bench demo release

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

# A release in dist/: static linux/amd64 and arm64 binaries, the image (buildah), the Helm
# chart and SHA256SUMS; publishes nothing (.github/workflows/release.yml does, on a tag).
release:
	bash scripts/release.sh
