#!/usr/bin/env bash
# Start, stop and inspect a Redis server and a MongoDB wire-protocol server on
# 127.0.0.1, for tests and the demo on machines without Docker.
#
# Run `scripts/services.sh help` for the commands and environment variables.
set -euo pipefail

readonly HOST=127.0.0.1
readonly FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
readonly FERRETDB_MODULE=github.com/FerretDB/FerretDB
readonly REDIS_PORT="${RX_REDIS_PORT:-6379}"
readonly MONGO_PORT="${RX_MONGO_PORT:-27017}"
readonly MONGO_SERVER="${RX_MONGO_SERVER:-auto}"
readonly START_TIMEOUT="${RX_SERVICES_TIMEOUT:-30}"
readonly STOP_TIMEOUT=10
readonly CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/rxdjango-template"
readonly STATE_DIR="${RX_SERVICES_DIR:-$CACHE_ROOT/services}"
readonly FERRETDB_DIR="$CACHE_ROOT/ferretdb-$FERRETDB_VERSION"
readonly FERRETDB_BINARY="$FERRETDB_DIR/ferretdb"
# Contains "go-install" or "embedded", the two build kinds, which accept different flags.
readonly FERRETDB_KIND_FILE="$FERRETDB_DIR/build-kind"

readonly REDIS_PID_FILE="$STATE_DIR/redis-$REDIS_PORT.pid"
readonly REDIS_LOG_FILE="$STATE_DIR/redis-$REDIS_PORT.log"
readonly MONGO_PID_FILE="$STATE_DIR/mongo-$MONGO_PORT.pid"
readonly MONGO_LOG_FILE="$STATE_DIR/mongo-$MONGO_PORT.log"

# A temporary build directory that the EXIT trap removes.
cleanup_dir=""
# File descriptors of the flock(1) lock files, empty while no lock is held.
state_lock_fd=""
build_lock_fd=""
trap 'if [[ -n "$cleanup_dir" ]]; then rm -rf -- "$cleanup_dir"; fi' EXIT

usage() {
    cat <<EOF
Usage: $0 COMMAND

Start local services for tests and the demo when Docker is not available.
Both servers listen on $HOST only.

Commands:
  start           Start redis-server and a MongoDB wire-protocol server unless
                  they already respond to a ping, wait until both respond,
                  then print the export lines for REDIS_URL and MONGO_URL on
                  stdout. Progress messages go to stderr, so
                  eval "\$($0 start)" works.
  stop            Stop the servers that this script started (found by pid file).
                  Servers started by anything else keep running.
  status          Print each service and whether it responds to a ping.
                  Exits with status 1 when a service does not respond.
  env             Print only the export lines:  eval "\$($0 env)"
  build-ferretdb  Build and cache the FerretDB binary without starting anything.
  help            Print this text.

The MongoDB wire-protocol server is mongod when it is on PATH, otherwise
FerretDB $FERRETDB_VERSION with its SQLite backend, built once with the local Go
toolchain and cached in $FERRETDB_DIR.

Environment variables:
  RX_REDIS_PORT        Redis TCP port (default 6379)
  RX_MONGO_PORT        MongoDB TCP port (default 27017)
  RX_MONGO_SERVER      auto, mongod or ferretdb (default auto: mongod if on PATH)
  RX_SERVICES_TIMEOUT  seconds to wait for each server to respond (default 30)
  RX_SERVICES_DIR      directory for pid files, logs and data
                       (default \${XDG_CACHE_HOME:-\$HOME/.cache}/rxdjango-template/services)
  FERRETDB_VERSION     FerretDB release tag to build (default v1.24.2)
EOF
}

log() {
    printf 'services: %s\n' "$*" >&2
}

fail() {
    printf 'services: error: %s\n' "$*" >&2
    exit 1
}

