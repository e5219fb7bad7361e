#!/usr/bin/env bash
# Stops the Swift servers scripts/swift/start.sh started (by the pids it recorded). Keeps the
# data folder; pass --purge to remove ${CLEANCUT_SWIFT_DIR:-/tmp/cleancut-swift} as well.
set -euo pipefail

dir="${CLEANCUT_SWIFT_DIR:-/tmp/cleancut-swift}"
for name in proxy object container account; do
  pidfile="${dir}/run/${name}.pid"
  [ -f "${pidfile}" ] || continue
  pid=$(cat "${pidfile}")
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "${pidfile}"
done
if [ "${1:-}" = "--purge" ]; then rm -rf "${dir}"; fi
