#!/usr/bin/env bash
# Entry point of the local Kubernetes cluster (docs/deploy.md "Local cluster (tools/k8s)"):
#   run.sh up      install what is missing (cached), build and load the images, start the cluster,
#                  helm install tern-infra and the three DC releases; idempotent
#   run.sh down    stop the cluster's processes and pods (state and caches kept)
#   run.sh test    up, then the smoke scenario from outside the cluster (smoke.ts); it ends with a
#                  rollout of tern-dc3 and tern-dc1 uninstalled, which the next `up` puts back
#   run.sh status  what runs, and the pods
#   run.sh kubectl …   kubectl against the cluster (or: export KUBECONFIG=$(run.sh kubeconfig))
# Runs beside the local stack (tools/stack) without touching its ports or .stack/.
source "$(dirname "$0")/lib.sh"

step() {
  local label=$1 t0
  shift
  t0=$(now)
  "$@"
  say "step $label: $(($(now) - t0)) s"
}

up() {
  local t0
  t0=$(now)
  [ "$(id -u)" = 0 ] || die "the local cluster runs containerd and the kubelet: run as root"
  bash "$REPO_ROOT/tools/node-deps.sh" >&2
  step install bash "$K8S_TOOLS/install.sh"
  step images bash "$K8S_TOOLS/images.sh"
  step cluster bash "$K8S_TOOLS/cluster.sh" start
  step load bash "$K8S_TOOLS/images.sh" load
  step deploy bash "$K8S_TOOLS/deploy.sh"
  say "up in $(($(now) - t0)) s; KUBECONFIG=$KUBECONFIG_FILE"
  say "gateways: DC n at 10.243.0.1n:443 (TCP) / :8443 (WebSocket), or NodePorts 31n43 / 31n84 on 127.0.0.1"
}

case "${1:-}" in
  up) up ;;
  down) bash "$K8S_TOOLS/cluster.sh" stop ;;
  test)
    up
    (cd "$REPO_ROOT" && TERN_K8S_KUBECTL="$(kube_bin kubectl)" node_modules/.bin/tsx tools/k8s/smoke.ts)
    ;;
  status)
    bash "$K8S_TOOLS/cluster.sh" status
    kubectl_ get pods -A -o wide 2>/dev/null || true
    ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  kubectl)
    shift
    kubectl_ "$@"
    ;;
  *) die "usage: run.sh up|down|test|status|kubeconfig|kubectl …" ;;
esac