validate_port() {
    local name=$1 value=$2
    if [[ ! "$value" =~ ^[1-9][0-9]{0,4}$ ]] || ((value > 65535)); then
        fail "$name='$value' is invalid; set it to a TCP port number between 1 and 65535."
    fi
}

validate_settings() {
    validate_port RX_REDIS_PORT "$REDIS_PORT"
    validate_port RX_MONGO_PORT "$MONGO_PORT"
    if [[ "$REDIS_PORT" == "$MONGO_PORT" ]]; then
        fail "RX_REDIS_PORT and RX_MONGO_PORT are both $REDIS_PORT; set them to different ports."
    fi
    if [[ ! "$START_TIMEOUT" =~ ^[1-9][0-9]*$ ]]; then
        fail "RX_SERVICES_TIMEOUT='$START_TIMEOUT' is invalid; set it to a whole number of seconds."
    fi
    case "$MONGO_SERVER" in
        auto | mongod | ferretdb) ;;
        *) fail "RX_MONGO_SERVER='$MONGO_SERVER' is invalid; set it to auto, mongod or ferretdb." ;;
    esac
    # The version is part of a cache path and of a `go install` argument.
    if [[ ! "$FERRETDB_VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
        fail "FERRETDB_VERSION='$FERRETDB_VERSION' is invalid; set it to a release tag such as v1.24.2."
    fi
}

redis_url() {
    printf 'redis://%s:%s/0' "$HOST" "$REDIS_PORT"
}

mongo_url() {
    printf 'mongodb://%s:%s' "$HOST" "$MONGO_PORT"
}

print_exports() {
    printf 'export REDIS_URL=%s\n' "$(redis_url)"
    printf 'export MONGO_URL=%s\n' "$(mongo_url)"
}

# Serializes start and stop, so two concurrent runs do not both start a server.
# Without flock(1) the commands run unserialized.
lock_state_dir() {
    mkdir -p "$STATE_DIR"
    if command -v flock >/dev/null; then
        exec {state_lock_fd}>"$STATE_DIR/services.lock"
        flock "$state_lock_fd"
    fi
}

# ---------------------------------------------------------------------------
# Health checks

port_accepts_connections() {
    local port=$1
    # $0 and $1 are expanded by the inner shell.
    # shellcheck disable=SC2016
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$port" 2>/dev/null
}

redis_responds() {
    local port=$1 reply
    if ! command -v redis-cli >/dev/null; then
        fail "redis-cli not found; install it (Debian/Ubuntu: sudo apt-get install redis-tools)."
    fi
    reply=$(timeout 3 redis-cli -h "$HOST" -p "$port" ping 2>/dev/null) || return 1
    [[ "$reply" == PONG ]]
}

# Sends the `ping` command and exits with status 0 when the reply has ok == 1.
# It uses pymongo when the python3 on PATH can import it. Otherwise it sends
# one OP_MSG request (MongoDB wire protocol, opcode 2013) over a plain socket.
# The "$db" in the text is a BSON field name, not a shell variable.
# shellcheck disable=SC2016
readonly MONGO_PING_PYTHON='
import socket
import struct
import sys

host, port = sys.argv[1], int(sys.argv[2])

try:
    import pymongo
    import pymongo.errors
except ImportError:
    pymongo = None

if pymongo is not None:
    client = pymongo.MongoClient(
        host, port, directConnection=True,
        serverSelectionTimeoutMS=2000, connectTimeoutMS=2000,
    )
    try:
        reply = client.admin.command("ping")
    except pymongo.errors.PyMongoError:
        sys.exit(1)
    finally:
        client.close()
    sys.exit(0 if reply.get("ok") == 1 else 1)

OP_MSG = 2013
# BSON sizes of the value types that may appear in a ping reply. Strings,
# documents, arrays and binary data carry their own length prefix instead.
FIXED_VALUE_SIZES = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}


