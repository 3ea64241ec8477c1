#!/usr/bin/env bash
# Starts and stops the one-node cluster: containerd, the control plane (kwokctl with local
# binaries: etcd, kube-apiserver, kube-controller-manager, kube-scheduler), the kubelet, kube-proxy
# (iptables) and CoreDNS. `cluster.sh start|stop|status`. Every process it starts has a pid file in
# $K8S_RUN; `stop` ends only those, and the pods' containers through containerd.
source "$(dirname "$0")/lib.sh"

# kwokctl's own settings (it has no flags for these): where it keeps the cluster, which kubectl it
# runs, and the versions it shapes the components' flags for (Debian's etcd is 3.4).
export KWOK_WORKDIR="$K8S_STATE/kwok"
export KWOK_KUBECTL_BINARY="$K8S_BIN/kubernetes@$KUBE_VERSION/kubectl"
export KWOK_KUBE_VERSION="$KUBE_VERSION"
KWOK_ETCD_VERSION=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')
export KWOK_ETCD_VERSION
KWOK_PKI="$KWOK_WORKDIR/clusters/$CLUSTER_NAME/pki"
KWOKCTL="$K8S_BIN/kwok@$KWOK_VERSION/kwokctl"
CNI_DIR="$K8S_STATE/cni"
mkdir -p "$K8S_RUN" "$K8S_LOG"

