#!/usr/bin/env bash
# Throughput of the built-in MX against Postfix's smtp-sink, both on loopback, both fed the same
# load by Postfix's smtp-source (Debian's postfix package). Prints messages/second for each run,
# the median of each side and the ratio of the medians. A benchmark prints figures; it asserts nothing.
#
#   scripts/bench-mx.sh [-m MESSAGES] [-s SESSIONS] [-l BYTES] [-r RCPTS] [-n RUNS] [-d | -c]
#   MXHARNESS=path/to/mxharness scripts/bench-mx.sh ...   (that binary instead of a release build here)
#
# Two loads, each reported with its own ratio: smtp-source's default, a new connection for every
# message (connection set-up and teardown dominate), and `-d`, several messages per connection
# (the SMTP dialogue and the message text dominate). `-c` or `-d` runs only that one.
#
# The MX is `mxharness mx serve --policy open` from a release build. With policy open it still looks
# up the client's PTR and its forward confirmation at connect (to record them, as Postfix does), so
# it is given a resolver that answers at once: an unbound started here on 127.0.0.1 with
# `local-zone: "." static` (127.0.0.1 gets unbound's built-in `localhost` PTR and A), so DNS is not
# what is measured. smtp-sink looks nothing up. Runs alternate between the two servers so that
# noise on a shared machine hits both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${MXHARNESS:-}" ] || find_swift

MESSAGES=3000
SESSIONS=10
LENGTH=4096
RCPTS=1
RUNS=5
LOADS=("" "-d")
while getopts "m:s:l:r:n:dc" opt; do
    case "$opt" in
        m) MESSAGES=$OPTARG ;;
        s) SESSIONS=$OPTARG ;;
        l) LENGTH=$OPTARG ;;
        r) RCPTS=$OPTARG ;;
        n) RUNS=$OPTARG ;;
        d) LOADS=("-d") ;;
        c) LOADS=("") ;;
        *) die "usage: $0 [-m messages] [-s parallel sessions] [-l message bytes] [-r recipients per message] [-n runs per server] [-d: only several messages per connection | -c: only a connection per message]" ;;
    esac
done

SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
[ -x "$SOURCE" ] && [ -x "$SINK" ] || die "smtp-source/smtp-sink not found: install Debian's postfix package (scripts/lib.sh install_packages does)"
command -v unbound >/dev/null || die "unbound not found: install Debian's unbound package (scripts/lib.sh install_packages does)"

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

