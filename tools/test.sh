#!/usr/bin/env bash
# `npm test`: everything CI checks, in order of cost, on a fresh machine or a warm one.
#
#   1. dependencies (npm ci when node_modules is missing), build (proto + TL + tsc)
#   2. static checks: typecheck, lint (boundaries, floating promises), format
#   3. unit tests (pure, next to the code)
#   4. deployment checks: helm lint/template + offline manifest validation, per DC
#   5. the local stack (installs and starts real NATS, Cassandra, MinIO, Jaeger and
#      three DCs of services; reuses a running one), then integration and end-to-end
#      tests against it
#   6. `npm run chaos` (short form): kill -9 of parts of the stack under cross-DC traffic,
#      then every acknowledged message checked in the logs (docs/reliability.md)
#
# The last line is the plain "N passed, N failed" summary over all Jest projects.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }

step "dependencies"
bash tools/node-deps.sh
step "build"
npm run build
step "typecheck"
npm run typecheck
step "lint"
npm run lint
step "format"
npm run format:check

mkdir -p .stack
results=()
step "unit tests"
npx jest --selectProjects unit --json --outputFile=.stack/jest-unit.json
results+=(.stack/jest-unit.json)

step "deployment checks"
npm run deploy:check

step "local stack"
npm run stack

step "integration and end-to-end tests"
status=0
npx jest --selectProjects integration e2e --runInBand --forceExit --json --outputFile=.stack/jest-stack.json || status=$?
results+=(.stack/jest-stack.json)

step "stack commands (restarts the stack)"
npx jest --selectProjects stack --runInBand --forceExit --json --outputFile=.stack/jest-restart.json || status=$?
results+=(.stack/jest-restart.json)

step "chaos (kills parts of the stack under traffic)"
# The stack commands' suite restarts the stack; `npm run stack` makes sure all of it runs again.
npm run stack
chaos=0
npm run chaos || chaos=$?
[ "$chaos" -eq 0 ] || status=$chaos

node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    const file = require("path").resolve(f);
    if (!require("fs").existsSync(file)) { console.log(`no results in ${f} (the Jest run did not finish)`); failed++; continue; }
    const r = require(file);
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests || 0);
  }
  console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "${results[@]}"
echo "chaos: $([ "$chaos" -eq 0 ] && echo passed || echo "FAILED (exit $chaos)")"
exit $status