def read_ok(document):
    """Return the numeric top-level "ok" field of a BSON document, or None."""
    position = 4
    while position < len(document) - 1:
        value_type = document[position]
        name_end = document.index(b"\x00", position + 1)
        name = document[position + 1:name_end]
        position = name_end + 1
        if name == b"ok":
            if value_type == 0x01:
                return struct.unpack_from("<d", document, position)[0]
            if value_type == 0x10:
                return struct.unpack_from("<i", document, position)[0]
            if value_type == 0x12:
                return struct.unpack_from("<q", document, position)[0]
            return None
        if value_type in FIXED_VALUE_SIZES:
            position += FIXED_VALUE_SIZES[value_type]
        elif value_type == 0x02:
            position += 4 + struct.unpack_from("<i", document, position)[0]
        elif value_type in (0x03, 0x04):
            position += struct.unpack_from("<i", document, position)[0]
        elif value_type == 0x05:
            position += 5 + struct.unpack_from("<i", document, position)[0]
        else:
            return None
    return None


def receive_exactly(connection, size):
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    return data


# The command document {"ping": 1, "$db": "admin"}.
elements = (
    b"\x10ping\x00" + struct.pack("<i", 1)
    + b"\x02$db\x00" + struct.pack("<i", len("admin") + 1) + b"admin\x00"
)
command = struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"
# flagBits 0, then one section of kind 0 (the command body).
body = struct.pack("<I", 0) + b"\x00" + command
header = struct.pack("<iiii", 16 + len(body), 1, 0, OP_MSG)

try:
    with socket.create_connection((host, port), timeout=2) as connection:
        connection.sendall(header + body)
        length, _, _, opcode = struct.unpack("<iiii", receive_exactly(connection, 16))
        payload = receive_exactly(connection, length - 16)
except (OSError, ValueError, struct.error):
    sys.exit(1)

# The reply is flagBits, then a kind 0 section with the reply document.
if opcode != OP_MSG or len(payload) < 9 or payload[4] != 0:
    sys.exit(1)
document_length = struct.unpack_from("<i", payload, 5)[0]
sys.exit(0 if read_ok(payload[5:5 + document_length]) == 1 else 1)
'

mongo_responds() {
    local port=$1
    if command -v python3 >/dev/null; then
        timeout 5 python3 -c "$MONGO_PING_PYTHON" "$HOST" "$port"
    else
        # NOTE: without python3 this only checks that the port accepts TCP
        # connections, so a server that is still initializing counts as ready.
        port_accepts_connections "$port"
    fi
}

# ---------------------------------------------------------------------------
# Process bookkeeping

# Prints the pid from pid_file when that process runs and its command name is
# one of the given names. PIDs reused by an unrelated process therefore do not count.
running_pid() {
    local pid_file=$1 pid command_name name
    shift
    [[ -f "$pid_file" ]] || return 1
    pid=$(<"$pid_file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    process_is_alive "$pid" || return 1
    command_name=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    for name in "$@"; do
        if [[ "$command_name" == "$name" ]]; then
            printf '%s' "$pid"
            return 0
        fi
    done
    return 1
}

# Returns 0 while the process runs. A zombie counts as exited, because it
# stays visible to kill -0 until its parent reaps it.
process_is_alive() {
    local pid=$1 stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat:0:1}" != Z ]]
}

# Starts a command in a new session with stdin closed and output appended to
# log_file, and writes its pid to pid_file.
start_in_background() {
    local pid_file=$1 log_file=$2
    shift 2
    {
        printf '\n==== %s:' "$(date '+%Y-%m-%d %H:%M:%S')"
        printf ' %q' "$@"
        printf '\n'
    } >>"$log_file"
    # The server must not inherit the lock descriptors, because it would hold
    # the locks for its whole life and block later runs of this script. In a
    # non-interactive shell the background subshell does not lead a process
    # group, so setsid(1) calls setsid(2) and execs without forking, and $! is
    # the server's pid.
    (
        if [[ -n "$state_lock_fd" ]]; then exec {state_lock_fd}>&-; fi
        if [[ -n "$build_lock_fd" ]]; then exec {build_lock_fd}>&-; fi
        exec setsid "$@" </dev/null >>"$log_file" 2>&1
    ) &
    printf '%s\n' "$!" >"$pid_file"
}

