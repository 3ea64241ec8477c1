#!/usr/bin/env bash
# `npm run proto`: check proto/ and generate TypeScript into services/shared/src/gen/.
# Offline and idempotent: buf and ts-proto come from node_modules, buf.gen.yaml has `clean: true`.
#
#   TERN_PROTO_BREAKING_AGAINST  git ref to compare with for `buf breaking` (default: main).
#                                Set to "" to skip, e.g. for a deliberate, coordinated break.
set -euo pipefail
cd "$(dirname "$0")/../.."

buf=node_modules/.bin/buf

echo "proto: buf lint"
"$buf" lint

against="${TERN_PROTO_BREAKING_AGAINST-main}"
if [[ -z "$against" ]]; then
  echo "proto: buf breaking skipped (TERN_PROTO_BREAKING_AGAINST is empty)"
elif git rev-parse --verify --quiet "$against:buf.yaml" >/dev/null 2>&1; then
  echo "proto: buf breaking against $against"
  "$buf" breaking --against ".git#ref=$against"
else
  # A fresh clone, a shallow CI checkout or the very first commit: nothing to compare with.
  echo "proto: buf breaking skipped ($against has no buf.yaml)"
fi

echo "proto: buf generate -> services/shared/src/gen"
"$buf" generate
echo "proto: $(find services/shared/src/gen -name '*.ts' | wc -l) files generated"
node_modules/.bin/tsx tools/proto/callers.ts
