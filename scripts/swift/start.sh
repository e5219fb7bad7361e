#!/usr/bin/env bash
# Starts a one-node OpenStack Swift with the S3 API (s3api + tempauth) on 127.0.0.1, for
# cleancut's S3 store tests. Everything it writes lives under ${CLEANCUT_SWIFT_DIR}
# (default /tmp/cleancut-swift): configs, rings, the one storage device, pid files, logs.
# Idempotent: servers already running are left alone; it only waits for the S3 API to answer.
# Creates no bucket. Prints the endpoint and credentials as shell `export` lines on stdout:
#   eval "$(scripts/swift/start.sh)"
# Ports (loopback only): proxy/S3 18080, object 18081, container 18082, account 18083.
set -euo pipefail

dir="${CLEANCUT_SWIFT_DIR:-/tmp/cleancut-swift}"
proxy_port=18080
object_port=18081
container_port=18082
account_port=18083
access_key="test:tester"
secret="testing"
endpoint="http://127.0.0.1:${proxy_port}"
python=/usr/bin/python3

for command in swift-proxy-server swift-account-server swift-container-server swift-object-server swift-ring-builder; do
  if ! command -v "${command}" >/dev/null 2>&1; then
    echo "${command} is missing: run scripts/swift/install.sh first" >&2
    exit 1
  fi
done

mkdir -p "${dir}/conf" "${dir}/devices/d1" "${dir}/run" "${dir}/log"
conf="${dir}/conf"

# Configs are rewritten each time (same content); a running server keeps its loaded copy.
cat >"${conf}/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = cleancut-test
swift_hash_path_prefix = cleancut-test

[storage-policy:0]
name = Policy-0
default = yes
CONF

common_default() {
  cat <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
swift_dir = ${conf}
devices = ${dir}/devices
mount_check = false
log_name = $2
log_level = WARNING
CONF
}

# The account, container and object servers differ only by their kind and port.
for kind in account container object; do
  port_var="${kind}_port"
  {
    common_default "${!port_var}" "cleancut-swift-${kind}"
    cat <<CONF

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
CONF
  } >"${conf}/${kind}-server.conf"
done

# s3api sits after `cache` (it refuses to work without the memcache filter; no memcached has
# to run: a missing one only means no caching) and before tempauth, which checks the signature.
cat >"${conf}/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${proxy_port}
workers = 0
swift_dir = ${conf}
log_name = cleancut-swift-proxy
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:18211

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${secret} .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
CONF

# Rings: one replica, one device on the local folder.
build_ring() {
  local kind=$1 port=$2
  if [ ! -f "${conf}/${kind}.ring.gz" ]; then
    (
      cd "${conf}"
      rm -f "${kind}.builder"
      swift-ring-builder "${kind}.builder" create 8 1 1 >/dev/null
      swift-ring-builder "${kind}.builder" add "r1z1-127.0.0.1:${port}/d1" 100 >/dev/null
      swift-ring-builder "${kind}.builder" rebalance >/dev/null
    )
  fi
}
build_ring account "${account_port}"
build_ring container "${container_port}"
build_ring object "${object_port}"

running() {
  local pidfile="${dir}/run/$1.pid"
  [ -f "${pidfile}" ] && kill -0 "$(cat "${pidfile}")" 2>/dev/null
}

start_server() {
  local name=$1
  if running "${name}"; then return 0; fi
  # setsid: the server outlives the shell (and test runner) that started it.
  setsid "swift-${name}-server" "${conf}/${name}-server.conf" \
    >>"${dir}/log/${name}.log" 2>&1 </dev/null &
  echo $! >"${dir}/run/${name}.pid"
}

for name in account container object proxy; do start_server "${name}"; done

# Ready when a SigV4-signed ListBuckets answers 200: s3api, tempauth and the account server
# all took part.
s3_ready() {
  "${python}" - "${endpoint}" "${access_key}" "${secret}" <<'PY'
import datetime, hashlib, hmac, sys, urllib.request
endpoint, key, secret = sys.argv[1:4]
host = endpoint.split("://", 1)[1]
now = datetime.datetime.now(datetime.timezone.utc)
amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
empty = hashlib.sha256(b"").hexdigest()
canonical = f"GET\n/\n\nhost:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\n{empty}"
scope = f"{day}/us-east-1/s3/aws4_request"
to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
k = ("AWS4" + secret).encode()
for part in (day, "us-east-1", "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
request = urllib.request.Request(endpoint + "/", headers={
    "x-amz-date": amz_date,
    "x-amz-content-sha256": empty,
    "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
})
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:
    print(error, file=sys.stderr)
    sys.exit(1)
PY
}

deadline=$((SECONDS + ${CLEANCUT_SWIFT_START_TIMEOUT:-60}))
until s3_ready 2>"${dir}/log/ready-check.log"; do
  for name in account container object proxy; do
    if ! running "${name}"; then
      echo "swift-${name}-server exited; its log (${dir}/log/${name}.log) ends with:" >&2
      tail -n 20 "${dir}/log/${name}.log" >&2 || true
      exit 1
    fi
  done
  if [ "${SECONDS}" -ge "${deadline}" ]; then
    echo "Swift's S3 API did not answer on ${endpoint} in time; last check: $(cat "${dir}/log/ready-check.log")" >&2
    exit 1
  fi
  sleep 0.3
done

echo "export CLEANCUT_S3_ENDPOINT=${endpoint}"
echo "export CLEANCUT_S3_ACCESS_KEY_ID=${access_key}"
echo "export CLEANCUT_S3_SECRET_ACCESS_KEY=${secret}"
echo "export CLEANCUT_S3_REGION=us-east-1"
