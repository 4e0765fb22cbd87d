# Shared by the scripts (source it; not a command). Sourcing only defines functions,
# moves to the repository root and installs the EXIT trap; stack_up starts servers.
# Everything started through these functions is stopped by the trap, and only that:
# servers that were already running (someone else's) are left alone.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pids=()     # background processes started here
dbs=()      # databases created here, dropped on exit
stop_up=()  # "PROFILE SERVER" pairs this script started
base_url="" # the stack's DATABASE_URL (database "switchyard")

lib_cleanup() {
  local pid entry db
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for db in "${dbs[@]}"; do
    psql "$base_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  for entry in "${stop_up[@]}"; do
    # shellcheck disable=SC2086 # "PROFILE SERVER" splits into two arguments
    scripts/stack down $entry || true
  done
  pids=() dbs=() stop_up=()
}
trap lib_cleanup EXIT

# stack_up PROFILE: starts the profile's PostgreSQL and Redis when they are not
# running, remembering which ones this script started; exports DATABASE_URL and
# REDIS_URL, and sets base_url and log_dir (.data/PROFILE).
stack_up() {
  local profile=$1 status
  # status exits 1 unless both servers run: read its lines, not its status.
  status=$(scripts/stack status "$profile" || true)
  grep -q '^redis: running' <<<"$status" || stop_up+=("$profile redis")
  grep -q '^postgres: running' <<<"$status" || stop_up+=("$profile postgres")
  scripts/stack up "$profile"
  eval "$(scripts/stack env "$profile")"
  export DATABASE_URL REDIS_URL
  base_url=$DATABASE_URL
  log_dir=.data/$profile
  mkdir -p "$log_dir"
}

# random_hex: 32 random bytes, hex-encoded (tokens and secrets of local runs).
random_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# free_port P: the first port from P up that nothing listens on.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# port_busy HOST:PORT: whether something listens there.
port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# build CMD...: go build each command into bin/: the services' from services/CMD, the
# measurement tools' from tools/cmd/CMD.
build() {
  mkdir -p bin
  local c
  for c in "$@"; do
    case "$c" in
    admin | evaluator) go build -o "bin/$c" "./services/$c/cmd/$c" ;;
    *) go build -o "bin/$c" "./tools/cmd/$c" ;;
    esac
  done
}

# new_db NAME: creates database NAME_<pid> on the stack's server, dropped on exit; sets
# new_db_name and new_db_url. (Not in $(...): the list of what to drop lives here.)
new_db() {
  new_db_name="$1_$$"
  psql "$base_url" -qc "CREATE DATABASE $new_db_name" >/dev/null
  dbs+=("$new_db_name")
  new_db_url=${base_url/\/switchyard\?//$new_db_name?}
}

# fresh_db NAME: a new database, dropped on exit; exports DATABASE_URL, REDIS_URL and
# the secrets the admin service needs, then migrates with bin/admin.
fresh_db() {
  new_db "$1"
  DATABASE_URL=$new_db_url
  export DATABASE_URL REDIS_URL LOG_LEVEL=${LOG_LEVEL:-info}
  ADMIN_TOKEN=$(random_hex)
  JWT_SECRET=$(random_hex)
  export ADMIN_TOKEN JWT_SECRET
  bin/admin migrate up >/dev/null
}

# wait_healthy ADDR [PID LOG]: until GET http://ADDR/healthz answers (10 s at most);
# ADDR is host:port or a loopback port. With PID, gives up early when that process
# exits, showing the end of LOG.
wait_healthy() {
  local addr=$1 pid=${2:-} log=${3:-}
  [[ $addr == *:* ]] || addr=127.0.0.1:$addr
  for _ in $(seq 1 100); do
    curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "the process meant to answer on $addr exited:" >&2
      [ -n "$log" ] && tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "nothing healthy on $addr" >&2
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

# prepare_template: a database holding the current schema, migrated once per run,
# which the tests copy (testinfra.MigratedDB) instead of each migrating; exports
# SWITCHYARD_TEST_TEMPLATE. Needs stack_up first.
prepare_template() {
  build admin
  new_db template
  DATABASE_URL=$new_db_url bin/admin migrate up >/dev/null
  export SWITCHYARD_TEST_TEMPLATE=$new_db_name
}

# test_env: the SWITCHYARD_TEST_* variables the integration tests read, from the stack
# started by stack_up; DATABASE_URL and REDIS_URL are unset so no test reads them.
test_env() {
  export SWITCHYARD_TEST_DATABASE_URL="$base_url" SWITCHYARD_TEST_REDIS_URL="$REDIS_URL" SWITCHYARD_INTEGRATION=1
  unset DATABASE_URL REDIS_URL
}

# ensure_chromium: the browser tests (pkg/testinfra/browser) drive Debian's chromium
# package, never a browser a tool downloads: installs it with apt-get when it is
# missing (running apt-get update when the install fails, as the package lists may be
# stale or absent, and trying again: another run may hold apt's locks), prints its
# version and exports SWITCHYARD_CHROMIUM, the binary they start. fonts-liberation (a
# recommendation, not a dependency) gives screenshots their fonts.
ensure_chromium() {
  local bin try apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
  [ "$(id -u)" = 0 ] || apt=(sudo "${apt[@]}")
  bin=$(command -v chromium || true)
  if [ -z "$bin" ]; then
    echo "chromium: installing Debian's package" >&2
    for try in 1 2 3 4; do
      "${apt[@]}" install -y --no-install-recommends chromium fonts-liberation >&2 && break
      [ "$try" = 4 ] && return 1
      "${apt[@]}" update >&2 || sleep 5
    done
    bin=$(command -v chromium) || return 1
  fi
  echo "chromium: $bin ($("$bin" --version 2>/dev/null || echo "does not run"))" >&2
  export SWITCHYARD_CHROMIUM=$bin
}

# ensure_web_deps: the npm packages that browser tests serve to Chromium (tools/e2e/web:
# the official OpenFeature web SDK and OFREP web provider), installed with npm ci
# exactly as package-lock.json pins them, when node_modules is missing or older than
# the lockfile; their install scripts are not run (they have none to run). A lock on
# the lockfile keeps two runs from installing at once. Needs Node and npm.
ensure_web_deps() {
  local dir=tools/e2e/web
  command -v npm >/dev/null || { echo "web: npm not found (Node 20 and npm install $dir)" >&2; return 1; }
  (
    flock 9
    stamp=$dir/node_modules/.package-lock.json # npm writes it last
    if [ "$stamp" -nt "$dir/package-lock.json" ] && [ "$stamp" -nt "$dir/package.json" ]; then exit 0; fi
    echo "web: npm ci in $dir" >&2
    cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  ) 9<"$dir/package-lock.json"
}
