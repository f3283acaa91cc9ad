#!/bin/sh
# One-shot setup steps of deploy/docker-compose.yml, one per compose service:
#
#   setup.sh certs    the repository's image, as root: CA, service and node certificates, each
#                     service's TLS volume with only its own key, the secrets volume's owner
#   setup.sh broker   the Mosquitto image, as root: ACL, password file, the ingest's MQTT password,
#                     telemetry-live's (read-only telemetry-viewer) MQTT password
#
# Both are idempotent: every `docker compose up` runs them again and they keep what exists, so
# credentials survive restarts and upgrades. Nothing secret is ever printed.
set -eu

# Outside a container (the project's tests) the volumes live under SETUP_ROOT and the certificate
# tool runs from source; in the deployment both defaults apply.
root=${SETUP_ROOT:-}
make_certs=${MAKE_CERTS:-node deploy/dist/make-certs.js}

# Fixed by the images: the node and Elasticsearch/Kibana users are uid 1000 (Elasticsearch's group
# is 0), Mosquitto drops to uid/gid 1883 before it reads its certificates and password file.
NODE_UID=1000
ELASTIC_OWNER=1000:0
MOSQUITTO_OWNER=1883:1883

log() {
  printf 'setup: %s\n' "$*"
}

# A fresh random secret: 32 bytes as hex, so it is safe in URLs, config files and command lines.
new_secret() {
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# put <source> <destination> <owner> <mode>: copy one file into a service's volume.
put() {
  cp "$1" "$2.tmp"
  chown "$3" "$2.tmp"
  chmod "$4" "$2.tmp"
  mv -f "$2.tmp" "$2"
}

# Comma-separated list → space-separated, empty items dropped. Names are host names (letters,
# digits, '-', '.'), so word splitting on the result is safe.
words() {
  printf '%s' "$1" | tr ',' '\n' | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | sed '/^$/d' | tr '\n' ' '
}

valid_names() {
  for name in $1; do
    case "$name" in
      *[!A-Za-z0-9.-]* | -* | '')
        log "\"$name\" is not a host name (letters, digits, '-' and '.')" >&2
        return 1
        ;;
    esac
    # The deployment's own accounts and client ids (deploy/certs/service-accounts.ts): a node
    # named like one could log in where it does or take over its session.
    case "$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')" in
      telemetry-* | healthcheck)
        log "\"$name\" cannot be a node's name: it is kept for the deployment's services (telemetry-ingest, healthcheck, telemetry-*)" >&2
        return 1
        ;;
    esac
  done
}

# check_secret <variable> <minimum length>: refuses an unset, placeholder or short secret, naming
# the variable and never printing its value.
check_secret() {
  value=$(printenv "$1" || true)
  case "$(printf '%s' "$value" | tr '[:upper:]' '[:lower:]')" in
    *change-me* | *changeme* | *password* | *secret*)
      log "$1 in deploy/.env is a placeholder, not a secret; generate one: openssl rand -hex 32" >&2
      return 1
      ;;
  esac
  if [ "${#value}" -lt "$2" ]; then
    log "$1 in deploy/.env is shorter than $2 characters; generate one: openssl rand -hex 32" >&2
    return 1
  fi
}

# The secrets of deploy/.env, checked before anything is made, so that a stack never comes up
# with .env.example's placeholders (elastic/change-me, with Kibana on every interface).
secrets() {
  failed=0
  check_secret ELASTIC_PASSWORD 16 || failed=1
  check_secret KIBANA_SYSTEM_PASSWORD 16 || failed=1
  check_secret REDIS_PASSWORD 16 || failed=1
  # Kibana refuses an encryption key under 32 characters.
  check_secret KIBANA_ENCRYPTION_KEY 32 || failed=1
  return "$failed"
}

certs() {
  secrets
  demo_host=${DEMO_AGENT_HOST:-monitoring-host}
  nodes=$(words "${NODE_CERTS:-}")
  valid_names "$demo_host $nodes"
  clients=$(printf '%s' "$demo_host $nodes" | tr ' ' ',')

  set -- --out "$root/authority" \
    --hosts "mosquitto,localhost,127.0.0.1,${MQTT_PUBLIC_HOSTS:-}" \
    --server "elasticsearch=elasticsearch,localhost,127.0.0.1,${ELASTICSEARCH_PUBLIC_HOSTS:-}" \
    --server "kibana=kibana,localhost,127.0.0.1,${KIBANA_PUBLIC_HOSTS:-}" \
    --server "live=live,localhost,127.0.0.1,${LIVE_PUBLIC_HOSTS:-}" \
    --clients "$clients"
  if [ "${TLS_REISSUE:-false}" = "true" ]; then
    log "re-issuing every certificate (TLS_REISSUE=true); the CA stays"
    set -- "$@" --force
  fi
  mkdir -p "$root/authority"
  chmod 0700 "$root/authority"
  $make_certs "$@"
  mkdir -p "$root/tls/ca" "$root/tls/broker" "$root/tls/elasticsearch" "$root/tls/kibana" "$root/tls/live" \
    "$root/tls/demo-agent"

  put "$root/authority/ca.crt" "$root/tls/ca/ca.crt" 0:0 0644

  put "$root/authority/ca.crt" "$root/tls/broker/ca.crt" 0:0 0644
  put "$root/authority/broker.crt" "$root/tls/broker/broker.crt" "$MOSQUITTO_OWNER" 0644
  put "$root/authority/broker.key" "$root/tls/broker/broker.key" "$MOSQUITTO_OWNER" 0600

  for server in elasticsearch kibana; do
    put "$root/authority/ca.crt" "$root/tls/$server/ca.crt" 0:0 0644
    put "$root/authority/$server.crt" "$root/tls/$server/$server.crt" "$ELASTIC_OWNER" 0644
    put "$root/authority/$server.key" "$root/tls/$server/$server.key" "$ELASTIC_OWNER" 0600
  done

  # telemetry-live's page (HTTPS), run as the image's node user; the CA is beside it for the broker
  # and Elasticsearch.
  put "$root/authority/ca.crt" "$root/tls/live/ca.crt" 0:0 0644
  put "$root/authority/live.crt" "$root/tls/live/live.crt" "$NODE_UID:$NODE_UID" 0644
  put "$root/authority/live.key" "$root/tls/live/live.key" "$NODE_UID:$NODE_UID" 0600

  put "$root/authority/ca.crt" "$root/tls/demo-agent/ca.crt" 0:0 0644
  put "$root/authority/$demo_host.crt" "$root/tls/demo-agent/client.crt" "$NODE_UID:$NODE_UID" 0644
  put "$root/authority/$demo_host.key" "$root/tls/demo-agent/client.key" "$NODE_UID:$NODE_UID" 0600

  # Generated service credentials: written by the broker and Elasticsearch steps (the latter as the
  # node user), read by the ingest; telemetry-live's in a volume of their own.
  mkdir -p "$root/live-secrets"
  chown "$NODE_UID:$NODE_UID" "$root/secrets" "$root/live-secrets"
  chmod 0700 "$root/secrets" "$root/live-secrets"
  log "certificates in place; node certificates: ${nodes:-none} (in the authority volume)"
}

