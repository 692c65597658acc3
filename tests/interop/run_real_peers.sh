#!/usr/bin/env bash
# run_real_peers.sh — a loopback mixed mesh of socp-servers and ONE real peer implementation,
# for manual interop checks (not CI). It only *runs* a checkout you fetched yourself; it never
# fetches, builds or changes the peer's code (wrappers set the peer's constants at run time,
# in a scratch directory). Every process it starts is stopped by its pid on exit.
#
#   tests/interop/run_real_peers.sh g43|g56|g17 PEER_CHECKOUT [BUILD_DIR]
#
# PEER_CHECKOUT is the repository root at the commit the interop notes name:
#   g43  mjzero0/Decentralised-chat          @2d43f16   (runs clean_version/ only)
#   g56  fengyuan213/Secure-Programming-Group @dcd74ea  (no later commit: those are backdoored)
#   g17  aniketrattan/secure-programming-group-17 @71600a9 (runs integration/ only)
# Never point it at a backdoor* folder. Needs Debian's python3-websockets python3-cryptography
# python3-typer python3-rich python3-argon2 python3-colorama python3-yaml; /usr/bin/python3.
#
# Mesh: socp-server A (and B joined through A, except g43 where both join the G43
# introducer), the peer's server P, a socp-cli user `alice` on A and the peer's client on P
# (g56: also `ivan`, a G56 client on A). Keys are the test fixtures (tests/vectors,
# tests/fixtures), never generated — except G17's server, which makes its own at start.
# Drive the users by writing lines to the FIFOs in the run directory, e.g.
#   echo '/list' > RUN/alice.in         (socp-cli --json; events in RUN/alice.out)
#   echo '/tell alice hi' > RUN/peer-user.in   (the peer's client; output in RUN/peer-user.out)
# It runs until SIGINT/SIGTERM (or SOCP_REAL_PEERS_SECONDS), then stops everything.
set -euo pipefail

DIALECT=${1:?usage: $0 g43|g56|g17 PEER_CHECKOUT [BUILD_DIR]}
PEER=$(cd "${2:?peer checkout}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${3:-$ROOT/build}
SERVER_BIN=$BUILD/server/socp-server
CLI_BIN=$BUILD/client/socp-cli
PY=/usr/bin/python3
[[ -x $SERVER_BIN && -x $CLI_BIN ]] || { echo "build socp-server and socp-cli in $BUILD" >&2; exit 1; }

case $DIALECT in
  g43) WANT=2d43f16 SUB=clean_version ;;
  g56) WANT=dcd74ea SUB=. ;;
  g17) WANT=71600a9 SUB=integration ;;
  *) echo "unknown dialect $DIALECT" >&2; exit 1 ;;
esac
HEAD=$(git -C "$PEER" rev-parse HEAD)
[[ $HEAD == $WANT* ]] || { echo "$PEER is at $HEAD, not $WANT: refusing to run it" >&2; exit 1; }
CODE=$(cd "$PEER/$SUB" && pwd)
[[ $CODE != *backdoor* ]] || { echo "refusing to run a backdoor folder" >&2; exit 1; }

RUN=$(mktemp -d /tmp/socp-realpeers-$DIALECT-XXXX)
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped ${#PIDS[@]} processes; logs kept in $RUN"
}
trap cleanup EXIT INT TERM

