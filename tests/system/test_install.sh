#!/bin/sh
# Install test: `cmake --install` the build into a temp prefix, then build and run
# examples/consumer against it with find_package(socp) (CMAKE_PREFIX_PATH), and check that
# pkg-config finds socp too (PKG_CONFIG_PATH) and that a program links with its flags.
#   test_install.sh <build-dir> <source-dir>
set -eu

BUILD=${1:?usage: test_install.sh <build-dir> <source-dir>}
SRC=${2:?usage: test_install.sh <build-dir> <source-dir>}
TMP=$(mktemp -d /tmp/socp-install-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
PREFIX=$TMP/prefix

FAILED=0
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# A failure that does not stop the later checks (reported, exit 1 at the end).
soft_fail() {
  echo "FAIL: $*" >&2
  FAILED=1
}

echo "== install into $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install"; }
[ -f "$PREFIX/include/socp/crypto.h" ] || fail "public headers not installed"
CONFIG=$(find "$PREFIX" -name socpConfig.cmake | head -n1)
[ -n "$CONFIG" ] || fail "socpConfig.cmake not installed"
PC=$(find "$PREFIX" -name socp.pc | head -n1)
[ -n "$PC" ] || fail "socp.pc not installed"
if find "$PREFIX/include" -name '*.h' | xargs grep -l 'rapidjson' >/dev/null 2>&1; then
  fail "an installed header includes RapidJSON (it must stay private)"
fi

# Alice's public key as PEM, and the fingerprint it must have (tests/vectors/keys.json).
/usr/bin/python3 - "$SRC/tests/vectors/keys.json" "$TMP" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["keys"]["alice"]
open(sys.argv[2] + "/alice.pub.pem", "w").write(k["public_pem"])
open(sys.argv[2] + "/alice.fpr", "w").write(k["sha256_fingerprint_hex"])
PY
EXPECTED="fingerprint: $(cat "$TMP/alice.fpr")"

echo "== find_package(socp): configure + build examples/consumer"
cmake -S "$SRC/examples/consumer" -B "$TMP/consumer" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_BUILD_TYPE=Release >"$TMP/configure.log" 2>&1 ||
  { cat "$TMP/configure.log" >&2; fail "configuring the consumer"; }
cmake --build "$TMP/consumer" -j2 >"$TMP/build.log" 2>&1 ||
  { cat "$TMP/build.log" >&2; fail "building the consumer"; }
OUT=$("$TMP/consumer/socp_consumer" "$TMP/alice.pub.pem") || fail "socp_consumer exited with $?"
echo "$OUT"
[ "$OUT" = "$EXPECTED" ] || fail "expected '$EXPECTED'"

echo "== pkg-config"
export PKG_CONFIG_PATH="$(dirname "$PC")"
FLAGS=$(pkg-config --cflags --libs socp) || fail "pkg-config --cflags --libs socp"
echo "pkg-config: $FLAGS"
# The .pc file is relocatable (prefix=${pcfiledir}/../..): compare resolved directories.
INC_DIR=$(pkg-config --cflags-only-I socp | sed 's/^ *-I//; s/ *$//')
LIB_DIR=$(pkg-config --libs-only-L socp | sed 's/^ *-L//; s/ *$//')
[ "$(realpath "$INC_DIR")" = "$(realpath "$PREFIX/include")" ] ||
  soft_fail "pkg-config --cflags does not point at $PREFIX/include (got $INC_DIR)"
[ "$(realpath "$LIB_DIR")" = "$(realpath "$(dirname "$(dirname "$PC")")")" ] ||
  soft_fail "pkg-config --libs does not point at the installed library directory (got $LIB_DIR)"
case "$FLAGS" in
  *-lsocp*) ;;
  *) soft_fail "pkg-config --libs does not name -lsocp" ;;
esac
# libsocp is a static library whose dependencies are public in socp.pc: the plain flags link
# (what the README promises), and so do the --static ones. One compile, two links.
STATIC=$(pkg-config --libs --static socp) || fail "pkg-config --static socp"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"${CXX:-c++}" -std=c++17 -c -o "$TMP/consumer_pc.o" "$SRC/examples/consumer/main.cpp" \
  $(pkg-config --cflags socp) >"$TMP/pc-build.log" 2>&1 ||
  { tail -n 15 "$TMP/pc-build.log" >&2; fail "cannot compile with pkg-config --cflags socp"; }
for MODE in plain static; do
  if [ "$MODE" = static ]; then PCLIBS=$STATIC; else PCLIBS=$(pkg-config --libs socp); fi
  # shellcheck disable=SC2086
  if "${CXX:-c++}" -o "$TMP/consumer_pc" "$TMP/consumer_pc.o" $PCLIBS >"$TMP/pc-link.log" 2>&1; then
    OUT=$("$TMP/consumer_pc" "$TMP/alice.pub.pem") || soft_fail "consumer_pc ($MODE) exited with $?"
    [ "$OUT" = "$EXPECTED" ] || soft_fail "pkg-config ($MODE) build printed '$OUT', expected '$EXPECTED'"
  else
    tail -n 15 "$TMP/pc-link.log" >&2
    soft_fail "cannot link a program with pkg-config --libs socp ($MODE)"
  fi
done

# A plain `cmake --install` installs the programs and the library, never system files.
[ -x "$PREFIX/bin/socp-server" ] || soft_fail "socp-server not installed"
if find "$PREFIX" -name '*.service' -o -name 'socp-server.conf' | grep -q .; then
  soft_fail "cmake --install installed packaging-only files (unit or /etc config)"
fi

[ "$FAILED" = 0 ] || fail "install test: failures above"
echo "install test: ok"
