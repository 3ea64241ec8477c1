#!/usr/bin/env bash
# Installs the locked Node dependencies when node_modules is missing or older than the lock.
#
# `npm ci` first. On machines whose npm registry mirror lacks some platform-specific optional
# packages (@swc/core-darwin-*, …), `npm ci` refuses the lock as "out of sync" even though
# nothing for this platform is missing; then `npm install --no-save` installs the same locked
# versions without rewriting the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.tern-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "node-deps: installing Node dependencies from package-lock.json"
if ! npm ci --no-audit --no-fund --loglevel=error; then
  echo "node-deps: npm ci refused the lock; installing the locked versions with npm install --no-save"
  npm install --no-audit --no-fund --no-save --loglevel=error
fi
echo "$want" > "$stamp"