print_log_tail() {
    local log_file=$1
    if [[ -s "$log_file" ]]; then
        printf 'services: last lines of %s:\n' "$log_file" >&2
        tail -n 20 "$log_file" | sed 's/^/    /' >&2
    fi
}

# Polls check_function until it succeeds. Fails early when the server process
# exits, and after START_TIMEOUT seconds.
wait_until_ready() {
    local name=$1 check_function=$2 port=$3 pid_file=$4 log_file=$5
    local pid deadline
    pid=$(<"$pid_file")
    # SECONDS counts whole seconds, so the extra second makes the wait at least START_TIMEOUT.
    deadline=$((SECONDS + START_TIMEOUT + 1))
    until "$check_function" "$port"; do
        if ! process_is_alive "$pid"; then
            rm -f -- "$pid_file"
            print_log_tail "$log_file"
            fail "$name (pid $pid) exited during startup; read $log_file for the cause."
        fi
        if ((SECONDS >= deadline)); then
            print_log_tail "$log_file"
            fail "$name (pid $pid) timed out: no ping response on $HOST:$port after ${START_TIMEOUT}s. Read $log_file, then run '$0 stop' or raise RX_SERVICES_TIMEOUT."
        fi
        sleep 0.25
    done
    log "$name: ready on $HOST:$port (pid $pid, log $log_file)"
}

stop_process() {
    local name=$1 pid_file=$2 port=$3
    shift 3
    local pid deadline
    if [[ ! -f "$pid_file" ]]; then
        log "$name: no pid file $pid_file; nothing started by this script on port $port."
        return 0
    fi
    if ! pid=$(running_pid "$pid_file" "$@"); then
        log "$name: the process in $pid_file is not running; removing the stale pid file."
        rm -f -- "$pid_file"
        return 0
    fi

    kill -TERM "$pid"
    deadline=$((SECONDS + STOP_TIMEOUT + 1))
    while process_is_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            log "$name: pid $pid did not exit within ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL."
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f -- "$pid_file"
    log "$name: stopped pid $pid on port $port."
}

# ---------------------------------------------------------------------------
# FerretDB build

ferretdb_is_built() {
    [[ -x "$FERRETDB_BINARY" && -s "$FERRETDB_KIND_FILE" ]]
}

# Builds the release's own command. With FerretDB v1.24.2 `go install` succeeds,
# but the binary panics at startup because build/version/version.txt, a file
# generated by FerretDB's release tooling, is not part of the module on the Go
# module proxy. The `--version` run detects that.
build_with_go_install() {
    local build_dir=$1 build_log=$2
    log "ferretdb: running go install $FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION"
    printf '+ GOBIN=%s go install %s\n' "$build_dir/bin" "$FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION" >>"$build_log"
    if ! GOBIN="$build_dir/bin" go install "$FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION" >>"$build_log" 2>&1; then
        log "ferretdb: go install failed; the output is in $build_log."
        return 1
    fi
    if ! "$build_dir/bin/ferretdb" --version >>"$build_log" 2>&1; then
        log "ferretdb: the binary from go install fails to run 'ferretdb --version'; the output is in $build_log."
        return 1
    fi
    mv -- "$build_dir/bin/ferretdb" "$build_dir/ferretdb"
}

