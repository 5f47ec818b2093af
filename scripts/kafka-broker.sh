#!/usr/bin/env bash
# The Kafka-protocol broker the Kafka stage's tests and benchmark run against: tansu 0.6.0 (a broker in
# Rust; no Apache Kafka build installs here), in memory, on loopback.
#   scripts/kafka-broker.sh install        installs tansu once (8-13 min on 2 cores, cached in ~/.cargo/bin)
#   scripts/kafka-broker.sh start [PORT]   installs tansu if needed, starts it, waits for the port, prints
#                                          SRU_NER_TEST_KAFKA=127.0.0.1:PORT
#   scripts/kafka-broker.sh stop           stops the broker this script started
# The pid and log live in target/tansu.{pid,log}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/target"
pidfile="$root/target/tansu.pid"
logfile="$root/target/tansu.log"
tansu="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"

install_tansu() {
    if [ ! -x "$tansu" ] || ! "$tansu" --version 2>/dev/null | grep -q "0.6.0"; then
        echo "== installing tansu 0.6.0 (once; 8 to 13 minutes on 2 cores)" >&2
        cargo install tansu@0.6.0 --locked --features dynostore >&2
    fi
}

case "${1:-}" in
install)
    install_tansu
    ;;
start)
    port="${2:-19092}"
    install_tansu
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        sleep 1
    fi
    "$tansu" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine memory://tansu/ >"$logfile" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "SRU_NER_TEST_KAFKA=127.0.0.1:$port"
            exit 0
        fi
        kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "tansu exited; see $logfile" >&2; cat "$logfile" >&2; exit 1; }
        sleep 0.1
    done
    echo "tansu did not open port $port within 10 s; see $logfile" >&2
    exit 1
    ;;
stop)
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    ;;
*)
    echo "usage: $0 install | start [PORT] | stop" >&2
    exit 2
    ;;
esac
