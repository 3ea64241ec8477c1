#!/usr/bin/env bash
# Entry point of `npm run stack`, `stack:down` and `stack:info`: makes sure the project's Node
# dependencies are installed (a fresh clone has none), then runs the TypeScript stack tool.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/node-deps.sh >&2
exec node_modules/.bin/tsx tools/stack/cli.ts "$@"