# Builds a small program that runs the embeddable package
# github.com/FerretDB/FerretDB/ferretdb. That package disables telemetry, keeps
# its state in memory and opens no debug or metrics listener.
build_embedded() {
    local build_dir=$1 build_log=$2
    local source_dir="$build_dir/src"
    mkdir -p "$source_dir"
    cat >"$source_dir/main.go" <<'GO'
// Command ferretdb runs FerretDB through its embeddable package.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretdbVersion is set with -ldflags "-X main.ferretdbVersion=...".
var ferretdbVersion = "unknown"

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend handler: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI of an existing data directory, ending with /")
	printVersion := flag.Bool("version", false, "print the FerretDB version and exit")
	flag.Parse()

	if *printVersion {
		fmt.Printf("ferretdb %s (embedded package)\n", ferretdbVersion)
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listenAddr},
		Handler:   *handler,
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		slog.Error("FerretDB failed to start", "error", err)
		os.Exit(1)
	}

	slog.Info("FerretDB listening", "version", ferretdbVersion, "uri", server.MongoDBURI())
	if err := server.Run(ctx); err != nil {
		slog.Error("FerretDB stopped with an error", "error", err)
		os.Exit(1)
	}
	slog.Info("FerretDB stopped")
}
GO
    log "ferretdb: building a program around the embeddable package $FERRETDB_MODULE/ferretdb@$FERRETDB_VERSION"
    # `go get` of the imported package records every requirement and checksum
    # that `go build` needs, without the test-only modules `go mod tidy` would fetch.
    if ! (
        set -x
        cd "$source_dir"
        go mod init rxdjango-template/ferretdb-embedded
        go get "$FERRETDB_MODULE/ferretdb@$FERRETDB_VERSION"
        go build -ldflags "-X main.ferretdbVersion=$FERRETDB_VERSION" -o "$build_dir/ferretdb" .
    ) >>"$build_log" 2>&1; then
        log "ferretdb: building the embedded program failed; the output is in $build_log."
        return 1
    fi
    if ! "$build_dir/ferretdb" --version >>"$build_log" 2>&1; then
        log "ferretdb: the embedded program fails to run 'ferretdb --version'; the output is in $build_log."
        return 1
    fi
}

build_ferretdb() {
    local build_dir build_log build_kind started
    if ferretdb_is_built; then
        log "ferretdb: using the cached binary $FERRETDB_BINARY ($(<"$FERRETDB_KIND_FILE"))."
        return 0
    fi
    if ! command -v go >/dev/null; then
        fail "go not found. FerretDB $FERRETDB_VERSION is built from source and needs Go 1.24 or later (https://go.dev/dl/); alternatively put mongod on PATH or use Docker compose."
    fi

    mkdir -p "$FERRETDB_DIR"
    # Serializes concurrent builds of the same version.
    if command -v flock >/dev/null; then
        exec {build_lock_fd}>"$FERRETDB_DIR/build.lock"
        flock "$build_lock_fd"
        if ferretdb_is_built; then
            log "ferretdb: using $FERRETDB_BINARY, built by a concurrent run."
            return 0
        fi
    fi

    build_dir=$(mktemp -d "$FERRETDB_DIR/build.XXXXXX")
    cleanup_dir=$build_dir
    build_log="$FERRETDB_DIR/build.log"
    : >"$build_log"
    started=$SECONDS
    log "ferretdb: building $FERRETDB_VERSION with $(go version) (first run only, this can take minutes; log $build_log)"

    # GOWORK=off keeps a go.work file in a parent directory out of both builds.
    if GOWORK=off build_with_go_install "$build_dir" "$build_log"; then
        build_kind=go-install
    else
        log "ferretdb: falling back to the embeddable package."
        if ! GOWORK=off build_embedded "$build_dir" "$build_log"; then
            print_log_tail "$build_log"
            fail "could not build FerretDB $FERRETDB_VERSION; read $build_log, or put mongod on PATH, or use Docker compose."
        fi
        build_kind=embedded
    fi

    mv -f -- "$build_dir/ferretdb" "$FERRETDB_BINARY"
    printf '%s\n' "$build_kind" >"$FERRETDB_KIND_FILE"
    rm -rf -- "$build_dir"
    cleanup_dir=""
    log "ferretdb: built $FERRETDB_BINARY ($build_kind) in $((SECONDS - started))s."
}

