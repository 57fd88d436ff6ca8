#!/usr/bin/env bash
# Builds a release of flowd into dist/ (or $DIST), publishing nothing:
#   flowd-<version>-linux-amd64.tar.gz, flowd-<version>-linux-arm64.tar.gz
#                              static binaries (CGO off, -trimpath, the Dockerfile's -ldflags)
#   flowd-<version>-image.oci.tar
#                              the container image for both architectures (an OCI archive of a
#                              manifest list), built with buildah from the Dockerfile's runtime
#                              stage; skipped, saying why, where buildah cannot run
#   flowd-<chart version>.tgz  the Helm chart (helm package), appVersion <version>
#   SHA256SUMS                 sha256 of every file above
# .github/workflows/release.yml runs this on a tag and publishes the result; CI
# (scripts/ci.d/70-packaging.sh) runs it without publishing.
#
#   make release                          version from git describe
#   VERSION=v1.2.3 scripts/release.sh     an explicit version (a leading v is dropped in tags)
#   RELEASE_IMAGE=0 scripts/release.sh    binaries and chart only
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0 # as scripts/ci.d/70-packaging.sh
dist=${DIST:-dist}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
tag=${version#v}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
arches=(amd64 arm64)
step() { echo "--- release $tag: $*"; }

rm -rf "$dist"
mkdir -p "$dist"
work=$(mktemp -d)
buildah_objs=()
cleanup() {
  for obj in "${buildah_objs[@]}"; do
    buildah --storage-driver vfs rmi -f "$obj" >/dev/null 2>&1 || buildah --storage-driver vfs manifest rm "$obj" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- binaries ------------------------------------------------------------------------------
# The same flags as the Dockerfile's build stage (deploy/packaging_dockerfile_test.go holds the
# two to the same -ldflags), cross-compiled: no cgo, so no C toolchain per architecture.
ldflags="-s -w -X main.version=${version} -X main.revision=${revision}"
for arch in "${arches[@]}"; do
  step "binary linux/$arch"
  name=flowd-$tag-linux-$arch
  mkdir -p "$work/$name"
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags="$ldflags" -o "$work/$name/flowd" ./cmd/flowd
  if readelf -l "$work/$name/flowd" 2>/dev/null | grep -q "program interpreter"; then
    echo "$name/flowd is dynamically linked" >&2; exit 1
  fi
  cp README.md deploy/ecs/flowd.yaml "$work/$name/"
  tar -C "$work" --owner=0 --group=0 --numeric-owner --mtime='1970-01-01' --sort=name -czf "$dist/$name.tar.gz" "$name"
done
host_arch=$(go env GOARCH)
"$work/flowd-$tag-linux-$host_arch/flowd" version | grep -q -- "$version" || { echo "the linux/$host_arch binary does not report version $version" >&2; exit 1; }

# ---- image ---------------------------------------------------------------------------------
image_skip=""
if [ "${RELEASE_IMAGE:-1}" = 0 ]; then
  image_skip="RELEASE_IMAGE=0"
elif ! command -v buildah >/dev/null; then
  image_skip="no buildah on PATH (apt-get install buildah)"
elif ! buildah --storage-driver vfs info >/dev/null 2>&1; then
  image_skip="buildah cannot run here: $(buildah --storage-driver vfs info 2>&1 | tail -1)"
fi
if [ -n "$image_skip" ]; then
  step "image SKIPPED: $image_skip"
else
  B=(buildah --storage-driver vfs)
  list=flowd-release:$tag
  "${B[@]}" manifest rm "$list" >/dev/null 2>&1 || true
  "${B[@]}" manifest create "$list" >/dev/null
  buildah_objs+=("$list")
  # The Dockerfile's last stage (FROM scratch) as written, its COPY --from=build sources taken
  # from a per-architecture out/ tree laid out as the build stage lays out /out.
  awk '/^FROM /{ last = NR } { lines[NR] = $0 } END { for (i = last; i <= NR; i++) print lines[i] }' Dockerfile |
    sed -e 's#--from=build ##' -e 's# /out/# out/#g' > "$work/Containerfile"
  for arch in "${arches[@]}"; do
    step "image linux/$arch"
    ctx=$work/image-$arch
    mkdir -p "$ctx/out/rootfs/usr/local/bin" "$ctx/out/rootfs/etc/flowd" "$ctx/out/rootfs/etc/ssl/certs" "$ctx/out/state"
    cp "$work/flowd-$tag-linux-$arch/flowd" "$ctx/out/rootfs/usr/local/bin/flowd"
    cp deploy/ecs/flowd.yaml "$ctx/out/rootfs/etc/flowd/flowd.yaml"
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/out/rootfs/etc/ssl/certs/ca-certificates.crt"
    "${B[@]}" bud --quiet --isolation chroot --arch "$arch" --os linux -f "$work/Containerfile" \
      --build-arg VERSION="$version" -t "flowd-release:$tag-$arch" "$ctx" >/dev/null
    buildah_objs=("flowd-release:$tag-$arch" "${buildah_objs[@]}")
    "${B[@]}" manifest add "$list" "flowd-release:$tag-$arch" >/dev/null
  done
  "${B[@]}" manifest push --quiet --all "$list" "oci-archive:$dist/flowd-$tag-image.oci.tar:flowd:$tag"
fi

# ---- Helm chart ----------------------------------------------------------------------------
step "chart"
helm=${HELM:-$(command -v helm || true)}
if [ -z "$helm" ]; then
  helm=$(go env GOPATH)/bin/helm
  [ -x "$helm" ] || GOFLAGS= go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
# The chart's appVersion is the image tag its default values pull.
"$helm" package deploy/helm/flowd --app-version "$tag" --destination "$dist" >/dev/null

# ---- checksums -----------------------------------------------------------------------------
(cd "$dist" && sha256sum -- * > SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
step "done: $dist"
ls -l "$dist"
