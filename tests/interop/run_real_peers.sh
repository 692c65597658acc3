#!/usr/bin/env bash
# run_real_peers.sh — a loopback mixed mesh of socp-servers and real peer implementations, for
# manual interop checks (not CI). It only *runs* a checkout you fetched yourself; it never
# fetches, builds or changes the peer's code (wrappers set the peer's constants at run time,
# in a scratch directory). Every process it starts is stopped by its pid on exit.
#
#   tests/interop/run_real_peers.sh g43|g56|g17 PEER_CHECKOUT [BUILD_DIR]
#   tests/interop/run_real_peers.sh mixed G43_CHECKOUT G17_CHECKOUT [G56_CHECKOUT]
#     (BUILD_DIR defaults to build/; for mixed, set SOCP_BUILD_DIR to change it)
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
# (g56: also `ivan`, a G56 client on A). `mixed` runs ONE mesh of A, B, a G43 server (all three
# joined through the G43 introducer) and a G17 server (joined through A), with `alice` on A,
# G43's client (`g43-user`) and G17's client (`g17-user`); with a G56 checkout also a G56
# server joined through A and its client (`g56-user`). Keys are the test fixtures (tests/vectors,
# tests/fixtures), never generated — except G17's server, which makes its own at start.
# Drive the users by writing lines to the FIFOs in the run directory, e.g.
#   echo '/list' > RUN/alice.in         (socp-cli --json; events in RUN/alice.out)
#   echo '/tell alice hi' > RUN/peer-user.in   (the peer's client; output in RUN/peer-user.out)
# (mixed: RUN/g43-user.in, RUN/g17-user.in, RUN/g56-user.in.)
# It runs until SIGINT/SIGTERM (or SOCP_REAL_PEERS_SECONDS), then stops everything.
set -euo pipefail

DIALECT=${1:?usage: $0 g43|g56|g17 PEER_CHECKOUT [BUILD_DIR] | mixed G43_CHECKOUT G17_CHECKOUT [BUILD_DIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1  # nothing written into the peers' checkouts
# checkout DIALECT DIR: the code directory to run, after checking the commit and the folder.
checkout() {
  local want sub head
  case $1 in
    g43) want=2d43f16 sub=clean_version ;;
    g56) want=dcd74ea sub=. ;;
    g17) want=71600a9 sub=integration ;;
    *) echo "unknown dialect $1" >&2; exit 1 ;;
  esac
  head=$(git -C "$2" rev-parse HEAD)
  [[ $head == $want* ]] || { echo "$2 is at $head, not $want: refusing to run it" >&2; exit 1; }
  local code; code=$(cd "$2/$sub" && pwd)
  [[ $code != *backdoor* ]] || { echo "refusing to run a backdoor folder" >&2; exit 1; }
  echo "$code"
}
if [[ $DIALECT == mixed ]]; then
  CODE43=$(checkout g43 "$(cd "${2:?G43 checkout}" && pwd)")
  CODE17=$(checkout g17 "$(cd "${3:?G17 checkout}" && pwd)")
  CODE56=
  [[ -z ${4:-} ]] || CODE56=$(checkout g56 "$(cd "$4" && pwd)")
  BUILD=${SOCP_BUILD_DIR:-$ROOT/build}
else
  CODE=$(checkout "$DIALECT" "$(cd "${2:?peer checkout}" && pwd)")
  BUILD=${3:-$ROOT/build}
