#!/usr/bin/env bash
# Builds the upstream control-plane binaries that `kaito up` and the integration tests run
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) from the Go module proxy
# at pinned versions, and caches them outside the git tree so every clone on this machine reuses
# them. Binaries named by KAITO_<NAME>_BIN (e.g. KAITO_KUBE_APISERVER_BIN) are used instead.
# It also builds Karpenter's kwok provider (sigs.k8s.io/karpenter/kwok) and copies the module's
# CRDs (NodePool, NodeClaim, NodeOverlay, KWOKNodeClass) beside it, in a directory of its own so
# that a Karpenter upgrade does not rebuild Kubernetes (KAITO_KARPENTER_BIN overrides the binary).
#
#   scripts/control-plane-binaries.sh                   build what is missing, print the bin directory
#   scripts/control-plane-binaries.sh --print           only print the bin directory
#   scripts/control-plane-binaries.sh --karpenter       build only Karpenter (and its CRDs) if missing,
#                                                       print its directory
#   scripts/control-plane-binaries.sh --print-karpenter only print Karpenter's directory
set -euo pipefail

KUBERNETES_VERSION=v1.37.2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0
# v1.13.0 is the newest Karpenter whose go.mod the machine's Go 1.26 satisfies; v1.14 and later
# need GOTOOLCHAIN=go1.27.3.
KARPENTER_VERSION=v1.13.0

cache_root="${KAITO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaito-ts}"
bin_dir="$cache_root/bin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"

karpenter_dir="$cache_root/bin/karpenter-$KARPENTER_VERSION"

if [[ "${1:-}" == "--print" ]]; then echo "$bin_dir"; exit 0; fi
if [[ "${1:-}" == "--print-karpenter" ]]; then echo "$karpenter_dir"; exit 0; fi

log() { echo "control-plane: $*" >&2; }

have_karpenter() {
  [[ -n "${KAITO_KARPENTER_BIN:-}" && -x "${KAITO_KARPENTER_BIN}" || -x "$karpenter_dir/karpenter" ]] &&
    [[ -f "$karpenter_dir/crds/karpenter.sh_nodeclaims.yaml" ]]
}

# build_karpenter: the kwok provider's binary and the CRDs of the same module version, so the
# API that Karpenter serves and the one installed always match.
build_karpenter() {
  local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/kaito-karpenter-build.XXXXXX")"
  local started; started=$(date +%s)
  mkdir -p "$karpenter_dir/crds"
  printf 'module kaito.local/karpenter\ngo 1.26.0\n' > "$dir/go.mod"
  log "resolving sigs.k8s.io/karpenter $KARPENTER_VERSION"
  (cd "$dir" && GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=mod" go get "sigs.k8s.io/karpenter@$KARPENTER_VERSION" >&2)
  local src; src="$(cd "$dir" && GOTOOLCHAIN=local go list -m -f '{{.Dir}}' sigs.k8s.io/karpenter)"
  cp "$src"/kwok/charts/crds/*.yaml "$src"/kwok/apis/crds/*.yaml "$karpenter_dir/crds/"
  chmod u+w "$karpenter_dir"/crds/*.yaml
  if [[ -z "${KAITO_KARPENTER_BIN:-}" || ! -x "${KAITO_KARPENTER_BIN}" ]]; then
    log "compiling sigs.k8s.io/karpenter/kwok (about 2 minutes and 1 GB on 2 cores)"
    (cd "$dir" && GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0 \
      go build -trimpath -ldflags "-s -w" -o "$dir/karpenter" sigs.k8s.io/karpenter/kwok >&2)
    mv "$dir/karpenter" "$karpenter_dir/karpenter"
  fi
  rm -rf "$dir"
  log "built Karpenter $KARPENTER_VERSION (kwok provider) in $(( $(date +%s) - started ))s into $karpenter_dir"
}

if [[ "${1:-}" == "--karpenter" ]]; then
  have_karpenter || build_karpenter
  echo "$karpenter_dir"
  exit 0
fi

have() { # have NAME: true when NAME is overridden by its env var or already cached
  local var="KAITO_$(echo "$1" | tr 'a-z-' 'A-Z_')_BIN"
  [[ -n "${!var:-}" && -x "${!var}" ]] && return 0
  [[ -x "$bin_dir/$1" ]]
}

if ! have_karpenter && command -v go >/dev/null 2>&1; then build_karpenter; fi

missing=()
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  have "$b" || missing+=("$b")
done
if [[ ${#missing[@]} -eq 0 ]]; then echo "$bin_dir"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "control-plane: the Go toolchain is not on PATH; install Go >= 1.26 or point KAITO_<NAME>_BIN at prebuilt binaries for: ${missing[*]}." >&2
  exit 1
fi

export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0
mkdir -p "$bin_dir"
work="$(mktemp -d "${TMPDIR:-/tmp}/kaito-cp-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

needs() { local b; for b in "$@"; do [[ " ${missing[*]} " == *" $b "* ]] && return 0; done; return 1; }

build_kubernetes() {
  local dir="$work/kubernetes" minor="${KUBERNETES_VERSION#v1.}"
  local staging_version="v0.${minor}"
  mkdir -p "$dir"
  log "resolving k8s.io/kubernetes $KUBERNETES_VERSION and its staging modules at $staging_version"
  # k8s.io/kubernetes points its staging modules at local paths, which a consumer does not
  # inherit, so every one of them is required and replaced at the matching v0.N.M.
  local mod; mod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module kaito.local/controlplane"
    echo "go 1.26.0"
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo "replace ("
    sed -n '/^replace (/,/^)/p' "$mod" | awk '/=> \.\/staging/ {print $1}' | while read -r m; do
      case "$m" in k8s.io/sample-cli-plugin|k8s.io/sample-controller) continue ;; esac
      echo "  $m => $m $staging_version"
    done
    echo ")"
  } > "$dir/go.mod"
  local pkgs=()
  for b in kube-apiserver kube-controller-manager kube-scheduler; do needs "$b" && pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$dir" && go get "${pkgs[@]}" >&2)
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "compiling ${pkgs[*]} (the cold build takes a while on 2 cores)"
  (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$dir/out/" "${pkgs[@]}" >&2)
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    needs "$b" && mv "$dir/out/$b" "$bin_dir/$b"
  done
  return 0
}

build_simple() { # build_simple NAME MODULE VERSION PACKAGE
  local name="$1" module="$2" version="$3" pkg="$4" dir="$work/$1"
  mkdir -p "$dir"
  printf 'module kaito.local/%s\ngo 1.26.0\n' "$name" > "$dir/go.mod"
  log "resolving $module $version"
  (cd "$dir" && go get "$module@$version" >&2)
  log "compiling $pkg"
  (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$dir/$name" "$pkg" >&2)
  mv "$dir/$name" "$bin_dir/$name"
}

needs etcd && build_simple etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
needs kwok && build_simple kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
needs kube-apiserver kube-controller-manager kube-scheduler && build_kubernetes

log "built ${missing[*]} in $(( $(date +%s) - started ))s into $bin_dir"
echo "$bin_dir"
