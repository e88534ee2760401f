#!/usr/bin/env bash
# Starts, stops and describes the project's own Redis and PostgreSQL servers, on loopback only.
#
#   scripts/services.sh start  [--dir DIR] [--ephemeral]   start (or reuse) both servers
#   scripts/services.sh stop   [--dir DIR]                 stop the servers started in DIR, by pid
#   scripts/services.sh status [--dir DIR]                 say what runs
#   scripts/services.sh env    [--dir DIR]                 print REDIS_URL/DB_URL exports
#
# DIR defaults to .data/services in the repository (git-ignored). --ephemeral turns off Redis
# persistence and PostgreSQL's fsync and allows 300 connections (for tests, whose parallel
# suites each open pools of their own). Ports are chosen free on first start and remembered in DIR/ports.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command="${1:-status}"
shift || true
DIR="$REPO_ROOT/.data/services"
EPHEMERAL=0
while (($#)); do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --ephemeral) EPHEMERAL=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

PG_USER=resume
PG_PASSWORD=resume-local-dev   # local loopback-only development server; not a production secret
PG_DATABASE=resume_processor

# PostgreSQL runs as the postgres user, which must be able to reach its data folder. A checkout
# under a private home (e.g. /root) is not reachable, so the data then lives under /var/tmp.
pg_data_dir() {
  if as_postgres test -x "$DIR" 2>/dev/null; then
    echo "$DIR/pg"
  else
    echo "/var/tmp/resume-processor-$(echo -n "$DIR" | md5sum | cut -c1-12)/pg"
  fi
}

load_ports() {
  if [[ -f "$DIR/ports" ]]; then
    # shellcheck disable=SC1091
    source "$DIR/ports"
  fi
  REDIS_PORT="${REDIS_PORT:-$(free_port)}"
  PG_PORT="${PG_PORT:-$(free_port)}"
  printf 'REDIS_PORT=%s\nPG_PORT=%s\n' "$REDIS_PORT" "$PG_PORT" >"$DIR/ports"
}

write_env() {
  cat >"$DIR/env" <<ENV
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export DB_URL=postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE
export ASYNC_DB_URL=postgresql+asyncpg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE
export REDIS_SERVER_BIN=$(command -v redis-server)
ENV
}

start_redis() {
  if pidfile_alive "$DIR/redis.pid"; then
    log "redis already running (pid $(cat "$DIR/redis.pid"), port $REDIS_PORT)"
    return
  fi
  mkdir -p "$DIR/redis"
  local persistence=(--appendonly yes --appendfsync everysec)
  ((EPHEMERAL)) && persistence=(--appendonly no)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
    --dir "$DIR/redis" --save "" "${persistence[@]}"
  wait_for "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping" 20 || die "redis did not start; see $DIR/redis.log"
  log "redis started on 127.0.0.1:$REDIS_PORT (pid $(cat "$DIR/redis.pid"))"
}

start_postgres() {
  local bin data
  bin="$(postgres_bin)"
  data="$(pg_data_dir)"
  echo "$data" >"$DIR/pg.datadir"
  if [[ -f "$data/postmaster.pid" ]] && kill -0 "$(head -1 "$data/postmaster.pid")" 2>/dev/null; then
    log "postgres already running (pid $(head -1 "$data/postmaster.pid"), port $PG_PORT)"
    return
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    mkdir -p "$data"
    [[ $(id -u) -eq 0 ]] && chown -R postgres:postgres "$(dirname "$data")"
    chmod 700 "$data"
    local pwfile
    pwfile="$(mktemp)"
    echo "$PG_PASSWORD" >"$pwfile"
    [[ $(id -u) -eq 0 ]] && chown postgres "$pwfile"
    as_postgres "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
      || { rm -f "$pwfile"; die "initdb failed; see $DIR/initdb.log"; }
    rm -f "$pwfile"
  fi
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$data -c fsync=$([[ $EPHEMERAL == 1 ]] && echo off || echo on) -c max_connections=$([[ $EPHEMERAL == 1 ]] && echo 300 || echo 100)" \
    start >/dev/null || die "postgres did not start; see $data/server.log"
  # Role and database for the application (idempotent).
  ensure_app_database "$data" "$PG_PORT" "$PG_USER" "$PG_PASSWORD" "$PG_DATABASE"
  log "postgres started on 127.0.0.1:$PG_PORT (data $data)"
}

stop_all() {
  if pidfile_alive "$DIR/redis.pid"; then
    local pid
    pid="$(cat "$DIR/redis.pid")"
    kill "$pid"
    wait_for "! kill -0 $pid" 20 || kill -9 "$pid" 2>/dev/null || true
    log "redis stopped (pid $pid)"
  fi
  if [[ -f "$DIR/pg.datadir" ]]; then
    local data
    data="$(cat "$DIR/pg.datadir")"
    if [[ -f "$data/postmaster.pid" ]] && kill -0 "$(head -1 "$data/postmaster.pid")" 2>/dev/null; then
      as_postgres "$(postgres_bin)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
      log "postgres stopped (data $data)"
    fi
  fi
}

case "$command" in
  start)
    ensure_system_packages
    load_ports
    start_redis
    start_postgres
    write_env
    ;;
  stop) stop_all ;;
  status)
    load_ports
    pidfile_alive "$DIR/redis.pid" && echo "redis: running on 127.0.0.1:$REDIS_PORT" || echo "redis: stopped"
    data="$(cat "$DIR/pg.datadir" 2>/dev/null || pg_data_dir)"
    if [[ -f "$data/postmaster.pid" ]] && kill -0 "$(head -1 "$data/postmaster.pid")" 2>/dev/null; then
      echo "postgres: running on 127.0.0.1:$PG_PORT"
    else
      echo "postgres: stopped"
    fi
    ;;
  env) cat "$DIR/env" ;;
  *) die "usage: services.sh start|stop|status|env [--dir DIR] [--ephemeral]" ;;
esac