free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# key NAME FORMAT: a fixture key (FORMAT: priv-pem | pub-der-b64url | pub-pem | pub-pem-b64url)
key() {
  $PY - "$1" "$2" "$ROOT/tests" <<'EOF'
import base64, json, sys
sys.path.insert(0, sys.argv[3] + "/system")
import socp_rsa
name, fmt, tests = sys.argv[1:4]
keys = json.load(open(tests + "/vectors/keys.json"))["keys"]
keys.update(json.load(open(tests + "/fixtures/keys-extra.json"))["keys"])
v = keys[name]
pem = v if isinstance(v, str) else v["private_pkcs8_pem"]
pub = socp_rsa.PrivateKey.from_pem(pem).public
b = base64.b64encode(pub.der()).decode()
pub_pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(b[i:i+64] for i in range(0, len(b), 64)) + "\n-----END PUBLIC KEY-----\n"
print({"priv-pem": pem.strip(), "pub-der-b64url": pub.b64url(), "pub-pem": pub_pem.strip(),
       "pub-pem-b64url": socp_rsa.b64url(pub_pem.encode())}[fmt])
EOF
}
start() {  # start NAME CWD CMD... : background, output to RUN/NAME.log
  local name=$1 cwd=$2; shift 2
  (cd "$cwd" && exec "$@") >"$RUN/$name.log" 2>&1 &
  PIDS+=($!); echo "$name pid $! log $RUN/$name.log"
}
fifo_start() {  # fifo_start NAME CWD CMD... : stdin from RUN/NAME.in, output RUN/NAME.out
  local name=$1 cwd=$2; shift 2
  mkfifo "$RUN/$name.in"
  (cd "$cwd" && exec "$@" <"$RUN/$name.in") >"$RUN/$name.out" 2>"$RUN/$name.err" &
  PIDS+=($!)
  exec {fd}>"$RUN/$name.in"  # keep the FIFO open so the process never sees end of input
  echo "$name pid ${PIDS[-1]} input $RUN/$name.in output $RUN/$name.out"
}
wait_for() {  # wait_for FILE REGEX SECONDS
  local end=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    ((SECONDS < end)) || { echo "timed out waiting for /$2/ in $1" >&2; return 1; }
    sleep 0.2
  done
}
socp_server() {  # socp_server NAME PORT ARGS... ; sets ID_<NAME>, KEY_<NAME>
  local name=$1 port=$2; shift 2
  mkdir -p "$RUN/data-$name"
  local ident; ident=$("$SERVER_BIN" --data-dir "$RUN/data-$name" --print-identity)
  printf -v "ID_$name" '%s' "$(awk '/^server_id/{print $2}' <<<"$ident")"
  printf -v "KEY_$name" '%s' "$(awk '/^public_key/{print $2}' <<<"$ident")"
  start "socp-$name" "$RUN" "$SERVER_BIN" --port "$port" --data-dir "$RUN/data-$name" \
    --log-level debug "$@"
  wait_for "$RUN/socp-$name.log" "listening on" 60
}
PASSWORD_FILE=$RUN/password.txt; echo "correct horse battery staple" >"$PASSWORD_FILE"
key alice priv-pem >"$RUN/alice.pem"; chmod 600 "$RUN/alice.pem" "$PASSWORD_FILE"
alice() {  # alice PORT: socp-cli user on a socp-server
  fifo_start alice "$RUN" "$CLI_BIN" register --name alice --server "127.0.0.1:$1" \
    --import-key "$RUN/alice.pem" --home "$RUN/home" --password-file "$PASSWORD_FILE" --json
}

PA=$(free_port); PB=$(free_port); PP=$(free_port)
case $DIALECT in
g43)
  PI=$(free_port)
  mkdir -p "$RUN/g43"; key server2 priv-pem >"$RUN/g43/server_priv.pem"
  # introducer.py binds 0.0.0.0:8765; serve its handler on 127.0.0.1 instead.
  start g43-introducer "$RUN/g43" $PY -u -c "import sys, asyncio, websockets
sys.path.insert(0, '$CODE'); import introducer
async def main():
    async with websockets.serve(introducer.handle_join, '127.0.0.1', $PI): await asyncio.Future()
asyncio.run(main())"
  until $PY -c "import socket; socket.create_connection(('127.0.0.1', $PI), 1)" 2>/dev/null; do sleep 0.2; done
  socp_server A "$PA" --introducer "127.0.0.1:$PI"
  socp_server B "$PB" --introducer "127.0.0.1:$PI"
  start g43-server "$RUN/g43" env MY_HOST=127.0.0.1 MY_PORT="$PP" $PY -u -c "import sys, asyncio
sys.path.insert(0, '$CODE'); import server
server.INTRODUCER_HOST, server.INTRODUCER_PORT = '127.0.0.1', $PI
server.load_server_keys('server_priv.pem'); asyncio.run(server.main())"
  alice "$PA"
  # G43's client: signup then login, with the fixture key instead of a generated one and
  # the password read from stdin (getpass needs a terminal).
  mkdir -p "$RUN/g43-user"; key dave priv-pem >"$RUN/g43-user/fixture.pem"
  fifo_start peer-user "$RUN/g43-user" env SERVER_HOST=127.0.0.1 SERVER_PORT="$PP" $PY -u -c "import sys, asyncio, getpass
