#!/usr/bin/env bash
# Throughput of the built-in MX against Postfix's smtp-sink, both on loopback, both fed the same
# load by Postfix's smtp-source (Debian's postfix package). Prints messages/second for each and
# the ratio. A benchmark prints figures; it asserts nothing.
#
#   scripts/bench-mx.sh [-m MESSAGES] [-s SESSIONS] [-l BYTES] [-r RCPTS]
#
# The MX runs as `mxharness mx serve --policy open --listen 127.0.0.1:PORT` when that command
# exists in a release build; until then it runs through the test-only helper
# `BenchmarkServe.serveForBenchmark` (ReferenceMXTests), built with `swift build -c release -Xswiftc -enable-testing --build-tests`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
find_swift

MESSAGES=5000
SESSIONS=20
LENGTH=4096
RCPTS=1
while getopts "m:s:l:r:" opt; do
    case "$opt" in
        m) MESSAGES=$OPTARG ;;
        s) SESSIONS=$OPTARG ;;
        l) LENGTH=$OPTARG ;;
        r) RCPTS=$OPTARG ;;
        *) die "usage: $0 [-m messages] [-s parallel sessions] [-l message bytes] [-r recipients per message]" ;;
    esac
done

SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
[ -x "$SOURCE" ] && [ -x "$SINK" ] || die "smtp-source/smtp-sink not found: install Debian's postfix package (scripts/lib.sh install_packages does)"

WORK=$(mktemp -d /tmp/mxharness-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {
    local port=$1 tries=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -lt 3000 ] || { tail -n 5 "$WORK"/*.log >&2; die "nothing listens on 127.0.0.1:$port after 300 s"; }
        sleep 0.1
    done
}

# Runs smtp-source against 127.0.0.1:$1 and prints messages/second.
measure() {
    local port=$1 start end
    start=$(date +%s.%N)
    "$SOURCE" -s "$SESSIONS" -m "$MESSAGES" -l "$LENGTH" -r "$RCPTS" \
        -M client.sender.test -f alice@sender.test -t bob@example.test "127.0.0.1:$port" \
        2>"$WORK/source-$port.log" || die "smtp-source failed against port $port: $(tail -3 "$WORK/source-$port.log")"
    end=$(date +%s.%N)
    if [ -s "$WORK/source-$port.log" ]; then
        echo "mxharness: smtp-source reported problems against port $port:" >&2
        head -5 "$WORK/source-$port.log" >&2
    fi
    python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):.1f}')" "$MESSAGES" "$start" "$end"
}

# --- the built-in MX ---
MX_PORT=$(free_port)
echo "building the built-in MX (release)..." >&2
# One set of flags for both paths, so switching between them does not rebuild everything.
FLAGS=(-c release -Xswiftc -enable-testing)
if swift build "${FLAGS[@]}" --product mxharness >"$WORK/build.log" 2>&1 \
    && "$(swift build "${FLAGS[@]}" --show-bin-path)/mxharness" mx serve --help 2>&1 | grep -q -- '--listen'; then
    "$(swift build "${FLAGS[@]}" --show-bin-path)/mxharness" mx serve --policy open --listen "127.0.0.1:$MX_PORT" >"$WORK/mx.log" 2>&1 &
    PIDS+=($!)
    MX_HOW="mxharness mx serve"
else
    swift build "${FLAGS[@]}" --build-tests >"$WORK/build.log" 2>&1 || die "release build failed: $(tail -5 "$WORK/build.log")"
    MXHARNESS_BENCH_LISTEN="127.0.0.1:$MX_PORT" MXHARNESS_BENCH_STOP_FILE="$WORK/stop" MXHARNESS_BENCH_SECONDS=3600 \
        swift test "${FLAGS[@]}" --skip-build --filter 'BenchmarkServe' >"$WORK/mx.log" 2>&1 &
    PIDS+=($!)
    MX_HOW="test helper BenchmarkServe (mxharness mx serve not available yet)"
fi
wait_for_port "$MX_PORT"
MX_RATE=$(measure "$MX_PORT")
touch "$WORK/stop"

# --- Postfix's smtp-sink ---
SINK_PORT=$(free_port)
"$SINK" -u nobody "127.0.0.1:$SINK_PORT" 256 >"$WORK/sink.log" 2>&1 &
PIDS+=($!)
wait_for_port "$SINK_PORT"
SINK_RATE=$(measure "$SINK_PORT")

echo "load: smtp-source -s $SESSIONS -m $MESSAGES -l $LENGTH -r $RCPTS (127.0.0.1)"
echo "built-in MX ($MX_HOW): $MX_RATE messages/s"
echo "Postfix smtp-sink:  $SINK_RATE messages/s"
python3 -c "import sys; print(f'ratio MX/smtp-sink: {float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$MX_RATE" "$SINK_RATE"
