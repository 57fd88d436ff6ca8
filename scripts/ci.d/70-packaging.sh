#!/usr/bin/env bash
# Packaging and deployment artifacts, checked offline with the real tools:
#   1. Dockerfile: dockerfile-utils lint, and its formatter's layout.
#   2. Helm: helm lint, scripts/render-k8s.sh --check (deploy/kubernetes and the chart's copy of
#      the rules and dashboards equal what the chart renders), the chart's behaviour (the
#      checkpoint on a claim by default, shards > 1 refused below Kubernetes 1.28, Kinesis
#      replicas and their PodDisruptionBudget, the dashboards ConfigMap, alert changes through
#      values), and kubeconform -strict on several renderings
#      against schemas generated from the Kubernetes OpenAPI document of the k8s.io/kubernetes
#      module (deploy/tools/k8sschema).
#   3. Image: the Dockerfile's build-stage commands run on a build context filtered through
#      .dockerignore (by buildah), then its runtime stage, FROM scratch, built by buildah; the
#      image's binary runs `flowd demo` inside the image's root file system as the image's user,
#      and its /metrics is scraped.
#   4. Terraform: fmt -check, init, validate and terraform test with a mocked provider, where a
#      terraform binary and a provider mirror are present (skipped, with a message, elsewhere).
#   5. Release: scripts/release.sh (make release) into a temporary dist/, published nowhere:
#      static linux/amd64 and arm64 binaries, the two-architecture image, the chart, SHA256SUMS.
# ECS and IAM are checked by `go test ./deploy/` (step 20), and Terraform's HCL there too.
# Tools are pinned and cached (GOPATH/bin, ~/.cache/flowd-packaging) so a rerun takes seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
K8S_MODULE_VERSION=v1.31.14
KUBE_VERSION=1.31.0
DOCKERFILE_UTILS_VERSION=0.16.3
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/flowd-packaging
gobin=$(go env GOPATH)/bin
mkdir -p "$cache"

work=$(mktemp -d)
buildah_objs=()
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ]; then kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; fi
  for obj in "${buildah_objs[@]}"; do
    buildah --storage-driver vfs rm "$obj" >/dev/null 2>&1 || buildah --storage-driver vfs rmi -f "$obj" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "--- $*"; }

# ---- tools ---------------------------------------------------------------------------------
step "tools"
if ! command -v buildah >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends buildah >/dev/null
fi
if [ ! -x "$gobin/helm" ] || [ "$(cat "$cache/helm.version" 2>/dev/null)" != "$HELM_VERSION" ]; then
  GOFLAGS= go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > "$cache/helm.version"
fi
if [ ! -x "$gobin/kubeconform" ] || [ "$(cat "$cache/kubeconform.version" 2>/dev/null)" != "$KUBECONFORM_VERSION" ]; then
  GOFLAGS= go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  echo "$KUBECONFORM_VERSION" > "$cache/kubeconform.version"
fi
dockerfile_utils=$cache/npm-$DOCKERFILE_UTILS_VERSION/node_modules/.bin/dockerfile-utils
if [ ! -x "$dockerfile_utils" ]; then
  npm install --prefix "$cache/npm-$DOCKERFILE_UTILS_VERSION" --no-audit --no-fund --loglevel=error \
    "dockerfile-utils@$DOCKERFILE_UTILS_VERSION" >/dev/null
