# Shared by the tools/k8s scripts: paths, logging, and the install-once pattern of tools/stack
# (write to a temporary name, rename into place last, so an interrupted install is redone).
# shellcheck shell=bash
set -euo pipefail
K8S_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$K8S_TOOLS/../.." && pwd)"
# shellcheck source=versions.sh
source "$K8S_TOOLS/versions.sh"

CACHE_DIR="${TERN_CACHE_DIR:-$HOME/.cache/tern}"
# Installed programs and image tarballs: shared by every clone, kept across `down`.
K8S_CACHE="$CACHE_DIR/k8s"
K8S_BIN="$K8S_CACHE/bin"
K8S_LOGS="$CACHE_DIR/logs"
# The running cluster's state (containerd, etcd, kubelet, certs, logs, pids). One cluster per
# machine: its ports are fixed (docs/deploy.md "Local cluster (tools/k8s)").
K8S_STATE="${TERN_K8S_STATE_DIR:-$K8S_CACHE/cluster}"
K8S_RUN="$K8S_STATE/run"
K8S_LOG="$K8S_STATE/logs"
KUBECONFIG_FILE="$K8S_STATE/kubeconfig"
CLUSTER_NAME=tern
mkdir -p "$K8S_BIN" "$K8S_LOGS"

say() { printf 'k8s: %s\n' "$*" >&2; }
die() { printf 'k8s: error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch, for the "installed … in N s" lines that docs/deploy.md quotes.
now() { date +%s; }

# install_once <dir> <label> <function> [args…]: runs <function> <tmpdir> [args…] unless <dir>
# exists; the function fills <tmpdir>, which is renamed to <dir> only when it succeeded. Its output
# goes to $K8S_LOGS/install-<label>.log.
install_once() {
  local dir=$1 label=$2 fn=$3
  shift 3
  [ -d "$dir" ] && return 0
  local tmp="$dir.tmp-$$" log="$K8S_LOGS/install-$label.log" t0
  t0=$(now)
  say "installing $label (first time only; log: $log)"
  rm -rf "$tmp" && mkdir -p "$tmp"
  # In the background so that `set -e` applies inside the function (it does not in an `if`).
  "$fn" "$tmp" "$@" >"$log" 2>&1 &
  if ! wait $!; then
    tail -n 30 "$log" >&2
    rm -rf "$tmp"
    die "installing $label failed; full log: $log"
  fi
  mv "$tmp" "$dir"
  say "installed $label in $(($(now) - t0)) s"
}

# Go builds share one build cache; limit parallelism on small machines (GOMAXPROCS untouched).
go_env() {
  export CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath" GOWORK=off
}

kube_bin() { echo "$K8S_BIN/kubernetes@$KUBE_VERSION/$1"; }
kubectl_() { "$(kube_bin kubectl)" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# Podman with its own configuration (never /etc/containers): runc (crun fails on these hybrid
# cgroups), cgroupfs, and default ulimits low enough for a root without CAP_SYS_RESOURCE.
PODMAN_CONF="$K8S_STATE/podman"
podman_() {
  mkdir -p "$PODMAN_CONF"
  if [ ! -f "$PODMAN_CONF/containers.conf" ]; then
    cat >"$PODMAN_CONF/containers.conf" <<'CONF'
# Written by tools/k8s/lib.sh.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=8192:8192"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  fi
  CONTAINERS_CONF="$PODMAN_CONF/containers.conf" podman "$@"
}

# Image names of the local cluster (loaded into containerd, never pushed anywhere).
IMG_BASE="tern.local/debian:$DEBIAN_SUITE"
IMG_NODE="tern.local/node:$NODE_VERSION"
IMG_NODE_BUILD="tern.local/node-build:$NODE_VERSION"
IMG_PAUSE="tern.local/pause:$PAUSE_VERSION"
IMG_COREDNS="tern.local/coredns:$COREDNS_VERSION"
CONTAINERD_SOCK=/run/tern-k8s/containerd/containerd.sock
ctr_() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
