#!/usr/bin/env bash
# Installs what building and testing Plexus needs on Debian 12, idempotently:
#  - the Debian packages listed below (skipped when all are present);
#  - DuckDB 1.4.4 LTS (libduckdb.so + duckdb.h, and the C++ headers of the same release in
#    include-cpp/ for engine/sql_parse.cc) from the npm registry, verified against
#    scripts/duckdb.lock, unpacked into third_party/duckdb/ (skipped when already there).
# DUCKDB_ROOT=/path (with include/duckdb.h, include-cpp/ and lib/libduckdb.so) uses an
# existing install.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates python3 time
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libasio-dev libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The real PostgreSQL clients the wire tests connect with (tests/wire), and a PostgreSQL
  # server with pgbench for the wire benchmark. The JDK runs the JDBC test as a single-file
  # source program (java File.java); psycopg2 is Debian's, run with /usr/bin/python3.
  postgresql-client postgresql python3-psycopg2 libpostgresql-jdbc-java openjdk-17-jdk-headless openssl
  # Change data capture: libpq, PostgreSQL's wal2json output plugin (the CDC tests start a
  # server with it) and librdkafka (its mock cluster runs the Kafka tests in process).
  libpq-dev postgresql-15-wal2json librdkafka-dev
  # Observability: prometheus-cpp renders /metrics (its core library only).
  prometheus-cpp-dev
  # Arrow IPC results: flatbuffers' builder writes the messages' metadata (header-only use).
  libflatbuffers-dev
  # CDC: simdjson parses the Debezium envelopes on the fast path (pipeline/cdc_parse.cc).
  libsimdjson-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from outside Debian (the machine image ships them): ask for the
# Debian packages only when the commands are absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm packages the tests use, each set pinned by tests/<name>/package-lock.json and installed
# into third_party/<name>/node_modules when the lock changed or `module` is missing.
npm_packages() {
  local name="$1" module="$2" what="$3"
  local dir="$here/third_party/$name" lock="$here/tests/$name/package-lock.json"
  if ! cmp -s "$lock" "$dir/package-lock.json" || [ ! -d "$dir/node_modules/$module" ]; then
    echo "bootstrap: installing $what into third_party/$name"
    mkdir -p "$dir"
    cp "$here/tests/$name/package.json" "$lock" "$dir/"
    (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
}
# The JSON Schema validator the conformance test compares Plexus with (ajv, ajv-formats, yaml).
npm_packages conformance ajv "the conformance test's npm packages"
# node-postgres (npm pg) for the wire tests.
npm_packages wire pg "the wire tests' npm packages"
# apache-arrow, the real Arrow reader of the HTTP arrow-format test.
npm_packages arrow apache-arrow "the arrow test's npm packages"

if [ -n "${DUCKDB_ROOT:-}" ]; then
  for f in include/duckdb.h include-cpp/duckdb.hpp lib/libduckdb.so; do
    [ -f "$DUCKDB_ROOT/$f" ] || { echo "bootstrap: DUCKDB_ROOT=$DUCKDB_ROOT has no $f" >&2; exit 1; }
  done
  exit 0
fi

dest="$here/third_party/duckdb"
lock="$here/scripts/duckdb.lock"
stamp="$dest/.lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dest/lib/libduckdb.so" ] \
   && [ -f "$dest/include/duckdb.h" ] && [ -f "$dest/include-cpp/duckdb.hpp" ]; then
  exit 0
fi

echo "bootstrap: fetching DuckDB (npm pack) into third_party/duckdb"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/include"
# Each tarball is packed once, whatever number of lines name it, and checked for every line.
grep -v '^#' "$lock" | while read -r pkg version sum inner into; do
  [ -n "$pkg" ] || continue
  key="$pkg-$version"
  packed="$tmp/packed-${key//\//_}"
  if [ ! -f "$packed" ]; then
    tarball="$(cd "$tmp" && npm pack --silent "$pkg@$version" 2>/dev/null | tail -n1)"
    [ -f "$tmp/$tarball" ] || { echo "bootstrap: npm pack $pkg@$version failed" >&2; exit 1; }
    echo "$tmp/$tarball" > "$packed"
  fi
  echo "$sum  $(cat "$packed")" | sha256sum -c --quiet - \
    || { echo "bootstrap: checksum mismatch for $pkg@$version" >&2; exit 1; }
  tar -xzf "$(cat "$packed")" -C "$tmp" "$inner"
  case "$inner" in
    */) mkdir -p "$dest/$into" && cp -r "$tmp/$inner." "$dest/$into/" ;;  # a folder of headers
    *.so) cp "$tmp/$inner" "$dest/lib/" ;;
    *.h) cp "$tmp/$inner" "$dest/include/" ;;
  esac
done
echo "$want" > "$stamp"
echo "bootstrap: DuckDB ready in $dest"
