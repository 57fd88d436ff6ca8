#!/usr/bin/env bash
# System packages the tests need, from Debian's archive, installed only when missing:
# awscli (cross-check of the emulator), prometheus + promtool and alertmanager (rules and the
# end-to-end test), buildah (image build check), chromium (the live view's browser test in
# internal/web, which fails under CI=true when chromium is missing).
set -euo pipefail
need=()
command -v aws >/dev/null || need+=(awscli)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian packages ship services; the tests start their own processes, never the system ones.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done
go mod download
