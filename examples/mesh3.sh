#!/usr/bin/env bash
# Starts a 3-server socp mesh on this machine: A (the introducer), B and C joining through A,
# on ports 8771, 8772 and 8773 (so that a server already running on the default 8765 is not
# in the way; SOCP_MESH_PORT=N uses N, N+1, N+2). Data lives in ./mesh-data/{a,b,c}. Ctrl-C
# stops all three.
#   examples/mesh3.sh [path/to/socp-server]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER="${1:-${SOCP_BUILD_DIR:-$ROOT/build}/server/socp-server}"
[ -x "$SERVER" ] || { echo "no socp-server at $SERVER: run scripts/socp build socp-server first" >&2; exit 1; }
DATA="${SOCP_MESH_DATA:-./mesh-data}"
PA="${SOCP_MESH_PORT:-8771}"
PB=$((PA + 1))
PC=$((PA + 2))
mkdir -p "$DATA"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# Each server's lines are prefixed with its name ("A | ...").
"$SERVER" --port "$PA" --data-dir "$DATA/a" > >(sed -u 's/^/A | /') 2>&1 & pids+=($!)
# B and C may start while A is still generating its first identity: they retry with backoff.
"$SERVER" --port "$PB" --data-dir "$DATA/b" --introducer "127.0.0.1:$PA" \
  > >(sed -u 's/^/B | /') 2>&1 & pids+=($!)
"$SERVER" --port "$PC" --data-dir "$DATA/c" --introducer "127.0.0.1:$PA" \
  > >(sed -u 's/^/C | /') 2>&1 & pids+=($!)
echo "mesh running: A ws://127.0.0.1:$PA, B ws://127.0.0.1:$PB, C ws://127.0.0.1:$PC (Ctrl-C stops)" >&2
wait