fi
SERVER_BIN=$BUILD/server/socp-server
CLI_BIN=$BUILD/client/socp-cli
[[ -x $SERVER_BIN && -x $CLI_BIN ]] || { echo "build socp-server and socp-cli in $BUILD" >&2; exit 1; }

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
identity() {  # identity NAME: sets ID_<NAME>, KEY_<NAME> (the key others allowlist)
  mkdir -p "$RUN/data-$1"
  local ident; ident=$("$SERVER_BIN" --data-dir "$RUN/data-$1" --print-identity)
  printf -v "ID_$1" '%s' "$(awk '/^server_id/{print $2}' <<<"$ident")"
  printf -v "KEY_$1" '%s' "$(awk '/^public_key/{print $2}' <<<"$ident")"
}
socp_server() {  # socp_server NAME PORT ARGS... (identity NAME first)
  local name=$1 port=$2; shift 2
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

# ---- the peers' processes ---------------------------------------------------------------------
g43_introducer() {  # g43_introducer PORT (CODE43): introducer.py binds 0.0.0.0:8765; serve its
  # handler on 127.0.0.1:PORT instead.
  mkdir -p "$RUN/g43"
  start g43-introducer "$RUN/g43" $PY -u -c "import sys, asyncio, websockets
sys.path.insert(0, '$CODE43'); import introducer
async def main():
    async with websockets.serve(introducer.handle_join, '127.0.0.1', $1): await asyncio.Future()
asyncio.run(main())"
  until $PY -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do sleep 0.2; done
}
G43_KEY=server2 G43_USER_KEY=dave G17_USER_KEY=frank
g43_server() {  # g43_server PORT INTRODUCER_PORT (CODE43), with the fixture key G43_KEY
  key "$G43_KEY" priv-pem >"$RUN/g43/server_priv.pem"
  start g43-server "$RUN/g43" env MY_HOST=127.0.0.1 MY_PORT="$1" $PY -u -c "import sys, asyncio
sys.path.insert(0, '$CODE43'); import server
server.INTRODUCER_HOST, server.INTRODUCER_PORT = '127.0.0.1', $2
server.load_server_keys('server_priv.pem'); asyncio.run(server.main())"
  wait_for "$RUN/g43-server.log" "Assigned server_id" 60
}
g43_user() {  # g43_user FIFO PORT (CODE43): G43's client: signup then login, with the fixture
  # key instead of a generated one and the password read from stdin (getpass needs a terminal).
  mkdir -p "$RUN/$1"; key "$G43_USER_KEY" priv-pem >"$RUN/$1/fixture.pem"
  fifo_start "$1" "$RUN/$1" env SERVER_HOST=127.0.0.1 SERVER_PORT="$2" $PY -u -c "import sys, asyncio, getpass
sys.path.insert(0, '$CODE43'); import client
from cryptography.hazmat.primitives.serialization import load_pem_private_key
client.generate_rsa4096 = lambda: load_pem_private_key(open('fixture.pem','rb').read(), None)
getpass.getpass = lambda prompt='': input(prompt)
client.input = input
print('signup'); asyncio.run(client.signup()); asyncio.run(client.login())"
  echo "$1: first write a username (bob43), then the password twice (signup, login)"
}
g17_server() {  # g17_server PORT SOCP_PORT (CODE17): joins through that socp-server; sets SID17
  mkdir -p "$RUN/g17"
  # G17 keeps its database next to its code (database.py:76-81): run a copy in the run
  # directory, so that the checkout stays as it is and every run starts with no users.
  cp -r "$CODE17" "$RUN/g17/code"; rm -f "$RUN/g17/code/secure_messaging.db"
  CODE17=$RUN/g17/code
  SID17=${SID17:-$($PY -c 'import uuid; print(uuid.uuid4())')}; PH17=$(free_port)
  start g17-server "$RUN/g17" $PY -u "$CODE17/run_server.py" --bind "ws://127.0.0.1:$1" \
    --server-id "$SID17" --http "127.0.0.1:$PH17" --peer "ws://127.0.0.1:$2"
  # Its HTTP directory logs "[DIR] listening on" first; the WebSocket server comes after.
  wait_for "$RUN/g17-server.log" "Server $SID17 listening on" 60
}
g17_user() {  # g17_user FIFO PORT (CODE17): G17's client, with the fixture key instead of a
  # generated one at /register.
  mkdir -p "$RUN/$1"; key "$G17_USER_KEY" priv-pem >"$RUN/$1/fixture.pem"
  fifo_start "$1" "$RUN/$1" env HTTP_DIR="http://127.0.0.1:$PH17" $PY -u -c "import sys, asyncio
sys.path.insert(0, '$CODE17'); import client
from cryptography.hazmat.primitives.serialization import load_pem_private_key
k = load_pem_private_key(open('fixture.pem','rb').read(), None)
client.generate_rsa4096_keypair = lambda: (k, k.public_key())
asyncio.run(client.Client().run_client(host='127.0.0.1', port=$2))"
  echo "$1: /register, a username, a password; then /login NAME, password"
}
G43_PUB() { key "$G43_KEY" pub-der-b64url; }
g56_server() {  # g56_server PORT SOCP_PORT SOCP_KEY (CODE56): joins through that socp-server,
  # whose key bootstrap.yaml must give in PEM form (base64url), the only form G56 parses.
  mkdir -p "$RUN/g56/server_keys" "$RUN/shim"
  key server4 priv-pem >"$RUN/g56/server_keys/pem.pem"; key server4 pub-pem >"$RUN/g56/server_keys/pem.pub.pem"
  : >"$RUN/g56/server_keys/pem"
  printf 'bootstrap_servers:\n  - host: "127.0.0.1"\n    port: %s\n    pubkey: "%s"\n' \
    "$2" "$($PY -c "import sys; sys.path.insert(0,'$HERE'); import peer_base as b; print(b.pem_b64url(b.parse_der_only('$3')))")" \
    >"$RUN/g56/bootstrap.yaml"
  start g56-server "$RUN/g56" $PY -u -c "import sys, asyncio
from pathlib import Path
sys.path.insert(0, '$CODE56'); from server.server import SOCPServer
from shared.log import configure_root_logging
configure_root_logging()
SOCPServer._bootstrap_path = lambda self: Path('$RUN/g56/bootstrap.yaml')
asyncio.run(SOCPServer(storage_path=Path('$RUN/g56'), host='127.0.0.1', port=$1).start_server())"
  # G56's client needs aioconsole (not a Debian package): a two-line stand-in on PYTHONPATH.
  printf 'import asyncio\nasync def ainput(prompt=""):\n    return await asyncio.to_thread(input, prompt)\n' >"$RUN/shim/aioconsole.py"
}
g56_user() {  # g56_user FIFO KEY PORT (CODE56): G56's client with a fixture key
  local uid; uid=$($PY -c 'import uuid; print(uuid.uuid4())')
  mkdir -p "$RUN/$1/.socp"
  key "$2" priv-pem >"$RUN/$1/.socp/$uid.pem"; key "$2" pub-pem >"$RUN/$1/.socp/$uid.pub.pem"
  fifo_start "$1" "$RUN/$1" env PYTHONPATH="$CODE56:$RUN/shim" COLUMNS=200 \
    $PY -u -m client.socp_cli run --server "ws://127.0.0.1:$3" --user-id "$uid"
  echo "$1 user id $uid"
}

PA=$(free_port); PB=$(free_port); PP=$(free_port)
identity A; identity B
case $DIALECT in
g43)
  # G43's introducer introduces nobody and G43's frames do not name its dialect: A and B
  # allowlist each other and the G43 server, and name its dialect (by address).
  PI=$(free_port); g43_introducer "$PI"
  G43=(--allow-server "$(G43_PUB)" --peer-dialect "127.0.0.1:$PP=g43")
  socp_server A "$PA" --introducer "127.0.0.1:$PI" --allow-server "$KEY_B" "${G43[@]}"
  socp_server B "$PB" --introducer "127.0.0.1:$PI" --allow-server "$KEY_A" "${G43[@]}"
  g43_server "$PP" "$PI"
  alice "$PA"
  g43_user peer-user "$PP"
  ;;
