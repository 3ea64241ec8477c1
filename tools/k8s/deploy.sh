#!/usr/bin/env bash
# Installs Tern into the local cluster as a user would (deploy/README.md): the tern-infra release,
# then one release of deploy/helm/tern per DC in namespaces tern-dc1..3 with values-dcN.yaml and the
# local overlay (values-local.yaml). `helm upgrade --install`, so a second run upgrades in place.
#   deploy.sh [infra] [dc…]        install or upgrade (default: infra 1 2 3)
#   deploy.sh retag <dc>           Tern's image under another tag (containerd only, the same image),
#                                  then `helm upgrade` of that DC onto it: a rollout of every pod
#                                  with nothing else changed (smoke.ts); the next `up` rolls back
#   deploy.sh uninstall <dc>       `helm uninstall` of that DC's release (smoke.ts); `up` reinstalls
source "$(dirname "$0")/lib.sh"

SECRETS="$K8S_STATE/secrets"
HELM=""
helm_() {
  [ -n "$HELM" ] || HELM=$(sed -n 's/^helm=//p' <<<"$("$REPO_ROOT/node_modules/.bin/tsx" "$K8S_TOOLS/stack-tools.ts" helm)")
  "$HELM" --kubeconfig "$KUBECONFIG_FILE" "$@"
}

# The deployment's secrets, made once and kept in the cluster's state directory.
make_secrets() {
  mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
  [ -f "$SECRETS/rsa.pem" ] || (cd "$REPO_ROOT" && node_modules/.bin/tsx tools/keys/rsa.ts "$SECRETS/rsa.pem" >/dev/null 2>&1)
  [ -f "$SECRETS/file-reference.key" ] || node -e "process.stdout.write(require('crypto').randomBytes(32).toString('hex'))" >"$SECRETS/file-reference.key"
  # Mutual TLS between the services: one CA, a certificate per service of each DC
  # (spiffe://tern/dc/<id>/<service>), a directory each; the chart mounts them from Secrets.
  (cd "$REPO_ROOT" && node_modules/.bin/tsx tools/stack/certs.ts "$SECRETS/tls" --dcs 1,2,3 >/dev/null)
  [ -f "$SECRETS/minio.env" ] || node -e "const r = () => require('crypto').randomBytes(18).toString('hex'); console.log('MINIO_USER=tern-' + r().slice(0, 8) + '\nMINIO_PASSWORD=' + r())" >"$SECRETS/minio.env"
  # shellcheck disable=SC1091
  source "$SECRETS/minio.env"
}

apply_secret() { kubectl_ create secret generic "$@" --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null; }

image() { bash "$K8S_TOOLS/images.sh" name "$1"; }

install_infra() {
  local t0
  t0=$(now)
  say "helm install infra (tern-infra): NATS, Cassandra, MinIO, Jaeger"
  helm_ upgrade --install infra "$REPO_ROOT/deploy/helm/tern-infra" -n tern-infra --create-namespace \
    -f "$K8S_TOOLS/values-infra.yaml" \
    --set "nats.image=$(image nats)" --set "cassandra.image=$(image cassandra)" \
    --set "minio.image=$(image minio)" --set "jaeger.image=$(image jaeger)" \
    --set "minio.rootUser=$MINIO_USER" --set "minio.rootPassword=$MINIO_PASSWORD" \
    --wait --timeout 10m >>"$K8S_LOG/helm-infra.log" 2>&1 ||
    { tail -n 20 "$K8S_LOG/helm-infra.log" >&2; kubectl_ -n tern-infra get pods >&2; die "helm install of tern-infra failed"; }
  say "tern-infra ready in $(($(now) - t0)) s"
}

