# flowd container image: a static binary on an empty base, run as a non-root user.
#
#   docker build --build-arg VERSION="$(git describe --tags --always)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t flowd .
#
# The runtime stage is FROM scratch: there is no shell, package manager or libc to patch, and
# the CI check (scripts/ci.d/70-packaging.sh) builds this very stage with buildah from a
# locally built /out tree, so what CI runs is what ships.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: a source change then reuses the downloaded-modules layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=
# CGO off gives a static binary that needs no libc; -trimpath keeps build paths out of it.
ENV CGO_ENABLED=0
RUN go build -trimpath \
	-ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
	-o /out/rootfs/usr/local/bin/flowd ./cmd/flowd \
	&& mkdir -p /out/rootfs/etc/flowd /out/rootfs/etc/ssl/certs /out/state \
	&& cp deploy/ecs/flowd.yaml /out/rootfs/etc/flowd/flowd.yaml \
	&& cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt \
	&& /out/rootfs/usr/local/bin/flowd check-config --config.file=/out/rootfs/etc/flowd/flowd.yaml >/dev/null

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="flowd" \
	org.opencontainers.image.description="VPC Flow Logs from CloudWatch Logs to Prometheus metrics" \
	org.opencontainers.image.version="${VERSION}"
# The binary, CA certificates (for TLS to AWS) and the example config, owned by root and so
# read-only for the user below.
COPY --from=build /out/rootfs/ /
# The checkpoint directory is the only place flowd writes; mount a volume here so the root file
# system can be read-only. It is created owned by the runtime user so an unmounted run works too.
COPY --from=build --chown=65532:65532 /out/state/ /var/lib/flowd/
USER 65532:65532
VOLUME ["/var/lib/flowd"]
EXPOSE 9820
ENTRYPOINT ["/usr/local/bin/flowd"]
CMD ["run", "--config.file=/etc/flowd/flowd.yaml"]
