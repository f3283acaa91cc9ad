#!/usr/bin/env bash
# Installs telemetry-agent on this node from its Debian package and writes its settings.
#
#   sudo deploy/agent/install.sh --broker mqtts://mqtt.example.org:8883 --ca-file ca.crt \
#        --username "$(hostname)" --password-file node.pw
#
# A thin wrapper around the package (npm run package:agent), for a node set up in one command:
#   1. installs telemetry-agent_<version>_all.deb with apt (--deb FILE, else the newest one in
#      dist/package/ of this checkout, built first when there is none): the program, the system
#      user telemetry-agent, the systemd unit, enabled;
#   2. writes /etc/telemetry-agent/agent.env and copies the secrets next to it, readable only by
#      root and the agent's group;
#   3. restarts the service, when systemd runs (not in a chroot or an image being built).
# --dry-run prints the plan and changes nothing.
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
  --deb FILE            the package to install (default: dist/package/ of this checkout)
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
deb="" start=1 dry_run=0 allow_insecure=0

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
    --deb) deb="${2:?--deb needs a file}"; shift 2 ;;
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
[ -z "$deb" ] || [ -r "$deb" ] || problem "cannot read $deb"
if [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  problem "run as root (sudo), or pass --dry-run"
fi
if [ "${#problems[@]}" -gt 0 ]; then
  [[ "${problems[*]}" != *"unknown option"* ]] || usage >&2
  printf 'install.sh: %s\n' "${problems[@]}" >&2
  exit 2
fi

etc="/etc/telemetry-agent"

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
  run install -m 0640 -g telemetry-agent "$from" "$etc/$name"
}

if [ -z "$deb" ]; then
  deb="$(find "$src/dist/package" -maxdepth 1 -name 'telemetry-agent_*_all.deb' 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$deb" ]; then
    echo "building the package (npm run package:agent) in $src"
    [ -d "$src/node_modules" ] || run npm --prefix "$src" ci --no-audit --no-fund
    run npm --prefix "$src" run --silent package:agent
    deb="$src/dist/package/telemetry-agent_$(node -p 'require(process.argv[1]).version' "$src/package.json")_all.deb"
  fi
fi
# apt resolves nodejs (>= 18) and adduser from the distribution; a path makes it a local file.
case "$deb" in /*) ;; *) deb="$PWD/$deb" ;; esac
echo "installing $deb"
run env DEBIAN_FRONTEND=noninteractive apt-get install --yes --quiet "$deb"

echo "writing $etc/agent.env"
env_file="$(mktemp)"
trap 'rm -f "$env_file"' EXIT
{
  echo "# telemetry-agent settings, written by install.sh; every variable is described in"
  echo "# /usr/share/doc/telemetry-agent/README.md."
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
  # Samples wait on disk while the broker is unreachable (the package's default).
  echo "TELEMETRY_SPOOL_DIR=/var/lib/telemetry-agent"
  # Spread a fleet that boots at once (power cut, cluster restart) over the first interval.
  echo "TELEMETRY_JITTER=${interval:-10}"
} >"$env_file"
run install -m 0640 -g telemetry-agent "$env_file" "$etc/agent.env"
[ -z "$password_file" ] || install_secret "$password_file" mqtt-password
[ -z "$token_file" ] || install_secret "$token_file" mqtt-token
[ -z "$ca_file" ] || run install -m 0644 "$ca_file" "$etc/ca.crt"
[ -z "$cert_file" ] || run install -m 0644 "$cert_file" "$etc/client.crt"
[ -z "$key_file" ] || install_secret "$key_file" client.key

if [ -d /run/systemd/system ] || [ "$dry_run" -eq 1 ]; then
  if [ "$start" -eq 1 ]; then
    # restart, not start: new settings or credentials must replace the running ones.
    run systemctl restart telemetry-agent.service
    echo "done: journalctl -u telemetry-agent -f shows its log"
  else
    echo "done: start it with systemctl restart telemetry-agent"
  fi
else
  echo "done: systemd is not running here; the unit is enabled and starts at the next boot"
fi