# ---------------------------------------------------------------------------
# Servers

start_redis() {
    local pid data_dir="$STATE_DIR/redis-$REDIS_PORT"
    if redis_responds "$REDIS_PORT"; then
        if pid=$(running_pid "$REDIS_PID_FILE" redis-server); then
            log "redis: already running on $HOST:$REDIS_PORT (pid $pid, started by this script)."
        else
            log "redis: a server not started by this script already responds on $HOST:$REDIS_PORT; using it."
        fi
        return 0
    fi
    if port_accepts_connections "$REDIS_PORT"; then
        fail "port $REDIS_PORT on $HOST is in use by a process that does not respond to a Redis PING; stop that process or set RX_REDIS_PORT to a free port."
    fi
    if ! command -v redis-server >/dev/null; then
        fail "redis-server not found; install it (Debian/Ubuntu: sudo apt-get install redis-server) or use Docker compose."
    fi

    rm -f -- "$REDIS_PID_FILE"
    mkdir -p "$data_dir"
    log "redis: starting redis-server on $HOST:$REDIS_PORT"
    # Persistence is off, so the data lives only as long as the process.
    start_in_background "$REDIS_PID_FILE" "$REDIS_LOG_FILE" \
        redis-server --bind "$HOST" --port "$REDIS_PORT" --protected-mode yes \
        --save '' --appendonly no --daemonize no --dir "$data_dir"
    wait_until_ready redis redis_responds "$REDIS_PORT" "$REDIS_PID_FILE" "$REDIS_LOG_FILE"
}

# Prints mongod or ferretdb, following RX_MONGO_SERVER.
choose_mongo_server() {
    case "$MONGO_SERVER" in
        mongod)
            command -v mongod >/dev/null ||
                fail "RX_MONGO_SERVER=mongod but mongod is not on PATH; install MongoDB or set RX_MONGO_SERVER=ferretdb."
            printf 'mongod'
            ;;
        ferretdb) printf 'ferretdb' ;;
        auto)
            if command -v mongod >/dev/null; then
                printf 'mongod'
            else
                printf 'ferretdb'
            fi
            ;;
    esac
}

start_mongod() {
    local data_dir="$STATE_DIR/mongod-$MONGO_PORT"
    mkdir -p "$data_dir"
    log "mongo: starting mongod on $HOST:$MONGO_PORT"
    # NOTE: this mongod invocation is untested.
    start_in_background "$MONGO_PID_FILE" "$MONGO_LOG_FILE" \
        mongod --bind_ip "$HOST" --port "$MONGO_PORT" --dbpath "$data_dir"
}

