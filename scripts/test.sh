#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts a private Redis and PostgreSQL (and
# moto, for the AWS tests, and scripts/topology.sh's TLS and Sentinel servers) on free loopback ports, runs the Swift tests, the Python compat suite and
# the short chaos suite (scripts/chaos.sh --short, with servers of its own), then stops the servers
# it started, by pid. Usage: scripts/test.sh [extra swift test arguments]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_system_packages

# A private services folder, reachable by the postgres user, removed afterwards.
SERVICES_DIR="$(mktemp -d /tmp/resume-processor-test.XXXXXX)"
chmod 755 "$SERVICES_DIR"
cleanup() {
  local status=$?
  bash "$REPO_ROOT/scripts/services.sh" stop --dir "$SERVICES_DIR" || true
  bash "$REPO_ROOT/scripts/moto.sh" stop --dir "$SERVICES_DIR/moto" || true
  bash "$REPO_ROOT/scripts/topology.sh" stop --dir "$SERVICES_DIR/topology" || true
  rm -rf "$SERVICES_DIR" "$(cat "$SERVICES_DIR/pg.datadir" 2>/dev/null | xargs -r dirname)" 2>/dev/null || true
  exit $status
}
trap cleanup EXIT INT TERM

bash "$REPO_ROOT/scripts/services.sh" start --dir "$SERVICES_DIR" --ephemeral
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"
export TEST_REDIS_URL="$REDIS_URL" TEST_DB_URL="$DB_URL" REDIS_SERVER_BIN

# TLS Redis (certificates made now), a master/replica/Sentinel group and a TLS-only PostgreSQL:
# the TOPO_* variables of Tests/RedisTests/RedisTLSTests, the Sentinel and PostgreSQL TLS tests.
mkdir -p "$SERVICES_DIR/topology"
bash "$REPO_ROOT/scripts/topology.sh" start --dir "$SERVICES_DIR/topology"
# shellcheck disable=SC1091
source "$SERVICES_DIR/topology/env"

# moto (S3 and a scripted Textract) for Tests/AWSTests: TEST_MOTO_URL, TEST_MOTO_AUTH_*.
bash "$REPO_ROOT/scripts/moto.sh" start --dir "$SERVICES_DIR/moto"
# shellcheck disable=SC1091
source "$SERVICES_DIR/moto/env"

# all-MiniLM-L6-v2 for Tests/SentenceEmbeddingTests (fetched once into .models/).
TEST_EMBEDDING_MODEL="$(ensure_embedding_model)"
export TEST_EMBEDDING_MODEL

log "building (debug, with tests)"
swift build --build-tests 2>&1 | tee "$SERVICES_DIR/build.log" | grep -E "warning:|error:" || true
if grep -q "error:" "$SERVICES_DIR/build.log"; then die "build failed"; fi

log "running swift tests"
if (($#)); then
  swift test --skip-build "$@"
else
  # The CPU-bound suites — the decoder fuzzers (PickleFuzzTests, RQFuzzTests, …) and the local
  # embedding model's (SentenceEmbeddingTests: parity and the ranking set) — run on their own, after
  # the rest: in parallel with everything else they starve the cooperative pool for tens of seconds
  # and the tests that check deadlines and timeouts measure the starvation instead of our code.
  swift test --skip-build --skip "FuzzTests|SentenceEmbeddingTests|StartupWaitTests|RedisSentinelTests"
  log "running the decoder fuzz tests and the embedding model tests"
  swift test --skip-build --filter "FuzzTests|SentenceEmbeddingTests"
  # The tests that start executables and servers (services.sh) or fail a Sentinel group over:
  # heavy on two cores, they would turn the main pass's deadline checks into load measurements.
  log "running the start-up and Sentinel tests"
  swift test --skip-build --filter "StartupWaitTests|RedisSentinelTests"
fi

# The compat and chaos suites test the queue, not the ranking: their workers (debug builds, up to
# 2 000 jobs) use the hashed embedder so their timing does not depend on the model's speed.
log "running the Python RQ compat suite (rq 2.12.0 and 3.0.0)"
LOCAL_EMBEDDER=hashed SWIFT_WORKER_BIN="$(swift build --show-bin-path)/worker" "$REPO_ROOT/compat/run.sh"

# The short chaos suite: its own Redis (AOF) and PostgreSQL, faults injected, nothing may be lost.
log "running the short chaos suite"
LOCAL_EMBEDDER=hashed bash "$REPO_ROOT/scripts/chaos.sh" --short --bin-dir "$(swift build --show-bin-path)"