# write_if_changed <file>: stdin to <file>, unless <file> already holds exactly that.
write_if_changed() {
  local tmp="$1.tmp-$$"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

running() { [ -f "$K8S_RUN/$1.pid" ] && kill -0 "$(cat "$K8S_RUN/$1.pid")" 2>/dev/null; }

# start_bg <name> <command…>: a detached process, output in $K8S_LOG/<name>.log.
start_bg() {
  local name=$1
  shift
  running "$name" && return 0
  setsid "$@" >>"$K8S_LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$K8S_RUN/$name.pid"
}

stop_pid() {
  local name=$1 grace=${2:-20} pid i
  [ -f "$K8S_RUN/$name.pid" ] || return 0
  pid=$(cat "$K8S_RUN/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$K8S_RUN/$name.pid"
}

wait_for() {
  local what=$1 timeout=$2 i
  shift 2
  for ((i = 0; i < timeout; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "$what not ready after $timeout s (logs: $K8S_LOG)"
}

start_containerd() {
  mkdir -p "$K8S_STATE/containerd" "$CNI_DIR" /run/tern-k8s/containerd
  cat >"$K8S_STATE/containerd/config.toml" <<TOML
# Written by tools/k8s/cluster.sh.
version = 2
root = "$K8S_STATE/containerd/root"
state = "/run/tern-k8s/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMG_PAUSE"
  # root here cannot lower oom_score_adj below its own; let pods keep theirs at or above it.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CNI_DIR"
TOML
  cat >"$CNI_DIR/10-tern.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "tern-k8s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$K8S_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$K8S_POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$K8S_STATE/cni-ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  # The pods' bridge, made here rather than by the CNI plugin on the first pod: its address is the
  # node's (the kubelet refuses a loopback node IP, and eth0 would expose the kubelet's port).
  if ! ip link show "$K8S_BRIDGE" >/dev/null 2>&1; then
    ip link add "$K8S_BRIDGE" type bridge
  fi
  ip addr show dev "$K8S_BRIDGE" | grep -F " $K8S_NODE_IP/" >/dev/null || ip addr add "$K8S_NODE_IP/${K8S_POD_CIDR#*/}" dev "$K8S_BRIDGE"
  # The DCs' gateway addresses (their Services' externalIPs) are this machine's own, so that
  # clients here reach them: kube-proxy rewrites connections to them on the way out.
  local dc
  for dc in 1 2 3; do
    ip addr show dev "$K8S_BRIDGE" | grep -F " $(k8s_gateway_ip $dc)/" >/dev/null || ip addr add "$(k8s_gateway_ip $dc)/32" dev "$K8S_BRIDGE"
  done
  ip link set "$K8S_BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null || true
  start_bg containerd containerd --config "$K8S_STATE/containerd/config.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
}

start_control_plane() {
  if "$KWOKCTL" get clusters 2>/dev/null | grep -x "$CLUSTER_NAME" >/dev/null; then
    "$KWOKCTL" start cluster --name "$CLUSTER_NAME" >>"$K8S_LOG/kwokctl.log" 2>&1 || true
  else
    # The apiserver's certificate must also name the kubernetes Service's IP: pods (CoreDNS) reach
    # the apiserver there. kwokctl takes extra names only from a configuration file.
    cat >"$K8S_STATE/kwokctl.yaml" <<YAML
# Written by tools/k8s/cluster.sh.
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  kubeApiserverCertSANs: [${K8S_SERVICE_CIDR%.*/*}.1]
YAML
    "$KWOKCTL" create cluster --config "$K8S_STATE/kwokctl.yaml" --name "$CLUSTER_NAME" --runtime binary \
      --kube-apiserver-port "$K8S_APISERVER_PORT" \
      --kube-apiserver-binary "$(kube_bin kube-apiserver)" \
      --kube-controller-manager-binary "$(kube_bin kube-controller-manager)" \
      --kube-scheduler-binary "$(kube_bin kube-scheduler)" \
      --kwok-controller-binary "$K8S_BIN/kwok@$KWOK_VERSION/kwok" \
      --etcd-binary "$(command -v etcd)" \
      --disable kwok-controller \
      --kube-authorization --kube-admission \
      --extra-args "kube-apiserver=service-cluster-ip-range=$K8S_SERVICE_CIDR" \
      --extra-args "kube-apiserver=service-node-port-range=$K8S_NODEPORT_RANGE" \
      --extra-args "kube-controller-manager=service-cluster-ip-range=$K8S_SERVICE_CIDR" \
      --extra-args "kube-apiserver=kubelet-client-certificate=$KWOK_PKI/admin.crt" \
      --extra-args "kube-apiserver=kubelet-client-key=$KWOK_PKI/admin.key" \
      --extra-args "kube-apiserver=kubelet-preferred-address-types=InternalIP" \
      --kubeconfig "$K8S_STATE/kwok-kubeconfig" \
      --wait 60s >>"$K8S_LOG/kwokctl.log" 2>&1 || { tail -n 30 "$K8S_LOG/kwokctl.log" >&2; die "kwokctl create cluster failed"; }
  fi
  "$KWOKCTL" get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_FILE.tmp" 2>>"$K8S_LOG/kwokctl.log"
  mv "$KUBECONFIG_FILE.tmp" "$KUBECONFIG_FILE"
  wait_for kube-apiserver 60 kubectl_ get --raw /readyz
}

start_kubelet() {
  mkdir -p "$K8S_STATE/kubelet"
  cat >"$K8S_STATE/kubelet/config.yaml" <<YAML
# Written by tools/k8s/cluster.sh.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The machine has cgroup v1 (hybrid) and no systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $K8S_NODE_IP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
# Callers (the apiserver: logs, exec, port-forward) present a certificate of the cluster's CA
# and are authorized by the apiserver, as in kubeadm clusters.
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $KWOK_PKI/ca.crt }
authorization: { mode: Webhook }
clusterDNS: [$K8S_DNS_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# Images cannot be pulled again (no registry): never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2% }
serializeImagePulls: false
maxPods: 110
YAML
  start_bg kubelet "$(kube_bin kubelet)" --config "$K8S_STATE/kubelet/config.yaml" \
    --kubeconfig "$KUBECONFIG_FILE" --root-dir "$K8S_STATE/kubelet/root" \
    --hostname-override "$K8S_NODE_NAME" --node-ip "$K8S_NODE_IP" --v 1
  wait_for "node $K8S_NODE_NAME" 90 kubectl_ wait --for=condition=Ready "node/$K8S_NODE_NAME" --timeout=1s
}

start_kube_proxy() {
  mkdir -p "$K8S_STATE/kube-proxy"
  # Written only when it changed: kube-proxy exits when its configuration file is written to.
  write_if_changed "$K8S_STATE/kube-proxy/config.yaml" <<YAML
# Written by tools/k8s/cluster.sh.
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $KUBECONFIG_FILE }
hostnameOverride: $K8S_NODE_NAME
mode: iptables
clusterCIDR: $K8S_POD_CIDR
# NodePorts answer on loopback only (127.0.0.1, .2, .3 …: where clients of the local DCs dial).
nodePortAddresses: [127.0.0.0/8]
iptables: { localhostNodePorts: true, masqueradeAll: false }
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the machine's conntrack sysctls alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
  start_bg kube-proxy "$(kube_bin kube-proxy)" --config "$K8S_STATE/kube-proxy/config.yaml"
  wait_for kube-proxy 30 curl -fsS http://127.0.0.1:10256/healthz
}

start_coredns() {
  sed -e "s#__COREDNS_IMAGE__#$IMG_COREDNS#" -e "s#__CLUSTER_DNS_IP__#$K8S_DNS_IP#" "$K8S_TOOLS/manifests/coredns.yaml" |
    kubectl_ apply -f - >>"$K8S_LOG/coredns-apply.log"
  kubectl_ -n kube-system rollout status deployment/coredns --timeout=120s >&2
}

# Storage: the dev infrastructure's StatefulSets claim volumes; this cluster has no provisioner,
# so each claim gets a pre-bound hostPath volume under $K8S_STATE/volumes (kept across down/up).
make_volumes() {
  local claim
  for claim in data-nats-0 data-cassandra-0 data-minio-0; do
    mkdir -p "$K8S_STATE/volumes/tern-infra-$claim"
    cat <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: { name: tern-infra-$claim, labels: { tern.dev/local-cluster: "true" } }
spec:
  capacity: { storage: 20Gi }
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  claimRef: { namespace: tern-infra, name: $claim }
  hostPath: { path: $K8S_STATE/volumes/tern-infra-$claim, type: Directory }
---
YAML
  done | kubectl_ apply -f - >>"$K8S_LOG/volumes-apply.log"
}

start() {
  local t0
  t0=$(now)
  start_containerd
  bash "$K8S_TOOLS/images.sh" load pause coredns
  start_control_plane
  start_kubelet
  start_kube_proxy
  start_coredns
  make_volumes
  say "cluster up in $(($(now) - t0)) s (KUBECONFIG=$KUBECONFIG_FILE)"
}

stop() {
  stop_pid kube-proxy
  # Its iptables rules (ClusterIPs, NodePorts, the gateways' addresses) go with it.
  [ -x "$(kube_bin kube-proxy)" ] && "$(kube_bin kube-proxy)" --cleanup >>"$K8S_LOG/kube-proxy.log" 2>&1 || true
  stop_pid kubelet
  # The pods' containers: stopped through containerd, so no shim outlives the cluster.
  if running containerd; then
    local task
    for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGTERM "$task" >/dev/null 2>&1 || true; done
    sleep 3
    for task in $(ctr_ tasks ls -q 2>/dev/null); do
      ctr_ tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
      ctr_ tasks delete -f "$task" >/dev/null 2>&1 || true
    done
  fi
  stop_pid containerd
  ip link del "$K8S_BRIDGE" 2>/dev/null || true
  if [ -x "$KWOKCTL" ] && "$KWOKCTL" get clusters 2>/dev/null | grep -x "$CLUSTER_NAME" >/dev/null; then
    "$KWOKCTL" stop cluster --name "$CLUSTER_NAME" >>"$K8S_LOG/kwokctl.log" 2>&1 || true
  fi
  say "cluster stopped (state kept in $K8S_STATE)"
}

status() {
  local p
  for p in containerd kubelet kube-proxy; do
    if running "$p"; then echo "$p: running (pid $(cat "$K8S_RUN/$p.pid"))"; else echo "$p: stopped"; fi
  done
  kubectl_ get --raw /readyz >/dev/null 2>&1 && echo "apiserver: ready" || echo "apiserver: down"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  # One step alone, for debugging: cluster.sh start_containerd, start_kubelet, …
  start_* | make_volumes) "$1" ;;
  *) die "usage: cluster.sh start|stop|status" ;;
esac
