#!/bin/sh
# Package test: `cpack -G DEB` in the build directory, then look inside the .deb with
# dpkg-deb: the files (programs, unit, config, man page; no headers or static library), the
# control data (dependencies from dpkg-shlibdeps, conffiles, maintainer scripts), and that the
# shipped config file is accepted by the shipped server (`socp-server check`).
#   test_package.sh <build-dir>
set -eu

BUILD=${1:?usage: test_package.sh <build-dir>}
TMP=$(mktemp -d /tmp/socp-package-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

FAILED=0
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
soft_fail() {
  echo "FAIL: $*" >&2
  FAILED=1
}

for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install dpkg-dev cmake)"
done

echo "== cpack -G DEB"
(cd "$BUILD" && cpack -G DEB -B "$TMP/out" >"$TMP/cpack.log" 2>&1) ||
  { cat "$TMP/cpack.log" >&2; fail "cpack -G DEB"; }
DEB=$(find "$TMP/out" -maxdepth 1 -name 'socp_*.deb' | head -n1)
[ -n "$DEB" ] || { cat "$TMP/cpack.log" >&2; fail "no socp_*.deb produced"; }
echo "package: $(basename "$DEB")"

echo "== files (dpkg-deb -c)"
dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' >"$TMP/files"
cat "$TMP/files"
has_file() {  # mode-prefix path
  grep -q "^$1[^ ]* [^ ]* \./$2\$" "$TMP/files" || soft_fail "package lacks $2 (mode $1)"
}
has_file -rwxr-xr-x usr/bin/socp-server
has_file -rwxr-xr-x usr/bin/socp-cli
has_file -rw-r--r-- usr/lib/systemd/system/socp-server.service
has_file -rw-r--r-- etc/socp/socp-server.conf
has_file -rw-r--r-- usr/share/man/man8/socp-server.8.gz
if grep -E '\./usr/(local|include)|\.a$|\.cmake$|\.pc$' "$TMP/files"; then
  soft_fail "the package ships development files or /usr/local paths"
fi

echo "== control (dpkg-deb -I)"
dpkg-deb -I "$DEB" >"$TMP/info"
cat "$TMP/info"
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for dep in libc6 libstdc++6 libssl3 libsodium23 liblmdb0 libwebsockets17 libedit2 adduser; do
  case "$DEPENDS" in
    *"$dep"*) ;;
    *) soft_fail "Depends lacks $dep (got: $DEPENDS)" ;;
  esac
done
[ "$(dpkg-deb -f "$DEB" Package)" = socp ] || soft_fail "package name is not socp"
dpkg-deb -e "$DEB" "$TMP/control"
[ "$(cat "$TMP/control/conffiles")" = /etc/socp/socp-server.conf ] ||
  soft_fail "conffiles is not exactly /etc/socp/socp-server.conf"
for script in postinst prerm postrm; do
  [ -x "$TMP/control/$script" ] || soft_fail "no executable $script"
  sh -n "$TMP/control/$script" || soft_fail "$script has a syntax error"
done
grep -q 'adduser --system' "$TMP/control/postinst" || soft_fail "postinst creates no system user"

echo "== the unit and the shipped config"
dpkg-deb -x "$DEB" "$TMP/root"
UNIT="$TMP/root/usr/lib/systemd/system/socp-server.service"
for line in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'User=socp' 'StateDirectory=socp' \
  'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
  'PrivateDevices=yes' 'SystemCallFilter=@system-service'; do
  grep -qxF "$line" "$UNIT" || soft_fail "unit lacks '$line'"
done
grep -q '^RestrictAddressFamilies=.*AF_UNIX' "$UNIT" ||
  soft_fail "unit must allow AF_UNIX (sd_notify) in RestrictAddressFamilies"
if command -v systemd-analyze >/dev/null 2>&1; then
  # The unit as systemd reads it, pointing at the package's binary: any output (an unknown
  # directive is only a warning) fails the test.
  sed "s|/usr/bin/socp-server|$TMP/root/usr/bin/socp-server|g" "$UNIT" >"$TMP/socp-server.service"
  if ! systemd-analyze verify --man=no "$TMP/socp-server.service" >"$TMP/verify.log" 2>&1 ||
    [ -s "$TMP/verify.log" ]; then
    cat "$TMP/verify.log" >&2
    soft_fail "systemd-analyze verify of the unit"
  fi
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The packaged config as shipped, with only the data directory and port moved for the test.
if ! "$TMP/root/usr/bin/socp-server" check --config "$TMP/root/etc/socp/socp-server.conf" \
  --data-dir "$TMP/data" --port "$PORT" >"$TMP/check.log" 2>&1; then
  cat "$TMP/check.log" >&2
  soft_fail "the shipped config is refused by the shipped server"
fi
gzip -dc "$TMP/root/usr/share/man/man8/socp-server.8.gz" | grep -q '^\.TH SOCP-SERVER 8' ||
  soft_fail "man page is not roff"

[ "$FAILED" = 0 ] || fail "package test: failures above"
echo "package test: ok"