fi
schemas=$cache/k8s-schemas-$K8S_MODULE_VERSION
if [ ! -f "$schemas/deployment-apps-v1.json" ]; then
  # The module is only downloaded into the module cache; flowd's go.mod does not require it.
  k8s_dir=$(cd "$work" && GOFLAGS= go mod download -json "k8s.io/kubernetes@$K8S_MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  go run ./deploy/tools/k8sschema -spec "$k8s_dir/api/openapi-spec/swagger.json" -out "$schemas.tmp"
  rm -rf "$schemas" && mv "$schemas.tmp" "$schemas"
fi
echo "helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, $(buildah --version), dockerfile-utils $DOCKERFILE_UTILS_VERSION, schemas from k8s.io/kubernetes $K8S_MODULE_VERSION"

# ---- Dockerfile lint -----------------------------------------------------------------------
step "dockerfile lint"
"$dockerfile_utils" lint Dockerfile
if ! "$dockerfile_utils" format Dockerfile | diff -u Dockerfile -; then
  echo "Dockerfile is not in dockerfile-utils format layout (apply the diff above)" >&2
  exit 1
fi

# ---- Helm and Kubernetes -------------------------------------------------------------------
step "helm lint"
"$gobin/helm" lint --strict deploy/helm/flowd --kube-version "$KUBE_VERSION" \
  --set serviceAccount.roleArn=arn:aws:iam::111122223333:role/flowd

step "deploy/kubernetes drift"
HELM="$gobin/helm" KUBE_VERSION="$KUBE_VERSION" scripts/render-k8s.sh --check

step "kubeconform"
render() { "$gobin/helm" template flowd deploy/helm/flowd --namespace flowd --kube-version "$KUBE_VERSION" "$@"; }
render --set persistence.storageClassName=gp3 > "$work/persistent.yaml"
render --set persistence.enabled=false > "$work/emptydir.yaml"
render --set persistence.existingClaim=flowd-checkpoint > "$work/existing-claim.yaml"
render --set shards=3 > "$work/sharded.yaml"
render --set shards=3 --set persistence.enabled=false > "$work/sharded-emptydir.yaml"
render --set dashboards.enabled=true --set dashboards.annotations.grafana_folder=flowd > "$work/dashboards.yaml"
render -f deploy/helm/kinesis-values.yaml > "$work/kinesis.yaml"
render -f deploy/helm/kinesis-values.yaml --set pdb.maxUnavailable=null --set pdb.minAvailable=2 > "$work/kinesis-min-available.yaml"
kc=("$gobin/kubeconform" -strict -summary -kubernetes-version "$KUBE_VERSION"
  -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json")
# Core kinds: a missing schema is an error.
"${kc[@]}" deploy/kubernetes/flowd.yaml deploy/kubernetes/flowd-kinesis.yaml "$work/persistent.yaml" "$work/emptydir.yaml" \
  "$work/existing-claim.yaml" "$work/sharded.yaml" "$work/sharded-emptydir.yaml" "$work/dashboards.yaml" \
  "$work/kinesis.yaml" "$work/kinesis-min-available.yaml"
# The Prometheus Operator's kinds have no schema in the Kubernetes OpenAPI document.
"${kc[@]}" -ignore-missing-schemas deploy/kubernetes/flowd-monitoring.yaml

step "chart behaviour"
fail() { echo "$*" >&2; exit 1; }
# The checkpoint survives upgrades by default: a StatefulSet whose pod mounts its own claim, kept
# on uninstall; only persistence.enabled=false gives an emptyDir.
for f in deploy/kubernetes/flowd.yaml "$work/persistent.yaml" "$work/sharded.yaml" "$work/kinesis.yaml"; do
  grep -q 'kind: StatefulSet' "$f" || fail "$f: no StatefulSet"
  grep -q 'kind: Deployment' "$f" && fail "$f: a Deployment (a rolling update with a ReadWriteOnce claim cannot work)"
  grep -q 'volumeClaimTemplates:' "$f" || fail "$f: no volumeClaimTemplates: the checkpoint would not survive an upgrade"
  grep -q 'whenDeleted: Retain' "$f" || fail "$f: the claims are not kept on uninstall"
  grep -q 'emptyDir' "$f" && fail "$f: an emptyDir by default"
done
grep -q 'emptyDir: {}' "$work/emptydir.yaml" || fail "persistence.enabled=false did not render an emptyDir"
grep -q 'claimName: flowd-checkpoint' "$work/existing-claim.yaml" || fail "persistence.existingClaim is not mounted"
grep -q -- '--shard=$(POD_INDEX)/3' "$work/sharded.yaml" || fail "shards=3 did not pass --shard"
# shards > 1 needs the pod-index label (Kubernetes 1.28): refused for 1.27, accepted for 1.28.
if out=$("$gobin/helm" template flowd deploy/helm/flowd --kube-version 1.27.0 --set shards=3 2>&1); then
  fail "shards=3 rendered for Kubernetes 1.27"
fi
echo "$out" | grep -q 'needs Kubernetes 1.28' || fail "shards=3 on 1.27 failed without naming the reason: $out"
"$gobin/helm" template flowd deploy/helm/flowd --kube-version 1.27.0 >/dev/null || fail "shards=1 refused on Kubernetes 1.27"
"$gobin/helm" template flowd deploy/helm/flowd --kube-version 1.28.0 --set shards=3 >/dev/null || fail "shards=3 refused on Kubernetes 1.28"
# Kinesis replicas (replicaCount > 1): one StatefulSet of replicaCount pods without --shard, and
# a PodDisruptionBudget whenever there is more than one pod (none for one: it would block every
# drain). replicaCount > 1 is refused with a polled source (each pod would count it), with
# shards > 1, and with both minAvailable and maxUnavailable.
grep -q 'replicas: 3' "$work/kinesis.yaml" || fail "kinesis-values.yaml did not render three replicas"
grep -Eq -- '^ *- --shard' "$work/kinesis.yaml" && fail "Kinesis replicas got --shard"
grep -q 'kind: PodDisruptionBudget' "$work/kinesis.yaml" || fail "replicaCount=3 rendered no PodDisruptionBudget"
grep -q 'maxUnavailable: 1' "$work/kinesis.yaml" || fail "the PodDisruptionBudget lacks maxUnavailable: 1"
grep -q 'minAvailable: 2' "$work/kinesis-min-available.yaml" || fail "pdb.minAvailable=2 was not rendered"
grep -q 'kind: PodDisruptionBudget' "$work/sharded.yaml" || fail "shards=3 rendered no PodDisruptionBudget"
for f in deploy/kubernetes/flowd.yaml "$work/persistent.yaml"; do
  grep -q 'kind: PodDisruptionBudget' "$f" && fail "$f: a PodDisruptionBudget for a single pod"
done
render -f deploy/helm/kinesis-values.yaml --set pdb.enabled=false > "$work/kinesis-no-pdb.yaml"
grep -q 'kind: PodDisruptionBudget' "$work/kinesis-no-pdb.yaml" && fail "pdb.enabled=false still rendered a PodDisruptionBudget"
refused() { # refused REASON [helm args...]: the rendering fails and names REASON
  local reason=$1 out; shift
  if out=$(render "$@" 2>&1); then fail "rendered, but should be refused ($reason): $*"; fi
  echo "$out" | grep -q "$reason" || fail "refused without naming the reason ($reason): $out"
}
refused 'is not a kinesis_stream source' --set replicaCount=3
refused 'choose one' -f deploy/helm/kinesis-values.yaml --set shards=2
refused 'not both' -f deploy/helm/kinesis-values.yaml --set pdb.minAvailable=2
refused 'only one pod can use' -f deploy/helm/kinesis-values.yaml --set persistence.existingClaim=flowd-checkpoint
# The dashboards ConfigMap carries the sidecar's label and every shipped dashboard.
grep -q 'grafana_dashboard: "1"' "$work/dashboards.yaml" || fail "dashboards ConfigMap lacks grafana_dashboard: \"1\""
for d in deploy/grafana/dashboards/*.json; do
  grep -q "^  $(basename "$d"): |-" "$work/dashboards.yaml" || fail "dashboards ConfigMap lacks $(basename "$d")"
done
# Alert changes through values: a new threshold and for, a label, a dropped alert; a typo fails.
cat > "$work/alert-changes.yaml" <<'VALUES'
prometheusRule:
  enabled: true
  alerts:
    FlowdIngestLagHigh:
      expr: max by (job, log_group) (flowd_ingest_lag_seconds{job="flowd"}) > 1800
      for: 20m
    FlowdSSHRDPRejectStorm:
      labels: {severity: critical}
    FlowdSkipData:
      enabled: false
VALUES
render -f "$work/alert-changes.yaml" --show-only templates/prometheusrule.yaml > "$work/rules-changed.yaml"
# The lines of one alert rule (toYaml writes alert, annotations, expr, for, labels in order).
rule_block() { awk -v name="$1" '/^ *- (alert|record): / { on = ($0 ~ "- alert: " name "$") } on' "$2"; }
rule_block FlowdIngestLagHigh "$work/rules-changed.yaml" | grep -q '> 1800' || fail "FlowdIngestLagHigh: expr not replaced"
rule_block FlowdIngestLagHigh "$work/rules-changed.yaml" | grep -q 'for: 20m' || fail "FlowdIngestLagHigh: for not replaced"
rule_block FlowdSSHRDPRejectStorm "$work/rules-changed.yaml" | grep -q 'severity: critical' || fail "FlowdSSHRDPRejectStorm: label not replaced"
rule_block FlowdSSHRDPRejectStorm "$work/rules-changed.yaml" | grep -q 'category: traffic' || fail "FlowdSSHRDPRejectStorm: its other labels were lost"
grep -q 'alert: FlowdSkipData' "$work/rules-changed.yaml" && fail "FlowdSkipData: enabled=false did not drop it"
grep -q 'alert: FlowdDown' "$work/rules-changed.yaml" || fail "an unchanged alert went missing"
if render --set prometheusRule.enabled=true --set prometheusRule.alerts.FlowdTypo.for=5m >/dev/null 2>&1; then
  fail "an unknown alert name in prometheusRule.alerts was accepted"
fi

# ---- Terraform -----------------------------------------------------------------------------
# terraform fmt -check, init, validate and terraform test (a mocked provider: no credentials, no
# AWS calls) on a copy of the module, where a terraform binary and a local provider mirror are
# on the machine: this machine reaches no Terraform registry, so init may only install from a
# filesystem mirror. Without them the steps are skipped, and say so; `go test ./deploy/` still
# parses every file with HCL and checks its layout.
step "terraform"
tf_mirror=${FLOWD_TF_PROVIDER_MIRROR:-/opt/tf-plugins}
if ! command -v terraform >/dev/null; then
  echo "SKIPPED terraform fmt/init/validate/test: no terraform binary on PATH (install terraform and a provider mirror to run them)"
elif [ ! -d "$tf_mirror/registry.terraform.io/hashicorp/aws" ]; then
  echo "SKIPPED terraform fmt/init/validate/test: no provider mirror with hashicorp/aws at $tf_mirror (set FLOWD_TF_PROVIDER_MIRROR)"
else
  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n' \
    "$tf_mirror" > "$work/terraform.tfrc"
  tf() { TF_CLI_CONFIG_FILE="$work/terraform.tfrc" TF_IN_AUTOMATION=1 TF_INPUT=0 terraform "$@"; }
  echo "$(tf version | head -1); hashicorp/aws from $tf_mirror: $(ls "$tf_mirror/registry.terraform.io/hashicorp/aws" | tr '\n' ' ')"
  tf fmt -check -recursive deploy/terraform
  # A copy, so that .terraform and the lock file stay out of the repository.
  cp -r deploy/terraform "$work/terraform"
  (cd "$work/terraform" && tf init -backend=false -no-color >/dev/null && tf validate -no-color && tf test -no-color)
  (cd "$work/terraform/examples/eks" && tf init -backend=false -no-color >/dev/null && tf validate -no-color)
fi

# ---- image ---------------------------------------------------------------------------------
step "image: build stage"
B=(buildah --storage-driver vfs)
version="ci-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# The build context exactly as `docker build .` would send it: the repository filtered by
# .dockerignore, copied by buildah into an image and mounted.
printf 'FROM scratch\nCOPY . /src\n' > "$work/context.Containerfile"
"${B[@]}" bud --quiet --isolation chroot -f "$work/context.Containerfile" --ignorefile .dockerignore -t flowd-context:ci . >/dev/null
buildah_objs+=(flowd-context:ci)
ctx_ctr=$("${B[@]}" from flowd-context:ci)
buildah_objs=("$ctx_ctr" "${buildah_objs[@]}")
ctx=$("${B[@]}" mount "$ctx_ctr")/src
# The build stage's `go build` RUN instruction, continuation lines joined, with /out moved
# into the work directory.
build_run=$(awk '
  /^FROM / { stage++ }
  stage == 1 && /^RUN .*go build/ { on = 1 }
  on { line = line $0 "\n"; if ($0 !~ /\\$/) { on = 0 } }
  END { printf "%s", line }' Dockerfile | sed -e 's/^RUN //' -e "s#/out/#$work/out/#g")
[ -n "$build_run" ] || { echo "no RUN ... go build in the Dockerfile's build stage" >&2; exit 1; }
(cd "$ctx" && CGO_ENABLED=0 VERSION="$version" REVISION="$revision" sh -ec "$build_run")

step "image: runtime stage"
# The Dockerfile's last stage (FROM scratch) as written, its COPY --from=build sources taken
# from the local out/ tree built above.
awk '/^FROM /{ last = NR } { lines[NR] = $0 } END { for (i = last; i <= NR; i++) print lines[i] }' Dockerfile |
  sed -e 's#--from=build ##' -e 's# /out/# out/#g' > "$work/Containerfile"
"${B[@]}" bud --quiet --isolation chroot -f "$work/Containerfile" --build-arg VERSION="$version" -t flowd:ci "$work" >/dev/null
buildah_objs+=(flowd:ci)
img_user=$("${B[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' flowd:ci)
img_entry=$("${B[@]}" inspect --type image --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}} {{.OCIv1.Config.ExposedPorts}} {{.OCIv1.Config.Volumes}}' flowd:ci)
echo "image flowd:ci user=$img_user config: $img_entry"
[ "$img_user" = 65532:65532 ] || { echo "image user $img_user, want 65532:65532" >&2; exit 1; }
case "$img_entry" in
  "[/usr/local/bin/flowd] [run --config.file=/etc/flowd/flowd.yaml] map[9820/tcp:{}] map[/var/lib/flowd:{}]") ;;
  *) echo "unexpected image entrypoint/cmd/ports/volumes: $img_entry" >&2; exit 1 ;;
esac

step "image: run the image's flowd demo"
run_ctr=$("${B[@]}" from flowd:ci)
buildah_objs=("$run_ctr" "${buildah_objs[@]}")
rootfs=$("${B[@]}" mount "$run_ctr")
for f in usr/local/bin/flowd etc/ssl/certs/ca-certificates.crt etc/flowd/flowd.yaml; do
  [ -f "$rootfs/$f" ] || { echo "image lacks /$f" >&2; exit 1; }
done
[ "$(stat -c %u:%g "$rootfs/var/lib/flowd")" = 65532:65532 ] || { echo "/var/lib/flowd is not owned by 65532" >&2; exit 1; }
if readelf -l "$rootfs/usr/local/bin/flowd" 2>/dev/null | grep -q "program interpreter"; then
  echo "the image's flowd is dynamically linked" >&2; exit 1
fi
# In the image's root file system, as the image's user, with nothing from the host.
chroot_bin=$(command -v chroot)
in_image() { env -i HOME=/ "$chroot_bin" --userspec=65532:65532 "$rootfs" /usr/local/bin/flowd "$@"; }
in_image version
in_image check-config --config.file=/etc/flowd/flowd.yaml >/dev/null
port=19820
# exec all the way down (subshell, env, chroot) so $! is flowd itself and kill stops it.
(exec env -i HOME=/ "$chroot_bin" --userspec=65532:65532 "$rootfs" /usr/local/bin/flowd \
  demo --web.listen-address="127.0.0.1:$port" --demo.emulator-address=127.0.0.1:0 > "$work/demo.log" 2>&1) &
demo_pid=$!
metrics=""
for _ in $(seq 1 120); do
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    echo "flowd demo exited early:" >&2; cat "$work/demo.log" >&2; exit 1
  fi
  if metrics=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) &&
    echo "$metrics" | grep -Eq '^flowd_records_total\{[^}]*status="ok"[^}]*\} [1-9]'; then
    break
  fi
  metrics=""
  sleep 1
done
if [ -z "$metrics" ]; then
  echo "no flowd_records_total{status=\"ok\"} > 0 on /metrics within 120s; demo log:" >&2
  tail -40 "$work/demo.log" >&2; exit 1
fi
echo "$metrics" | grep -E '^flowd_(records_total|build_info)' | head -8
if ! echo "$metrics" | grep -E '^flowd_build_info\{' | grep -q "version=\"$version\""; then
  echo "flowd_build_info does not carry the version set with -ldflags ($version)" >&2; exit 1
fi
curl -fsS "http://127.0.0.1:$port/-/healthy" >/dev/null
kill "$demo_pid"; wait "$demo_pid" 2>/dev/null || true; demo_pid=""

# ---- release ---------------------------------------------------------------------------------
# What `make release` builds, without publishing: both static binaries, the two-architecture
# image archive, the chart package and their checksums.
step "release (built, not published)"
DIST="$work/dist" VERSION="$version" REVISION="$revision" HELM="$gobin/helm" bash scripts/release.sh
tag=${version#v}
for f in "flowd-$tag-linux-amd64.tar.gz" "flowd-$tag-linux-arm64.tar.gz" "flowd-$tag-image.oci.tar" \
  "flowd-$(sed -n 's/^version: //p' deploy/helm/flowd/Chart.yaml).tgz" SHA256SUMS; do
  [ -s "$work/dist/$f" ] || { echo "the release lacks $f" >&2; exit 1; }
done
(cd "$work/dist" && sha256sum -c --quiet SHA256SUMS)
tar -xzf "$work/dist/flowd-$tag-linux-arm64.tar.gz" -C "$work" "flowd-$tag-linux-arm64/flowd"
readelf -h "$work/flowd-$tag-linux-arm64/flowd" | grep -q AArch64 || { echo "the arm64 binary is not an AArch64 executable" >&2; exit 1; }
platforms=$(tar -xOf "$work/dist/flowd-$tag-image.oci.tar" index.json | grep -o '"digest":"sha256:[0-9a-f]*"' | head -1 | cut -d: -f3 | tr -d '"')
platforms=$(tar -xOf "$work/dist/flowd-$tag-image.oci.tar" "blobs/sha256/$platforms" | grep -o '"architecture":"[a-z0-9]*"' | sort | tr '\n' ' ')
[ "$platforms" = '"architecture":"amd64" "architecture":"arm64" ' ] || { echo "image archive platforms: $platforms, want amd64 and arm64" >&2; exit 1; }

echo "packaging checks passed"