start_ferretdb() {
    local state_dir="$STATE_DIR/ferretdb-$MONGO_PORT"
    local data_dir="$state_dir/data"
    local -a arguments
    if ! ferretdb_is_built; then
        build_ferretdb
    fi

    # FerretDB parses the SQLite URI as a URL, so these characters would change its meaning.
    if [[ "$data_dir" == *[?#%]* ]]; then
        fail "the FerretDB data directory '$data_dir' contains ?, # or %; set RX_SERVICES_DIR to a path without them."
    fi
    mkdir -p "$data_dir"
    arguments=(
        --handler=sqlite
        "--sqlite-url=file:$data_dir/"
        "--listen-addr=$HOST:$MONGO_PORT"
    )
    if [[ "$(<"$FERRETDB_KIND_FILE")" == go-install ]]; then
        # The release command also opens a debug/metrics HTTP listener and may
        # report telemetry; "-" disables the listener.
        arguments+=(--telemetry=disable --debug-addr=- "--state-dir=$state_dir")
    fi

    log "mongo: starting FerretDB $FERRETDB_VERSION (SQLite backend, data in $data_dir) on $HOST:$MONGO_PORT"
    start_in_background "$MONGO_PID_FILE" "$MONGO_LOG_FILE" "$FERRETDB_BINARY" "${arguments[@]}"
}

start_mongo() {
    local server=$1 pid
    if mongo_responds "$MONGO_PORT"; then
        if pid=$(running_pid "$MONGO_PID_FILE" mongod ferretdb); then
            log "mongo: already running on $HOST:$MONGO_PORT (pid $pid, started by this script)."
        else
            log "mongo: a server not started by this script already responds on $HOST:$MONGO_PORT; using it."
        fi
        return 0
    fi
    if port_accepts_connections "$MONGO_PORT"; then
        fail "port $MONGO_PORT on $HOST is in use by a process that does not respond to a MongoDB ping; stop that process or set RX_MONGO_PORT to a free port."
    fi
    if ! command -v python3 >/dev/null; then
        log "mongo: python3 not found, so readiness means only that the port accepts TCP connections."
    fi

    rm -f -- "$MONGO_PID_FILE"
    if [[ "$server" == mongod ]]; then
        start_mongod
    else
        start_ferretdb
    fi
    wait_until_ready mongo mongo_responds "$MONGO_PORT" "$MONGO_PID_FILE" "$MONGO_LOG_FILE"
}

# ---------------------------------------------------------------------------
# Commands

command_start() {
    local mongo_server
    lock_state_dir
    mongo_server=$(choose_mongo_server)
    # Building before anything starts means a failed build leaves no Redis server behind.
    if [[ "$mongo_server" == ferretdb ]] && ! mongo_responds "$MONGO_PORT"; then
        build_ferretdb
    fi
    start_redis
    start_mongo "$mongo_server"
    log "both services respond; export these variables (or run: eval \"\$($0 env)\"):"
    print_exports
}

command_stop() {
    lock_state_dir
    stop_process redis "$REDIS_PID_FILE" "$REDIS_PORT" redis-server
    stop_process mongo "$MONGO_PID_FILE" "$MONGO_PORT" mongod ferretdb
}

# Prints one status line for a service and returns 1 when it does not respond.
print_service_status() {
    local name=$1 url=$2 check_function=$3 port=$4 pid_file=$5
    shift 5
    local pid origin=""
    if pid=$(running_pid "$pid_file" "$@"); then
        origin=" (pid $pid, $(cat "/proc/$pid/comm"), started by this script)"
    fi
    if "$check_function" "$port"; then
        printf '%-6s %-28s responds to ping%s\n' "$name" "$url" "${origin:- (not started by this script)}"
        return 0
    fi
    printf '%-6s %-28s not responding%s\n' "$name" "$url" "$origin"
    return 1
}

command_status() {
    local status=0
    print_service_status redis "$(redis_url)" redis_responds "$REDIS_PORT" "$REDIS_PID_FILE" redis-server || status=1
    print_service_status mongo "$(mongo_url)" mongo_responds "$MONGO_PORT" "$MONGO_PID_FILE" mongod ferretdb || status=1
    return "$status"
}

main() {
    if (($# != 1)); then
        usage >&2
        exit 2
    fi
    case "$1" in
        start)
            validate_settings
            command_start
            ;;
        stop)
            validate_settings
            command_stop
            ;;
        status)
            validate_settings
            command_status
            ;;
        env)
            validate_settings
            print_exports
            ;;
        build-ferretdb)
            validate_settings
            build_ferretdb
            printf '%s\n' "$FERRETDB_BINARY"
            ;;
        help | -h | --help) usage ;;
        *)
            printf 'services: error: unknown command %s\n\n' "'$1'" >&2
            usage >&2
            exit 2
            ;;
    esac
}

# Bash reads a script while running it, and `exit` on the same line stops it
# from reading lines that an edit during a long build may have moved.
main "$@"; exit
