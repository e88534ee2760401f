#!/usr/bin/env bash
# Starts and stops extra loopback test servers for the TLS, Sentinel and TLS PostgreSQL tests,
# with throwaway certificates made at each start.
#
#   scripts/topology.sh start --dir DIR   (re)start everything in DIR; writes DIR/env
#   scripts/topology.sh start --only-sentinel --dir DIR
#                                         only the Sentinel group (master, replica, three sentinels;
#                                         no certificates, TLS servers or PostgreSQL); DIR/env then
#                                         holds TOPO_DIR and the TOPO_MASTER/REPLICA/SENTINEL_* lines
#   scripts/topology.sh stop  --dir DIR   stop what a start in DIR left running, by pid (idempotent)
#   scripts/topology.sh env   --dir DIR   print DIR/env
#
# What a start runs, each on a free 127.0.0.1 port (DIR/env names them):
#   - certificates in DIR/tls: a CA (ca.crt/ca.key); server.crt/key (CN localhost, SAN DNS:localhost
#     and IP:127.0.0.1); client.crt/key (for mutual TLS); other-ca.crt/key (an unrelated CA, for
#     "unknown CA" tests); wrong.crt/key (SAN DNS:wrong.example only); expired.crt/key (valid
#     2020-01-01 to 2020-01-02). All but other-ca are signed by ca.crt; keys are mode 600.
#   - Redis over TLS only (no plain port): tls (server.crt, no client certificate asked),
#     mtls (server.crt, a client certificate signed by ca.crt is required), wrongname (wrong.crt)
#     and expired (expired.crt; Redis 7.0 loads an expired certificate, clients refuse it).
#   - Redis Sentinel: a plain master, a plain replica of it and three sentinels monitoring
#     "mymaster" (quorum 2, down-after 1 s, failover-timeout 5 s). A start returns once the
#     replica is in sync and every sentinel knows the replica and the two other sentinels.
#     A failover changes the roles for good; start again for a fresh topology.
#   - PostgreSQL (a cluster of its own, not services.sh's) that takes only TLS connections
#     (hostssl scram-sha-256; plain TCP is rejected by pg_hba.conf), with server.crt, role
#     resume / resume-local-dev and database resume_processor. Its data folder is kept between
#     starts (DIR/pg, or under /var/tmp when the postgres user cannot reach DIR).
#
# Every Redis instance is ephemeral (--save "", no AOF). A start first stops whatever an earlier
# start in DIR left running; a start that fails stops what it had started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command="${1:-}"
shift || true
DIR=""
ONLY_SENTINEL=0
while (($#)); do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --only-sentinel) ONLY_SENTINEL=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
[[ -n "$DIR" ]] || die "usage: topology.sh start [--only-sentinel]|stop|env --dir DIR"

PG_USER=resume
PG_PASSWORD=resume-local-dev   # local loopback-only test server; not a production secret
PG_DATABASE=resume_processor
REDIS_NAMES=(tls mtls wrongname expired master replica sentinel1 sentinel2 sentinel3)

# PostgreSQL runs as the postgres user, which must be able to reach its data folder (as in
# services.sh); otherwise the data lives under /var/tmp.
pg_data_dir() {
  if as_postgres test -x "$DIR" 2>/dev/null; then
    echo "$DIR/pg"
  else
    echo "/var/tmp/resume-processor-topology-$(echo -n "$DIR" | md5sum | cut -c1-12)/pg"
  fi
}

# Sets the variable named $1 to a free port not handed out before in this run.
PICKED=" "
pick_port() {
  local port
  while :; do
    port="$(free_port)"
    [[ "$PICKED" == *" $port "* ]] || break
  done
  PICKED+="$port "
  printf -v "$1" '%s' "$port"
}

# Whether pid $1 is a redis-server (so a stale pid file never makes us signal someone else's process).
is_redis_pid() {
  [[ "$(ps -o comm= -p "$1" 2>/dev/null)" == redis-server ]]
}

# ---------------------------------------------------------------------------------------------
# Certificates

make_certs() {
  local tls="$DIR/tls"
  rm -rf "$tls"
  mkdir -p "$tls/ca-db"
  touch "$tls/ca-db/index.txt"
  cat >"$tls/openssl.cnf" <<'CNF'
# Written by scripts/topology.sh; test certificates only.
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[wrong]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# "openssl ca" is only used for the expired certificate: "openssl x509 -req" in OpenSSL 3.0
# cannot set a start date, "openssl ca" takes -startdate/-enddate.
[ca]
default_ca = topo_ca
[topo_ca]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
CNF
  (
    cd "$tls"
    umask 077   # no moment with a readable key
    local cnf=openssl.cnf
    openssl rand -hex 8 >ca-db/serial
    # The two CAs.
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 -config "$cnf" -extensions v3_ca \
      -subj "/CN=resume-processor test CA" -keyout ca.key -out ca.crt
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 -config "$cnf" -extensions v3_ca \
      -subj "/CN=resume-processor unrelated test CA" -keyout other-ca.key -out other-ca.crt
    # Leaf certificates signed by the CA: NAME CN EXTENSIONS.
    for leaf in "server localhost server" "client resume-processor-test-client client" \
                "wrong wrong.example wrong" "expired localhost server"; do
      read -r name cn extensions <<<"$leaf"
      openssl req -new -newkey rsa:2048 -nodes -sha256 -config "$cnf" -subj "/CN=$cn" \
        -keyout "$name.key" -out "$name.csr"
      if [[ "$name" == expired ]]; then
        openssl ca -batch -config "$cnf" -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt \
          -startdate 20200101000000Z -enddate 20200102000000Z -extfile "$cnf" -extensions server -notext
      else
        openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
          -days 825 -sha256 -extfile "$cnf" -extensions "$extensions" -out "$name.crt"
      fi
    done
    rm -f ./*.csr
    chmod 600 ./*.key
    chmod 644 ./*.crt
  ) >"$DIR/openssl.log" 2>&1 || true   # (errexit is off in a tested subshell: the checks below judge)
  local file
  for file in ca other-ca server client wrong expired; do
    [[ -s "$tls/$file.crt" && -s "$tls/$file.key" ]] \
      || die "making the certificates failed ($file.crt/key missing); see $DIR/openssl.log"
  done
  openssl verify -no_check_time -CAfile "$tls/ca.crt" \
    "$tls/server.crt" "$tls/client.crt" "$tls/wrong.crt" "$tls/expired.crt" >/dev/null \
    || die "the new certificates do not verify against $tls/ca.crt; see $DIR/openssl.log"
  openssl x509 -checkend 0 -noout -in "$tls/server.crt" >/dev/null || die "$tls/server.crt is not valid now"
  ! openssl x509 -checkend 0 -noout -in "$tls/expired.crt" >/dev/null || die "$tls/expired.crt has not expired"
  log "certificates made in $tls"
}

# ---------------------------------------------------------------------------------------------
# Redis

# Starts redis-server NAME with extra options (always loopback, ephemeral, daemonized).
start_redis() {
  local name="$1"
  shift
  mkdir -p "$DIR/data/$name"
  redis-server --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --pidfile "$DIR/$name.pid" --logfile "$DIR/$name.log" --dir "$DIR/data/$name" \
    --save "" --appendonly no "$@" || die "redis $name did not start; see $DIR/$name.log"
}

# Whether the TLS server on port $1 answers (no verification: the wrongname and expired ones
# would fail it; the client certificate satisfies mtls).
tls_ping() {
  redis-cli --tls --insecure --cert "$DIR/tls/client.crt" --key "$DIR/tls/client.key" \
    -h 127.0.0.1 -p "$1" ping | grep -q PONG
}

start_tls_redis() {
  local name="$1" port="$2" cert="$3" auth="$4" tls="$DIR/tls"
  start_redis "$name" --port 0 --tls-port "$port" \
    --tls-cert-file "$tls/$cert.crt" --tls-key-file "$tls/$cert.key" \
    --tls-ca-cert-file "$tls/ca.crt" --tls-auth-clients "$auth"
  wait_for "tls_ping $port" 20 || die "redis $name did not answer on TLS port $port; see $DIR/$name.log"
  log "redis $name (TLS, $cert.crt, client certificates: $auth) on 127.0.0.1:$port"
}

replica_in_sync() {
  redis-cli -h 127.0.0.1 -p "$REPLICA_PORT" info replication | grep -q "master_link_status:up"
}

# Whether the sentinel on port $1 knows at least one replica and the two other sentinels.
sentinel_ready() {
  local replicas sentinels
  replicas="$(redis-cli -h 127.0.0.1 -p "$1" sentinel replicas mymaster | grep -c '^name$' || true)"
  sentinels="$(redis-cli -h 127.0.0.1 -p "$1" sentinel sentinels mymaster | grep -c '^name$' || true)"
  ((replicas >= 1 && sentinels == 2))
}

start_sentinel() {
  local name="$1" port="$2" conf="$DIR/$1.conf"
  mkdir -p "$DIR/data/$name"
  # Sentinel rewrites its configuration file, so each one gets its own, fresh at every start.
  cat >"$conf" <<CONF
# Written by scripts/topology.sh; the sentinel rewrites it.
port $port
bind 127.0.0.1
daemonize yes
pidfile "$DIR/$name.pid"
logfile "$DIR/$name.log"
dir "$DIR/data/$name"
sentinel monitor mymaster 127.0.0.1 $MASTER_PORT 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
CONF
  redis-server "$conf" --sentinel || die "sentinel $name did not start; see $DIR/$name.log"
  wait_for "redis-cli -h 127.0.0.1 -p $port ping" 20 || die "sentinel $name did not answer; see $DIR/$name.log"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

start_postgres() {
  local bin data root=0
  bin="$(postgres_bin)"
  data="$(pg_data_dir)"
  [[ $(id -u) -eq 0 ]] && root=1
  echo "$data" >"$DIR/pg.datadir"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    # Only the data folder goes to postgres: DIR (its parent) also holds our keys and pid files.
    mkdir -p "$data"
    if ((root)); then chown postgres:postgres "$data"; fi
    chmod 700 "$data"
    local pwfile
    pwfile="$(mktemp)"
    echo "$PG_PASSWORD" >"$pwfile"
    if ((root)); then chown postgres "$pwfile"; fi
    as_postgres "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
      || { rm -f "$pwfile"; die "initdb failed; see $DIR/initdb.log"; }
    rm -f "$pwfile"
  fi
  # This start's certificates, in the data folder: the key must belong to the server's user, mode 600.
  install -m 644 "$DIR/tls/server.crt" "$data/topology-server.crt"
  install -m 644 "$DIR/tls/ca.crt" "$data/topology-ca.crt"
  install -m 600 "$DIR/tls/server.key" "$data/topology-server.key"
  cat >"$data/pg_hba.conf" <<'HBA'
# Written by scripts/topology.sh at every start: TLS only over TCP.
local     all  all                 trust
hostssl   all  all  127.0.0.1/32   scram-sha-256
hostnossl all  all  127.0.0.1/32   reject
HBA
  if ((root)); then
    chown postgres:postgres "$data/topology-server.crt" "$data/topology-ca.crt" \
      "$data/topology-server.key" "$data/pg_hba.conf"
  fi
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_SSL_PORT -c unix_socket_directories=$data -c fsync=off -c ssl=on -c ssl_cert_file=$data/topology-server.crt -c ssl_key_file=$data/topology-server.key -c ssl_ca_file=$data/topology-ca.crt" \
    start >/dev/null || die "postgres did not start; see $data/server.log"
  # Role and database for the application (idempotent).
  ensure_app_database "$data" "$PG_SSL_PORT" "$PG_USER" "$PG_PASSWORD" "$PG_DATABASE"
  log "postgres (TLS only) on 127.0.0.1:$PG_SSL_PORT (data $data)"
}

# ---------------------------------------------------------------------------------------------

write_env() {
  local tls="$DIR/tls" s1 s2 s3
  read -r s1 s2 s3 <<<"$SENTINEL1_PORT $SENTINEL2_PORT $SENTINEL3_PORT"
  # Single quotes: the URLs hold '&' and '?'.
  cat >"$DIR/env" <<ENV
export TOPO_DIR='$DIR'
export TOPO_MASTER_PORT='$MASTER_PORT'
export TOPO_REPLICA_PORT='$REPLICA_PORT'
export TOPO_SENTINEL_PORTS='$s1,$s2,$s3'
export TOPO_SENTINEL_MASTER='mymaster'
export TOPO_SENTINEL_URL='redis+sentinel://127.0.0.1:$s1,127.0.0.1:$s2,127.0.0.1:$s3/mymaster/0'
ENV
  ((ONLY_SENTINEL)) && return
  cat >>"$DIR/env" <<ENV
export TOPO_TLS_DIR='$tls'
export TOPO_TLS_CA_CERT='$tls/ca.crt'
export TOPO_TLS_OTHER_CA_CERT='$tls/other-ca.crt'
export TOPO_TLS_CLIENT_CERT='$tls/client.crt'
export TOPO_TLS_CLIENT_KEY='$tls/client.key'
export TOPO_TLS_PORT='$TLS_PORT'
export TOPO_TLS_URL='rediss://localhost:$TLS_PORT/0?ssl_ca_certs=$tls/ca.crt'
export TOPO_MTLS_PORT='$MTLS_PORT'
export TOPO_MTLS_URL='rediss://localhost:$MTLS_PORT/0?ssl_ca_certs=$tls/ca.crt&ssl_certfile=$tls/client.crt&ssl_keyfile=$tls/client.key'
export TOPO_WRONGNAME_PORT='$WRONGNAME_PORT'
export TOPO_EXPIRED_PORT='$EXPIRED_PORT'
export TOPO_PG_SSL_PORT='$PG_SSL_PORT'
export TOPO_PG_SSL_URL='postgresql://$PG_USER:$PG_PASSWORD@localhost:$PG_SSL_PORT/$PG_DATABASE?sslmode=verify-full&sslrootcert=$tls/ca.crt'
ENV
}

stop_all() {
  local name pid pids=()
  for name in "${REDIS_NAMES[@]}"; do
    if pidfile_alive "$DIR/$name.pid"; then
      pid="$(cat "$DIR/$name.pid")"
      if is_redis_pid "$pid"; then
        kill "$pid" 2>/dev/null || true
        pids+=("$pid")
        log "redis $name stopping (pid $pid)"
      fi
    fi
  done
  for pid in "${pids[@]}"; do
    wait_for "! kill -0 $pid" 20 || kill -9 "$pid" 2>/dev/null || true
  done
  for name in "${REDIS_NAMES[@]}"; do rm -f "$DIR/$name.pid"; done
  if [[ -f "$DIR/pg.datadir" ]]; then
    local data
    data="$(cat "$DIR/pg.datadir")"
    if [[ -f "$data/postmaster.pid" ]] && kill -0 "$(head -1 "$data/postmaster.pid")" 2>/dev/null; then
      as_postgres "$(postgres_bin)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
      log "postgres stopped (data $data)"
    fi
  fi
  rm -f "$DIR/env"
}

start_all() {
  local started_at=$SECONDS
  for tool in openssl redis-server redis-cli psql python3; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH (scripts/services.sh start installs what is missing)"
  done
  stop_all
  # A failed start stops what it had started (the logs stay in DIR).
  trap 'log "start failed; stopping what was started"; stop_all' EXIT
  if ((ONLY_SENTINEL)); then
    pick_port MASTER_PORT; pick_port REPLICA_PORT
    pick_port SENTINEL1_PORT; pick_port SENTINEL2_PORT; pick_port SENTINEL3_PORT
  else
    # The keys are made while the ports are picked (each free_port is a Python start).
    make_certs &
    local certs_pid=$!
    pick_port TLS_PORT; pick_port MTLS_PORT; pick_port WRONGNAME_PORT; pick_port EXPIRED_PORT
    pick_port MASTER_PORT; pick_port REPLICA_PORT
    pick_port SENTINEL1_PORT; pick_port SENTINEL2_PORT; pick_port SENTINEL3_PORT
    pick_port PG_SSL_PORT
    wait "$certs_pid" || exit 1

    start_tls_redis tls "$TLS_PORT" server no
    start_tls_redis mtls "$MTLS_PORT" server yes
    start_tls_redis wrongname "$WRONGNAME_PORT" wrong no
    # Redis 7.0 starts with an expired certificate (it does not check the dates); clients refuse it.
    start_tls_redis expired "$EXPIRED_PORT" expired no
  fi

  # No 5 s wait before a full sync (diskless sync's default delay), here and after a failover.
  start_redis master --port "$MASTER_PORT" --repl-diskless-sync-delay 0
  start_redis replica --port "$REPLICA_PORT" --repl-diskless-sync-delay 0 --replicaof 127.0.0.1 "$MASTER_PORT"
  # The sentinels find the replica in the master's INFO when they connect, so it must be in sync first.
  wait_for replica_in_sync 30 || die "the replica did not sync with the master; see $DIR/replica.log"
  log "redis master on 127.0.0.1:$MASTER_PORT, replica on 127.0.0.1:$REPLICA_PORT"
  start_sentinel sentinel1 "$SENTINEL1_PORT"
  start_sentinel sentinel2 "$SENTINEL2_PORT"
  start_sentinel sentinel3 "$SENTINEL3_PORT"

  # PostgreSQL starts while the sentinels find each other (hello messages, every 2 s).
  ((ONLY_SENTINEL)) || start_postgres

  local port
  for port in "$SENTINEL1_PORT" "$SENTINEL2_PORT" "$SENTINEL3_PORT"; do
    wait_for "sentinel_ready $port" 30 || die "sentinel on port $port did not discover the replica and the other sentinels; see $DIR/sentinel*.log"
  done
  log "sentinels on 127.0.0.1:$SENTINEL1_PORT,$SENTINEL2_PORT,$SENTINEL3_PORT monitor mymaster"
  write_env
  trap - EXIT
  log "topology started in $((SECONDS - started_at)) s; source $DIR/env"
}

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
# DIR goes unquoted into pg_ctl's -o and single-quoted into DIR/env.
[[ "$DIR" != *[[:space:]\'\"\\]* ]] || die "--dir must not contain spaces or quotes: $DIR"

case "$command" in
  start) start_all ;;
  stop) stop_all ;;
  env) cat "$DIR/env" ;;
  *) die "usage: topology.sh start [--only-sentinel]|stop|env --dir DIR" ;;
esac
