#!/bin/sh
# tests/pkg_test.sh SOURCE_DIR BUILD_DIR - the Debian package, end to end, on this machine:
# configures a Release tree in BUILD_DIR (kept between runs, so a re-run is incremental), builds
# only the installed binary, packs it with `cpack -G DEB`, installs the .deb with apt-get,
# checks the unit with `systemd-analyze verify`, runs `reporta init` twice and `reporta serve`
# from /usr/bin (GET /healthz, the web app at / and its vendor leaflet.css), stops the server
# with SIGTERM (it must exit 0), and purges the package. Installing needs root: skipped (77)
# without it, and when a reporta package or /usr/bin/reporta is already there (never purge an
# operator's install). One run at a time per machine (flock). About a minute on 2 cores.
set -eu

src=$1
build=$2
lock=/run/lock/reporta-pkg_test.lock

[ "$(id -u)" = 0 ] || { echo "pkg_deb: needs root to install the package: skipped"; exit 77; }
exec 9>"$lock"
flock -w 600 9 || { echo "pkg_deb: $lock is held by another run"; exit 1; }
if dpkg-query -W -f '${Status}' reporta 2>/dev/null | grep -q installed || [ -e /usr/bin/reporta ]
then
    echo "pkg_deb: reporta is already installed here; not touching it: skipped"
    exit 77
fi
# the flags' environment variables (REPORTA_DB, REPORTA_WEB, ...) of the caller must not leak in
# shellcheck disable=SC2046 # one word per variable name is the point
unset $(env | sed -n 's/^\(REPORTA_[A-Z_]*\)=.*/\1/p')

tmp=$(mktemp -d)
chmod 755 "$tmp" # apt's _apt user reads the .deb from here
pid=
installed=
cleanup() {
    rc=$?
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    if [ -n "$installed" ]; then
        apt-get purge -y -q reporta >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; rc=1; }
    fi
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "pkg_deb: $*" >&2
    exit 1
}
step() {
    echo "== pkg_deb: $* ($(($(date +%s) - t0)) s)"
}
t0=$(date +%s)

if ! command -v systemd-analyze >/dev/null; then
    step "installing systemd for systemd-analyze"
    apt-get install -y -q --no-install-recommends systemd >"$tmp/apt.log" 2>&1 ||
        { cat "$tmp/apt.log"; fail "cannot install systemd"; }
fi

step "Release build of the installed binary in $build"
# CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack's preinstall step must not build the whole suite
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >"$tmp/configure.log" 2>&1 ||
    { cat "$tmp/configure.log"; fail "configure failed"; }
cmake --build "$build" -j2 --target reporta_installed >"$tmp/build.log" 2>&1 ||
    { tail -50 "$tmp/build.log"; fail "build failed"; }

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$tmp/deb") >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(ls "$tmp"/deb/reporta_*.deb)
dpkg-deb -f "$deb" Depends | grep -q 'libc6' || fail "no shlibdeps Depends in $deb"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/bin/reporta /usr/lib/systemd/system/reporta.service /etc/default/reporta \
    /usr/share/reporta/areas/panama/corregimientos.geojson.xz \
    /usr/share/reporta/areas/panama/NOTICE /usr/share/reporta/web/vendor.map \
    /usr/share/reporta/web/app/report.html; do
    grep -qx "$f" "$tmp/files" || fail "$deb lacks $f"
done
# every library file the app loads, where server/web.c looks for it
# shellcheck disable=SC2013 # vendor.map's paths have no spaces (server/web.c checks names)
for f in $(sed -n 's/^[^#][^ ]* *\([^ ]*\)$/\1/p' "$src/web/vendor.map"); do
    grep -qx "/usr/share/reporta/web/$f" "$tmp/files" || fail "$deb lacks web/$f (vendor.map)"
done
echo "$(basename "$deb"): $(wc -c <"$deb") bytes, $(grep -vc '/$' "$tmp/files") files"

step "apt-get install"
installed=1
cp "$deb" "$tmp/"
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "$tmp/$(basename "$deb")" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install failed"; }
[ -x /usr/bin/reporta ] || fail "/usr/bin/reporta is not there after the install"
! grep -q "$src" /usr/bin/reporta || fail "the installed binary names the source tree $src"

step "systemd-analyze verify"
systemd-analyze verify /usr/lib/systemd/system/reporta.service >"$tmp/verify.log" 2>&1 ||
    { cat "$tmp/verify.log"; fail "systemd-analyze verify failed"; }
! grep reporta "$tmp/verify.log" || fail "systemd-analyze verify complains about the unit"

step "reporta init (installed binary, twice)"
cd "$tmp"
/usr/bin/reporta init --db "$tmp/r.db" >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; fail "init failed"; }
grep -q 'areas: 13 provincias, 82 distritos, 698 corregimientos' "$tmp/init.log" ||
    { cat "$tmp/init.log"; fail "init did not import the shipped areas"; }
/usr/bin/reporta init --db "$tmp/r.db" >"$tmp/init2.log" 2>&1 || { cat "$tmp/init2.log"; fail "second init failed"; }
grep -q '(0 migrations applied)' "$tmp/init2.log" || { cat "$tmp/init2.log"; fail "init is not idempotent"; }

step "reporta serve (installed binary and web app)"
/usr/bin/reporta serve --db "$tmp/r.db" --media "$tmp/media" --listen 127.0.0.1 --port 0 \
    --threads 2 --workers 4 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
i=0
while ! grep -q '^reporta: listening on ' "$tmp/serve.out"; do
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.err"; pid=; fail "serve exited at startup"; }
    i=$((i + 1))
    [ $i -lt 300 ] || { cat "$tmp/serve.err"; fail "serve did not listen within 30 s"; }
    sleep 0.1
done
url=$(sed -n '1s/^reporta: listening on //p' "$tmp/serve.out")
grep -q 'web app /usr/share/reporta/web:' "$tmp/serve.err" ||
    { cat "$tmp/serve.err"; fail "serve did not load the installed web app"; }
code=$(curl -sS -o "$tmp/healthz" -w '%{http_code}' "$url/healthz")
[ "$code" = 200 ] || fail "GET /healthz: $code $(cat "$tmp/healthz")"
code=$(curl -sS -o "$tmp/index.html" -w '%{http_code}' "$url/")
[ "$code" = 200 ] || fail "GET /: $code"
grep -q '<html' "$tmp/index.html" || fail "GET / is not the web app"
leaflet=$(grep -o '/static/[0-9a-f]*/vendor/leaflet.css' "$tmp/index.html" | head -1)
[ -n "$leaflet" ] || fail "GET / names no /static/.../vendor/leaflet.css"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url$leaflet")
[ "$code" = 200 ] || fail "GET $leaflet: $code"

step "SIGTERM"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || { cat "$tmp/serve.err"; fail "serve exited $rc on SIGTERM"; }

step "apt-get purge"
installed=
apt-get purge -y -q -o DPkg::Lock::Timeout=300 reporta >"$tmp/purge.log" 2>&1 ||
    { cat "$tmp/purge.log"; fail "purge failed"; }
for f in /usr/bin/reporta /usr/share/reporta /etc/default/reporta \
    /usr/lib/systemd/system/reporta.service; do
    [ ! -e "$f" ] || fail "$f is still there after the purge"
done
step "done"
