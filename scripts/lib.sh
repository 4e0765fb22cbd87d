# Shared by scripts/propagation, scripts/bench and scripts/chaos (source it; not a
# command): the PostgreSQL and Redis of the stack profile $PROFILE (default test), a
# fresh database, and the services built into bin/ and started on free loopback ports.
# Everything started here is stopped by the EXIT trap, and only that.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
profile=${PROFILE:-test}

status=$(scripts/stack status "$profile" || true)
had_pg=$(grep -c '^postgres: running' <<<"$status" || true)
had_redis=$(grep -c '^redis: running' <<<"$status" || true)
pids=()
db=""
lib_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$db" ] && psql "$base_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  [ "$had_redis" = 1 ] || scripts/stack down "$profile" redis
  [ "$had_pg" = 1 ] || scripts/stack down "$profile" postgres
}
trap lib_cleanup EXIT
scripts/stack up "$profile"
eval "$(scripts/stack env "$profile")"
base_url=$DATABASE_URL
log_dir=.data/$profile
mkdir -p "$log_dir" bin

# free_port P: the first port from P up that nothing listens on.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# build CMD...: go build each services/*/cmd/CMD into bin/.
build() {
  for c in "$@"; do
    case "$c" in
    admin) go build -o bin/admin ./services/admin/cmd/admin ;;
    *) go build -o "bin/$c" "./services/evaluator/cmd/$c" ;;
    esac
  done
}

# fresh_db NAME: a new database, dropped on exit; exports DATABASE_URL, REDIS_URL and
# the secrets the admin service needs, then migrates.
fresh_db() {
  db="$1_$$"
  psql "$base_url" -qc "CREATE DATABASE $db" >/dev/null
  export DATABASE_URL=${base_url/\/switchyard\?//$db?}
  export REDIS_URL LOG_LEVEL=${LOG_LEVEL:-info}
  ADMIN_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export ADMIN_TOKEN JWT_SECRET
  bin/admin migrate up >/dev/null
}

# wait_healthy PORT: until GET /healthz answers (10 s at most).
wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "nothing healthy on port $1" >&2
  return 1
}

# start NAME PORT CMD...: runs CMD with HTTP_ADDR on PORT and its operations listener
# (OPS_ADDR: /metrics, /debug/pprof/) on the first free port from PORT+100, in the
# background, logging to $log_dir/NAME.log; sets last_pid and last_ops (host:port). The
# services' default operations ports would collide between runs and with make run.
start() {
  local name=$1 port=$2
  shift 2
  last_ops=127.0.0.1:$(free_port $((port + 100)))
  HTTP_ADDR=127.0.0.1:$port OPS_ADDR=$last_ops "$@" 2>>"$log_dir/$name.log" &
  last_pid=$!
  pids+=("$last_pid")
  echo "$name: http://127.0.0.1:$port, metrics and profiles on http://$last_ops" >&2
}