sys.path.insert(0, '$CODE'); import client
from cryptography.hazmat.primitives.serialization import load_pem_private_key
client.generate_rsa4096 = lambda: load_pem_private_key(open('fixture.pem','rb').read(), None)
getpass.getpass = lambda prompt='': input(prompt)
client.input = input
print('signup'); asyncio.run(client.signup()); asyncio.run(client.login())"
  echo "peer-user: first write: bob43, then the password twice (signup, login)"
  ;;
g56)
  socp_server A "$PA" --compat-unsigned-hello
  socp_server B "$PB" --introducer "127.0.0.1:$PA"
  mkdir -p "$RUN/g56/server_keys" "$RUN/shim"
  key server4 priv-pem >"$RUN/g56/server_keys/pem.pem"; key server4 pub-pem >"$RUN/g56/server_keys/pem.pub.pem"
  : >"$RUN/g56/server_keys/pem"
  printf 'bootstrap_servers:\n  - host: "127.0.0.1"\n    port: %s\n    pubkey: "%s"\n' \
    "$PA" "$($PY -c "import sys; sys.path.insert(0,'$HERE'); import peer_base as b; print(b.pem_b64url(b.parse_der_only('$KEY_A')))")" \
    >"$RUN/g56/bootstrap.yaml"
  start g56-server "$RUN/g56" $PY -u -c "import sys, asyncio
from pathlib import Path
sys.path.insert(0, '$CODE'); from server.server import SOCPServer
from shared.log import configure_root_logging
configure_root_logging()
SOCPServer._bootstrap_path = lambda self: Path('$RUN/g56/bootstrap.yaml')
asyncio.run(SOCPServer(storage_path=Path('$RUN/g56'), host='127.0.0.1', port=$PP).start_server())"
  alice "$PA"
  # G56's client needs aioconsole (not a Debian package): a two-line stand-in on PYTHONPATH.
  printf 'import asyncio\nasync def ainput(prompt=""):\n    return await asyncio.to_thread(input, prompt)\n' >"$RUN/shim/aioconsole.py"
  for u in gina:erin:$PP ivan:frank:$PA; do
    IFS=: read -r name kname port <<<"$u"
    uid=$($PY -c 'import uuid; print(uuid.uuid4())')
    mkdir -p "$RUN/g56-$name/.socp"
    key "$kname" priv-pem >"$RUN/g56-$name/.socp/$uid.pem"; key "$kname" pub-pem >"$RUN/g56-$name/.socp/$uid.pub.pem"
    fifo_start "peer-$name" "$RUN/g56-$name" env PYTHONPATH="$CODE:$RUN/shim" COLUMNS=200 \
      $PY -u -m client.socp_cli run --server "ws://127.0.0.1:$port" --user-id "$uid"
    echo "peer-$name user id $uid"
  done
  ;;
g17)
  socp_server A "$PA"
  socp_server B "$PB" --introducer "127.0.0.1:$PA"
  mkdir -p "$RUN/g17"
  SID=$($PY -c 'import uuid; print(uuid.uuid4())'); PH=$(free_port)
  start g17-server "$RUN/g17" $PY -u "$CODE/run_server.py" --bind "ws://127.0.0.1:$PP" \
    --server-id "$SID" --http "127.0.0.1:$PH" --peer "ws://127.0.0.1:$PA"
  wait_for "$RUN/g17-server.log" "listening on" 60
  alice "$PA"
  # G17's client, with the fixture key instead of a generated one at /register.
  key frank priv-pem >"$RUN/g17/fixture.pem"
  fifo_start peer-user "$RUN/g17" env HTTP_DIR="http://127.0.0.1:$PH" $PY -u -c "import sys, asyncio
sys.path.insert(0, '$CODE'); import client
from cryptography.hazmat.primitives.serialization import load_pem_private_key
k = load_pem_private_key(open('fixture.pem','rb').read(), None)
client.generate_rsa4096_keypair = lambda: (k, k.public_key())
asyncio.run(client.Client().run_client(host='127.0.0.1', port=$PP))"
  echo "g17 server id $SID; peer-user: /register, a username, a password; then /login NAME, password"
  ;;
esac
echo "socp A=$ID_A ws://127.0.0.1:$PA  B=$ID_B ws://127.0.0.1:$PB  peer ws://127.0.0.1:$PP  run dir $RUN"
echo "$RUN" >"${SOCP_REAL_PEERS_RUNFILE:-/dev/null}"
if [[ -n ${SOCP_REAL_PEERS_SECONDS:-} ]]; then sleep "$SOCP_REAL_PEERS_SECONDS"; else wait; fi