g56)
  CODE56=$CODE
  socp_server A "$PA" --compat-unsigned-hello
  socp_server B "$PB" --introducer "127.0.0.1:$PA"
  g56_server "$PP" "$PA" "$KEY_A"
  alice "$PA"
  g56_user peer-gina erin "$PP"
  g56_user peer-ivan frank "$PA"  # a G56 client on A (--compat-unsigned-hello)
  ;;
g17)
  CODE17=$CODE
  socp_server A "$PA"
  socp_server B "$PB" --introducer "127.0.0.1:$PA"
  g17_server "$PP" "$PA"
  alice "$PA"
  g17_user peer-user "$PP"
  echo "g17 server id $SID17"
  ;;
mixed)
  # One mesh: A, B and the G43 server join through G43's introducer (it introduces nobody:
  # A and B allowlist each other and the G43 server, and name its dialect); G17 joins
  # through A (A's join policy is open on loopback) and B allowlists G17's id.
  PI=$(free_port); P17=$(free_port); g43_introducer "$PI"
  SID17=$($PY -c 'import uuid; print(uuid.uuid4())')
  G43=(--allow-server "$(G43_PUB)" --peer-dialect "127.0.0.1:$PP=g43")
  socp_server A "$PA" --introducer "127.0.0.1:$PI" --allow-server "$KEY_B" "${G43[@]}"
  socp_server B "$PB" --introducer "127.0.0.1:$PI" --allow-server "$KEY_A" "${G43[@]}" \
    --allow-server "$SID17"
  g43_server "$PP" "$PI"
  g17_server "$P17" "$PA"
  alice "$PA"
  g43_user g43-user "$PP"
  g17_user g17-user "$P17"
  echo "g43 server ws://127.0.0.1:$PP; g17 server $SID17 ws://127.0.0.1:$P17"
  if [[ -n $CODE56 ]]; then
    P56=$(free_port); g56_server "$P56" "$PA" "$KEY_A"
    g56_user g56-user erin "$P56"
    echo "g56 server ws://127.0.0.1:$P56"
  fi
  ;;
esac
echo "socp A=$ID_A ws://127.0.0.1:$PA  B=$ID_B ws://127.0.0.1:$PB  peer ws://127.0.0.1:$PP  run dir $RUN"
echo "$RUN" >"${SOCP_REAL_PEERS_RUNFILE:-/dev/null}"
# In the background, so that SIGTERM/SIGINT run the cleanup at once (bash runs a trap only
# after the foreground command ends).
if [[ -n ${SOCP_REAL_PEERS_SECONDS:-} ]]; then sleep "$SOCP_REAL_PEERS_SECONDS" & PIDS+=($!); wait $!; else wait; fi
