#!/usr/bin/env bash
# Starts a 3-server socp mesh on this machine: A on 8765 (the introducer), B on 8766 and C on
# 8767 joining through A. Data lives in ./mesh-data/{a,b,c}. Ctrl-C stops all three.
#   examples/mesh3.sh [path/to/socp-server]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER="${1:-${SOCP_BUILD_DIR:-$ROOT/build}/server/socp-server}"
[ -x "$SERVER" ] || { echo "no socp-server at $SERVER: run scripts/socp build first" >&2; exit 1; }
DATA="${SOCP_MESH_DATA:-./mesh-data}"
mkdir -p "$DATA"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$SERVER" --port 8765 --data-dir "$DATA/a" & pids+=($!)
# B and C may start while A is still generating its first identity: they retry with backoff.
"$SERVER" --port 8766 --data-dir "$DATA/b" --introducer 127.0.0.1:8765 & pids+=($!)
"$SERVER" --port 8767 --data-dir "$DATA/c" --introducer 127.0.0.1:8765 & pids+=($!)
echo "mesh running: A ws://127.0.0.1:8765, B ws://127.0.0.1:8766, C ws://127.0.0.1:8767 (Ctrl-C stops)" >&2
wait
