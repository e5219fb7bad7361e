#!/usr/bin/env bash
# Packaging lint of every public package, as published: publint (package.json against the
# packed files) and attw (type resolution of each export). Both pack locally, no registry.
# attw's esm-only profile: the packages are ESM only and engines says Node >= 20.19, where
# require() of ESM works, so the CommonJS and node10 resolution modes do not apply.
# @cleancut/cli is a command with no importable entry: attw has nothing to check there.
set -euo pipefail
cd "$(dirname "$0")/.."

for name in core client server web cli; do
  echo "== @cleancut/$name"
  (cd "packages/$name" && npx --no-install publint --strict)
  if [ "$name" != cli ]; then
    npx --no-install attw --pack "packages/$name" --profile esm-only --format table-flipped
  fi
done
