#!/usr/bin/env bash
# Builds the real helm (helm.sh/helm/v4/cmd/helm) from the Go module proxy at a pinned version and
# caches it beside the control-plane binaries, so `helm lint`, `helm template` and `helm install`
# of charts/kaito-ts run against the tool operators use. KAITO_HELM_BIN names a prebuilt one.
# scripts/control-plane-binaries.sh calls it, so CI (.ci/run) builds it with the rest.
#
#   scripts/helm-binary.sh          build helm if missing, print the binary's path
#   scripts/helm-binary.sh --print  only print the path (it may not exist yet)
#
# Measured on the 2-core machine (shared with other builds): a cold build, modules downloaded
# included, took 6 min 43 s; later runs find the cached binary and return at once.
set -euo pipefail

# v4.3.2 builds with Go 1.26 (its go.mod says go 1.26.0) against client-go v0.37.2, the local
# cluster's Kubernetes release.
HELM_VERSION=v4.3.2

cache_root="${KAITO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaito-ts}"
helm_dir="$cache_root/bin/helm-$HELM_VERSION"

if [[ -n "${KAITO_HELM_BIN:-}" ]]; then
  if [[ ! -x "$KAITO_HELM_BIN" ]]; then
    echo "helm: KAITO_HELM_BIN=$KAITO_HELM_BIN is not an executable file; unset it or point it at helm $HELM_VERSION." >&2
    exit 1
  fi
  echo "$KAITO_HELM_BIN"
  exit 0
fi
if [[ "${1:-}" == "--print" ]]; then echo "$helm_dir/helm"; exit 0; fi
if [[ -x "$helm_dir/helm" ]]; then echo "$helm_dir/helm"; exit 0; fi

log() { echo "helm: $*" >&2; }
if ! command -v go >/dev/null 2>&1; then
  log "the Go toolchain is not on PATH; install Go >= 1.26 or point KAITO_HELM_BIN at helm $HELM_VERSION."
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/kaito-helm-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0
printf 'module kaito.local/helm\ngo 1.26.0\n' > "$work/go.mod"
log "resolving helm.sh/helm/v4 $HELM_VERSION"
(cd "$work" && go get "helm.sh/helm/v4@$HELM_VERSION" >&2)
log "compiling helm.sh/helm/v4/cmd/helm (a few minutes on 2 cores, once)"
# helm prints its version from these variables; without them `helm version` says v4.x-dev.
ld="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
(cd "$work" && go build -trimpath -ldflags "$ld" -o "$work/helm" helm.sh/helm/v4/cmd/helm >&2)
mkdir -p "$helm_dir"
mv "$work/helm" "$helm_dir/helm"
log "built helm $HELM_VERSION in $(( $(date +%s) - started ))s into $helm_dir"
echo "$helm_dir/helm"