install_dc() {
  local dc=$1 ns="tern-dc$1" t0
  t0=$(now)
  kubectl_ create namespace "$ns" --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null
  apply_secret tern-rsa -n "$ns" --from-file=rsa.pem="$SECRETS/rsa.pem"
  apply_secret tern-file-reference -n "$ns" --from-file=file-reference.key="$SECRETS/file-reference.key"
  apply_secret tern-credentials -n "$ns" --from-literal=minio-access-key="$MINIO_USER" \
    --from-literal=minio-secret-key="$MINIO_PASSWORD"
  local svc
  for svc in gateway auth messaging channel media; do
    apply_secret "tern-tls-$svc" -n "$ns" --from-file=ca.crt="$SECRETS/tls/dc$dc-$svc/ca.crt" \
      --from-file=tls.crt="$SECRETS/tls/dc$dc-$svc/tls.crt" --from-file=tls.key="$SECRETS/tls/dc$dc-$svc/tls.key"
  done
  local tag=${TERN_K8S_TERN_TAG:-}
  if [ -z "$tag" ]; then
    tag=$(image tern)
    tag=${tag##*:}
  fi
  say "helm install $ns (image tern.local/tern:$tag)"
  helm_ upgrade --install "$ns" "$REPO_ROOT/deploy/helm/tern" -n "$ns" \
    -f "$REPO_ROOT/deploy/helm/tern/values-dc$dc.yaml" -f "$K8S_TOOLS/values-local.yaml" \
    --set "image.tag=$tag" \
    --set "services.gateway.exposure.nodePorts.tcp=$(k8s_gateway_tcp_port "$dc")" \
    --set "services.gateway.exposure.nodePorts.ws=$(k8s_gateway_ws_port "$dc")" \
    --set "services.gateway.exposure.externalIPs={$(k8s_gateway_ip "$dc")}" \
    --wait --timeout 10m >>"$K8S_LOG/helm-$ns.log" 2>&1 ||
    { tail -n 20 "$K8S_LOG/helm-$ns.log" >&2; kubectl_ -n "$ns" get pods >&2; die "helm install of $ns failed"; }
  say "$ns ready in $(($(now) - t0)) s"
}

# retag <dc>: the same image under tern.local/tern:<built tag>-rollout-a (or -b, whichever the DC
# does not run now) in the cluster's containerd, where the kubelet finds it (IfNotPresent), and the
# DC's release upgraded onto that tag. Prints the tag.
retag() {
  local dc=$1 src tag running
  src=$(image tern)
  running=$(kubectl_ -n "tern-dc$dc" get deployment gateway -o 'jsonpath={.spec.template.spec.containers[0].image}')
  tag="${src##*:}-rollout-a"
  [ "$running" = "tern.local/tern:$tag" ] && tag="${src##*:}-rollout-b"
  ctr_ images tag --force "$src" "tern.local/tern:$tag" >/dev/null
  say "tagged $src as tern.local/tern:$tag in containerd (was running $running)"
  TERN_K8S_TERN_TAG=$tag install_dc "$dc"
  echo "$tag"
}

uninstall_dc() {
  local dc=$1 ns="tern-dc$1" t0
  t0=$(now)
  say "helm uninstall $ns"
  helm_ uninstall "$ns" -n "$ns" --wait --timeout 5m >>"$K8S_LOG/helm-$ns.log" 2>&1 ||
    { tail -n 20 "$K8S_LOG/helm-$ns.log" >&2; die "helm uninstall of $ns failed"; }
  # helm waits for what it deleted (Deployments, Services, …), not for the ReplicaSets' pods,
  # which the garbage collector removes after it; uninstalled means no pod left.
  if [ -n "$(kubectl_ -n "$ns" get pods -o name)" ]; then
    kubectl_ -n "$ns" wait --for=delete pod --all --timeout=2m >/dev/null ||
      { kubectl_ -n "$ns" get pods >&2; die "pods of $ns still there 2 minutes after helm uninstall"; }
  fi
  say "$ns uninstalled in $(($(now) - t0)) s"
}

make_secrets
case "${1:-}" in
  retag)
    [ $# -eq 2 ] || die "usage: deploy.sh retag <dc>"
    retag "$2"
    exit 0
    ;;
  uninstall)
    [ $# -eq 2 ] || die "usage: deploy.sh uninstall <dc>"
    uninstall_dc "$2"
    exit 0
    ;;
esac
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(infra 1 2 3)
for t in "${targets[@]}"; do
  if [ "$t" = infra ]; then install_infra; else install_dc "$t"; fi
done
