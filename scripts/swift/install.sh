#!/usr/bin/env bash
# Installs OpenStack Swift (proxy with s3api, account, container and object servers) from
# Debian's packages, for cleancut's S3 store tests. Does nothing when everything is present.
set -euo pipefail

packages=(swift-proxy swift-account swift-container swift-object)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("${package}")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "cleancut's S3 tests need: ${missing[*]} — install them (e.g. sudo apt-get install ${missing[*]}) and run again." >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's packages..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: the packages must not start system-wide services; start.sh runs its own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "${policy}" ]; then
  printf '#!/bin/sh\nexit 101\n' >"${policy}"
  chmod +x "${policy}"
  created_policy=1
fi
status=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
if [ "${created_policy}" -eq 1 ]; then rm -f "${policy}"; fi
exit "${status}"