# password_file <name> <user>:<secret file>...: writes the broker's password file <name> with these
# users. The passwords go into the file in clear first (mode 0600, in a directory only root and
# Mosquitto read) and mosquitto_passwd -U hashes them in place: no password is ever an argument of
# a process, where ps would show it.
password_file() {
  next=$config/$1.next
  shift
  rm -f "$next"
  (
    umask 077
    for entry in "$@"; do
      printf '%s:%s\n' "${entry%%:*}" "$(cat "${entry#*:}")"
    done > "$next"
  )
  # An empty file is a valid password file (no user logs in), but not one mosquitto_passwd updates.
  [ "$#" -eq 0 ] || mosquitto_passwd -U "$next"
  chown "$MOSQUITTO_OWNER" "$next"
  chmod 0600 "$next"
  mv -f "$next" "${next%.next}"
}

broker() {
  config="$root/mosquitto/config"
  umask 077
  put "$root/mosquitto/config-src/acl" "$config/acl" "$MOSQUITTO_OWNER" 0600

  ingest_secret="$root/secrets/mqtt-ingest.password"
  if [ ! -s "$ingest_secret" ]; then
    new_secret > "$ingest_secret"
    log "generated the ingest's MQTT password"
  fi
  chown "$NODE_UID:$NODE_UID" "$ingest_secret"
  chmod 0400 "$ingest_secret"

  # telemetry-live's read-only account, in a volume of its own that only telemetry-live mounts.
  viewer_secret="$root/live-secrets/mqtt-viewer.password"
  mkdir -p "$root/live-secrets"
  if [ ! -s "$viewer_secret" ]; then
    new_secret > "$viewer_secret"
    log "generated telemetry-live's MQTT password"
  fi
  chown "$NODE_UID:$NODE_UID" "$root/live-secrets" "$viewer_secret"
  chmod 0700 "$root/live-secrets"
  chmod 0400 "$viewer_secret"

  # The broker's own health check logs in as this user; only root in the broker container reads it.
  # mosquitto_pub takes its login from an options file ($XDG_CONFIG_HOME/mosquitto_pub), so the
  # probe's password is not on its command line either.
  probe_secret=$config/healthcheck.password
  [ -s "$probe_secret" ] || new_secret > "$probe_secret"
  chmod 0600 "$probe_secret"
  mkdir -p "$config/healthcheck"
  chmod 0700 "$config/healthcheck"
  printf -- '-u healthcheck\n-P %s\n' "$(cat "$probe_secret")" > "$config/healthcheck/mosquitto_pub"
  chmod 0600 "$config/healthcheck/mosquitto_pub"

  # Nodes that log in with a password: one generated password each, readable by root in the
  # broker's container only (docker compose exec mosquitto cat /mosquitto/config/nodes/<host>.password).
  nodes=$(words "${MQTT_NODE_USERS:-}")
  valid_names "$nodes"
  mkdir -p "$config/nodes"
  chmod 0700 "$config/nodes"
  for node in $nodes; do
    [ -s "$config/nodes/$node.password" ] || new_secret > "$config/nodes/$node.password"
  done

  # Rebuilt from the secrets every time, so users removed from MQTT_NODE_USERS lose access. One file
  # per listener (deploy/mosquitto/mosquitto.conf): nodes and telemetry-live's read-only account on
  # 8883, the ingest on the services listener, the health check on the container's loopback.
  set -- "telemetry-viewer:$viewer_secret"
  for node in $nodes; do
    set -- "$@" "$node:$config/nodes/$node.password"
  done
  password_file passwords "$@"
  password_file services.passwords "telemetry-ingest:$ingest_secret"
  password_file local.passwords "healthcheck:$probe_secret"
  log "broker users: telemetry-ingest, healthcheck, telemetry-viewer${nodes:+, }$(printf '%s' "$nodes" | sed 's/ $//; s/ /, /g')"
}

case "${1:-}" in
  certs) certs ;;
  broker) broker ;;
  *)
    echo "usage: setup.sh certs|broker" >&2
    exit 2
    ;;
esac
