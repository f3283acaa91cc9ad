#!/usr/bin/env bash
# Installs telemetry-agent as a systemd service on this node.
#
#   sudo deploy/agent/install.sh --broker mqtts://mqtt.example.org:8883 --ca-file ca.crt \
#        --username "$(hostname)" --password-file node.pw
#
# Run from a checkout (or an unpacked copy) of the repository. What it does:
#   1. builds the agent when dist/ is missing (needs npm and the dev dependencies, once);
#   2. copies the runtime to --prefix and installs production dependencies there;
#   3. creates the system user telemetry-agent (no shell, no home);
#   4. writes /etc/telemetry-agent/agent.env and copies the secrets next to it, readable only by
#      root and the agent's group;
#   5. installs and starts the systemd unit (deploy/systemd/telemetry-agent.service).
#
# --root DIR installs into DIR as if it were / and runs neither useradd nor systemctl: for images
# built offline, and for the project's tests. --dry-run prints the plan and changes nothing.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: install.sh --broker URL [options]
  --broker URL          MQTT broker, e.g. mqtts://mqtt.example.org:8883 (required)
  --host NAME           host name to report (default: the machine's host name)
  --interval SECONDS    sampling interval (default 10)
  --username NAME       MQTT user name (the deployment's ACL expects the host name)
  --password-file FILE  file holding the MQTT password; copied, never put on a command line
  --token-file FILE     file holding a token sent as password, re-read at every reconnect
  --ca-file FILE        CA certificate that signed the broker's certificate
  --cert-file FILE      client certificate (mutual TLS)
  --key-file FILE       client key (mutual TLS)
  --allow-insecure      allow a password over plain mqtt:// or ws:// to another machine
  --prefix DIR          where the program goes (default /opt/telemetry-agent)
  --root DIR            install under DIR; no useradd, no systemctl
  --no-start            install and enable, but do not start now
  --dry-run             print what would be done, change nothing
  -h, --help            this text
USAGE
}

die() {
  echo "install.sh: $*" >&2
  exit 2
}

# Every problem is collected and reported at once, like the agent's own configuration check.
problems=()
problem() {
  problems+=("$*")
}

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
broker="" host="" interval="" username="" password_file="" token_file="" ca_file="" cert_file="" key_file=""
prefix="/opt/telemetry-agent" root="" start=1 dry_run=0 allow_insecure=0

while [ $# -gt 0 ]; do
  case "$1" in
    --broker) broker="${2:?--broker needs a URL}"; shift 2 ;;
    --host) host="${2:?--host needs a name}"; shift 2 ;;
    --interval) interval="${2:?--interval needs seconds}"; shift 2 ;;
    --username) username="${2:?--username needs a name}"; shift 2 ;;
    --password-file) password_file="${2:?--password-file needs a file}"; shift 2 ;;
    --token-file) token_file="${2:?--token-file needs a file}"; shift 2 ;;
    --ca-file) ca_file="${2:?--ca-file needs a file}"; shift 2 ;;
    --cert-file) cert_file="${2:?--cert-file needs a file}"; shift 2 ;;
    --key-file) key_file="${2:?--key-file needs a file}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --allow-insecure) allow_insecure=1; shift ;;
    --no-start) start=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) problem "unknown option: $1"; shift ;;
  esac
done

[ -n "$broker" ] || problem "--broker is required (e.g. mqtts://mqtt.example.org:8883)"
case "$broker" in "" | mqtt://* | mqtts://* | ws://* | wss://*) ;; *) problem "--broker must be an mqtt://, mqtts://, ws:// or wss:// URL" ;; esac
if [ -n "$interval" ] && ! [[ "$interval" =~ ^[0-9]+$ && "$interval" -ge 1 ]]; then
  problem "--interval must be a whole number of seconds, at least 1"
fi
for f in "$password_file" "$token_file" "$ca_file" "$cert_file" "$key_file"; do
  [ -z "$f" ] || [ -r "$f" ] || problem "cannot read $f"
done
if { [ -n "$cert_file" ] && [ -z "$key_file" ]; } || { [ -z "$cert_file" ] && [ -n "$key_file" ]; }; then
  problem "--cert-file and --key-file go together"
fi
# The agent refuses this set-up at start with exit code 2, which the unit does not restart: the node
# would never report. Refused here instead, in the agent's own words.
case "$broker" in
  mqtt://* | ws://*)
    authority="${broker#*://}"
    authority="${authority%%/*}"
    authority="${authority##*@}"
    if [[ "$authority" == \[* ]]; then broker_host="${authority%%]*}]"; else broker_host="${authority%%:*}"; fi
    if [ -n "$password_file$token_file" ] && [ "$allow_insecure" -eq 0 ] &&
      ! [[ "$broker_host" =~ ^(localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\]|::1)$ ]]; then
      problem "refusing to send a password in clear text to $broker_host: use mqtts:// or pass --allow-insecure"
    fi
    ;;
