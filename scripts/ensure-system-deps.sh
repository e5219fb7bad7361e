#!/usr/bin/env bash
# Installs, from Debian's packages, the system tools cleancut's tests use and a fresh machine
# lacks: ffmpeg (makes the test videos; ffprobe checks uploaded ones), Chromium (the web page's
# end-to-end tests drive it with playwright-core) and OpenStack Swift (the S3-compatible
# server). Does nothing when they are present.
set -euo pipefail

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
# With its fonts: the page tests take screenshots (installed without recommends below).
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)

if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "cleancut tests need: ${packages}— install them (e.g. sudo apt-get install ${packages}) and run again." >&2
    exit 1
fi
echo "installing ${packages}from Debian's packages..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends ${packages} >/dev/null
fi

# OpenStack Swift with s3api: the real S3-compatible server the S3 store tests run against
# (the tests start it themselves with scripts/swift/start.sh).
bash "$(dirname "$0")/swift/install.sh"