wait_for_tcp() {
    local port=$1 tries=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -lt 300 ] || { tail -n 5 "$WORK"/*.log >&2; die "nothing listens on 127.0.0.1:$port after 30 s"; }
        sleep 0.1
    done
}

# Runs smtp-source against 127.0.0.1:$1 (served by process $2) and prints messages/second and the
# server's CPU time per message in microseconds (user + system, all its threads, from /proc).
measure() {
    local port=$1 pid=$2 start end cpu0 cpu1
    cpu0=$(cpu_ticks "$pid")
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # REUSE is empty or one flag
    "$SOURCE" $REUSE -s "$SESSIONS" -m "$MESSAGES" -l "$LENGTH" -r "$RCPTS" \
        -M client.sender.test -f alice@sender.test -t bob@example.test "127.0.0.1:$port" \
        2>"$WORK/source-$port.log" || die "smtp-source failed against port $port: $(tail -3 "$WORK/source-$port.log")"
    end=$(date +%s.%N)
    cpu1=$(cpu_ticks "$pid")
    if [ -s "$WORK/source-$port.log" ]; then
        echo "mxharness: smtp-source reported problems against port $port:" >&2
        head -5 "$WORK/source-$port.log" >&2
    fi
    python3 -c "import sys; m, s, e, c0, c1, hz = map(float, sys.argv[1:]); print(f'{m / (e - s):.1f} {(c1 - c0) / hz / m * 1e6:.0f}')" \
        "$MESSAGES" "$start" "$end" "$cpu0" "$cpu1" "$(getconf CLK_TCK)"
}

cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

spread() {
    python3 -c "import sys; v = [float(a) for a in sys.argv[1:]]; print(f'{min(v):.0f}-{max(v):.0f}')" "$@"
}

median() {
    python3 -c "import statistics, sys; print(f'{statistics.median(float(a) for a in sys.argv[1:]):.1f}')" "$@"
}

# --- a resolver that answers at once ---
DNS_PORT=$(free_port)
cat >"$WORK/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $DNS_PORT
  do-daemonize: no
  username: ""
  chroot: ""
  pidfile: ""
  directory: "$WORK"
  use-syslog: no
  logfile: "$WORK/unbound.log"
  num-threads: 1
  so-reuseport: no
  outgoing-port-avoid: "0-65535"
  outgoing-port-permit: "61000-61255"
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "." static
EOF
unbound -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
PIDS+=($!)
tries=0
until dig +short +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 -x 127.0.0.1 PTR 2>/dev/null | grep -q localhost; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { tail -n 5 "$WORK/unbound.log" >&2; die "the benchmark's unbound does not answer on 127.0.0.1@$DNS_PORT"; }
    sleep 0.1
done

# --- the built-in MX (MXHARNESS=path runs that binary instead, to weigh two builds against each other) ---
if [ -z "${MXHARNESS:-}" ]; then
    echo "building the built-in MX (release)..." >&2
    swift build -c release --product mxharness >"$WORK/build.log" 2>&1 || die "release build failed: $(tail -5 "$WORK/build.log")"
    MXHARNESS="$(swift build -c release --show-bin-path)/mxharness"
fi
[ -x "$MXHARNESS" ] || die "no mxharness binary at $MXHARNESS"
MX_PORT=$(free_port)
"$MXHARNESS" mx serve --policy open --listen "127.0.0.1:$MX_PORT" --resolver "127.0.0.1@$DNS_PORT" >"$WORK/mx.log" 2>&1 &
MX_PID=$!
PIDS+=("$MX_PID")
wait_for_tcp "$MX_PORT"

# --- Postfix's smtp-sink ---
SINK_PORT=$(free_port)
"$SINK" -u nobody "127.0.0.1:$SINK_PORT" 256 >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
PIDS+=("$SINK_PID")
wait_for_tcp "$SINK_PORT"

echo "built-in MX: mxharness mx serve --policy open, logging each session's decision as it does; its connect lookups"
echo "  (PTR 127.0.0.1 -> localhost, A localhost) go to an unbound on 127.0.0.1@$DNS_PORT with local-zone \".\" static that"
echo "  answers at once, so DNS is not what is measured; the MX's own resolver client (libunbound behind its answer cache)"
echo "  is part of its figures"
echo "CPU: each server's user + system time per message, all its threads (the MX's include its resolver's threads)"
for REUSE in "${LOADS[@]}"; do
    echo
    echo "load: smtp-source $REUSE -s $SESSIONS -m $MESSAGES -l $LENGTH -r $RCPTS (127.0.0.1), $RUNS runs per server, alternating;" \
        "$([ -n "$REUSE" ] && echo "several messages per connection" || echo "a new connection for every message")"
    MX_RATES=()
    SINK_RATES=()
    MX_CPUS=()
    SINK_CPUS=()
    for run in $(seq 1 "$RUNS"); do
        figures=$(measure "$MX_PORT" "$MX_PID")
        read -r rate cpu <<<"$figures"
        MX_RATES+=("$rate")
        MX_CPUS+=("$cpu")
        figures=$(measure "$SINK_PORT" "$SINK_PID")
        read -r rate cpu <<<"$figures"
        SINK_RATES+=("$rate")
        SINK_CPUS+=("$cpu")
        echo "run $run: built-in MX ${MX_RATES[-1]} messages/s (${MX_CPUS[-1]} us CPU/message), smtp-sink ${SINK_RATES[-1]} messages/s (${SINK_CPUS[-1]} us CPU/message)"
    done
    MX_MEDIAN=$(median "${MX_RATES[@]}")
    SINK_MEDIAN=$(median "${SINK_RATES[@]}")
    MX_CPU=$(median "${MX_CPUS[@]}")
    SINK_CPU=$(median "${SINK_CPUS[@]}")
    echo "built-in MX (median): $MX_MEDIAN messages/s, $MX_CPU us CPU/message (runs $(spread "${MX_RATES[@]}"))"
    echo "Postfix smtp-sink (median): $SINK_MEDIAN messages/s, $SINK_CPU us CPU/message (runs $(spread "${SINK_RATES[@]}"))"
    # Runs are paired (the MX's run, then smtp-sink's): how often the MX was the faster of a pair.
    python3 -c "import sys; n = len(sys.argv) // 2; m, s = sys.argv[1:n + 1], sys.argv[n + 1:]; print(f'built-in MX faster in {sum(float(a) > float(b) for a, b in zip(m, s))} of {n} paired runs')" \
        "${MX_RATES[@]}" "${SINK_RATES[@]}"
    python3 -c "import sys; r, c = float(sys.argv[1]) / float(sys.argv[2]), float(sys.argv[4]) / float(sys.argv[3]); print(f'ratio MX/smtp-sink ({sys.argv[5]}): {r:.2f} by messages/s, {c:.2f} by CPU per message (smtp-sink CPU / MX CPU)')" \
        "$MX_MEDIAN" "$SINK_MEDIAN" "$MX_CPU" "$SINK_CPU" "$([ -n "$REUSE" ] && echo "several messages per connection" || echo "a connection per message")"
done