esac
if [ -z "$root" ] && [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  problem "run as root (sudo), or pass --root DIR or --dry-run"
fi
if [ "${#problems[@]}" -gt 0 ]; then
  [[ "${problems[*]}" != *"unknown option"* ]] || usage >&2
  printf 'install.sh: %s\n' "${problems[@]}" >&2
  exit 2
fi

node_bin="$(command -v node || true)"
[ -n "$node_bin" ] || die "Node.js 20 or newer is required (e.g. apt-get install nodejs, or NodeSource)"
node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required, found $("$node_bin" --version)"

etc="$root/etc/telemetry-agent"
unit_dir="$root/etc/systemd/system"
target="$root$prefix"

run() {
  if [ "$dry_run" -eq 1 ]; then
    printf 'would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# A secret copied next to the config: root owns it, the agent's group may read it, no one else.
install_secret() {
  local from="$1" name="$2"
  run install -m 0640 "$from" "$etc/$name"
  [ -n "$root" ] || run chgrp telemetry-agent "$etc/$name"
}

if [ ! -f "$src/dist/agent/src/main.js" ]; then
  echo "building the agent (npm run build) in $src"
  [ -d "$src/node_modules" ] || run npm --prefix "$src" ci --no-audit --no-fund
  run npm --prefix "$src" run build
fi

echo "installing the program in $target"
run mkdir -p "$target"
run rm -rf "$target/dist" "$target/bin"
run cp -R "$src/dist" "$src/bin" "$src/package.json" "$src/package-lock.json" "$target/"
run cp "$src/agent/README.md" "$target/README.md"
run npm --prefix "$target" ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund

if [ -z "$root" ]; then
  if ! id telemetry-agent >/dev/null 2>&1; then
    run useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin telemetry-agent
  fi
fi

echo "writing $etc/agent.env"
run mkdir -p "$etc"
run chmod 0750 "$etc"
[ -n "$root" ] || run chgrp telemetry-agent "$etc"
env_file="$(mktemp)"
trap 'rm -f "$env_file"' EXIT
{
  echo "# telemetry-agent settings; every variable is described in the agent's README."
  echo "MQTT_URL=$broker"
  [ -z "$host" ] || echo "TELEMETRY_HOST=$host"
  [ -z "$interval" ] || echo "TELEMETRY_INTERVAL=$interval"
  [ -z "$username" ] || echo "MQTT_USERNAME=$username"
  [ -z "$password_file" ] || echo "MQTT_PASSWORD_FILE=/etc/telemetry-agent/mqtt-password"
  [ -z "$token_file" ] || echo "MQTT_TOKEN_FILE=/etc/telemetry-agent/mqtt-token"
  [ "$allow_insecure" -eq 0 ] || echo "TELEMETRY_ALLOW_INSECURE=true"
  [ -z "$ca_file" ] || echo "MQTT_CA_FILE=/etc/telemetry-agent/ca.crt"
  [ -z "$cert_file" ] || echo "MQTT_CERT_FILE=/etc/telemetry-agent/client.crt"
  [ -z "$key_file" ] || echo "MQTT_KEY_FILE=/etc/telemetry-agent/client.key"
  # Spread a fleet that boots at once (power cut, cluster restart) over the first interval.
  echo "TELEMETRY_JITTER=${interval:-10}"
} >"$env_file"
run install -m 0640 "$env_file" "$etc/agent.env"
[ -n "$root" ] || run chgrp telemetry-agent "$etc/agent.env"
[ -z "$password_file" ] || install_secret "$password_file" mqtt-password
[ -z "$token_file" ] || install_secret "$token_file" mqtt-token
[ -z "$ca_file" ] || run install -m 0644 "$ca_file" "$etc/ca.crt"
[ -z "$cert_file" ] || run install -m 0644 "$cert_file" "$etc/client.crt"
[ -z "$key_file" ] || install_secret "$key_file" client.key

echo "installing the systemd unit in $unit_dir"
run mkdir -p "$unit_dir"
unit="$(mktemp)"
trap 'rm -f "$env_file" "$unit"' EXIT
sed -e "s|/usr/bin/node|$node_bin|g" -e "s|/opt/telemetry-agent|$prefix|g" \
  "$src/deploy/systemd/telemetry-agent.service" >"$unit"
run install -m 0644 "$unit" "$unit_dir/telemetry-agent.service"

if [ -z "$root" ]; then
  run systemctl daemon-reload
  if [ "$start" -eq 1 ]; then
    run systemctl enable telemetry-agent.service
    # restart, not start: a re-install must replace the running version.
    run systemctl restart telemetry-agent.service
  else
    run systemctl enable telemetry-agent.service
  fi
  echo "done: journalctl -u telemetry-agent -f shows its log"
else
  echo "done: installed under $root (no user created, systemd not touched)"
fi
