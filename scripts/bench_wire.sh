#!/usr/bin/env bash
# The wire protocol benchmark (issue 8): Plexus and a local PostgreSQL 15, side by side in one
# run, holding the same table of BENCH_WIRE_ROWS rows (default 10,000,000; BENCH_WIRE_ROWS=100000
# is a smoke run of a minute). Both sides are read over TLS with a SCRAM password.
#   - rows/s to psql: `psql -At -c "SELECT * FROM t" > /dev/null` (also aligned, psql-bound,
#     and with FETCH_COUNT=10000, read through a cursor; and psql's floor: PostgreSQL's answer
#     replayed by bench/wire_replay.py, the most rows/s psql itself can take) and
#     `COPY (SELECT ...) TO STDOUT`
#   - pgbench TPS of a point query by key, -M simple and -M prepared, 1 and 8 clients
#   - 100 connections held open at once, each running a query before and after the others open
# Reports: bench/results/wire.md and wire.json (ratios are Plexus / PostgreSQL).
# BUILD names the build directory (default build); BENCH_WIRE_SECONDS the pgbench duration.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BUILD:-build}"
[[ "$bin" = /* ]] || bin="$here/$bin"
rows="${BENCH_WIRE_ROWS:-10000000}"
seconds="${BENCH_WIRE_SECONDS:-10}"
work="${BENCH_WIRE_WORK:-$bin/bench-wire-work}"
out="$here/bench/results"
plexus="$bin/plexus"
pgbin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
password="bench-wire-secret"
mkdir -p "$out"
[ -x "$plexus" ] || { echo "bench_wire: build plexus first ($plexus)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# PostgreSQL refuses to run as root: run it as the postgres user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

rm -rf "$work"
mkdir -p "$work"
pgdata="$work/pg"
serve_pid=""
replay_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null && wait "$replay_pid" 2>/dev/null || true
  [ -f "$pgdata/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---- PostgreSQL 15: TLS + SCRAM like the Plexus side ------------------------------------
[ "$(id -u)" = 0 ] && chown postgres "$work"
pg_port="$(free_port)"
echo "$password" > "$work/pwfile"
chmod 644 "$work/pwfile"
as_pg "$pgbin/initdb" -D "$pgdata" -U bench --pwfile="$work/pwfile" --auth=scram-sha-256 \
  >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -keyout "$pgdata/server.key" -out "$pgdata/server.crt" 2>/dev/null
[ "$(id -u)" = 0 ] && chown postgres "$pgdata/server.key" "$pgdata/server.crt"
chmod 600 "$pgdata/server.key"
cat >> "$pgdata/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work'
ssl = on
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = '1GB'
timezone = 'UTC'
EOF
echo "hostssl all all 127.0.0.1/32 scram-sha-256" > "$pgdata/pg_hba.conf"
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$work/pg.log" -w start >/dev/null
export PGPASSWORD="$password"
pg_conn="host=127.0.0.1 port=$pg_port user=bench dbname=postgres sslmode=require"

echo "bench_wire: $rows rows into PostgreSQL"
psql -q -X "$pg_conn" -v ON_ERROR_STOP=1 <<EOF
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INTEGER NOT NULL,
  amount NUMERIC(10,2) NOT NULL, status TEXT NOT NULL, ordered_at TIMESTAMP NOT NULL,
  note TEXT);
INSERT INTO orders
SELECT i, (i * 7919) % 100000, ((i * 31) % 100000) / 100.0,
       (ARRAY['placed','shipped','completed','returned'])[1 + i % 4],
       TIMESTAMP '2024-01-01' + i * INTERVAL '1 second',
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'order ' || i END
FROM generate_series(1::BIGINT, $rows) i;
VACUUM ANALYZE orders;
EOF

# ---- Plexus: the same rows as a data product --------------------------------------------
mesh="$work/mesh"
product="$mesh/domains/bench/orders"
mkdir -p "$product/contracts" "$product/data"
psql -q -X "$pg_conn" -c "COPY orders TO STDOUT WITH (FORMAT csv, HEADER)" \
  > "$product/data/orders.csv"
cat > "$mesh/mesh.yaml" <<EOF
apiVersion: plexus/v1
kind: Mesh
name: bench-wire
description: One product for the wire protocol benchmark.
policies: []
EOF
cat > "$mesh/domains/bench/domain.yaml" <<EOF
apiVersion: plexus/v1
kind: Domain
name: bench
description: The wire benchmark's data.
owners: [bench]
members: [bench]
EOF
cat > "$product/pipeline.yaml" <<EOF
apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw_orders
    file: data/orders.csv
    format: csv
    options:
      header: true
outputs:
  - port: orders
    sql: |
      SELECT CAST(id AS BIGINT) AS id, CAST(customer_id AS INTEGER) AS customer_id,
             CAST(amount AS DECIMAL(10,2)) AS amount, CAST(status AS VARCHAR) AS status,
             CAST(ordered_at AS TIMESTAMP) AS ordered_at, CAST(note AS VARCHAR) AS note
      FROM raw_orders ORDER BY id
EOF
cat > "$product/product.odps.yaml" <<EOF
apiVersion: v1.0.0
kind: DataProduct
id: 5b0c7d0e-1f3a-4c55-9a51-0d6f3e2b9a01
name: orders
version: 1.0.0
status: active
domain: bench
description:
  purpose: Orders for the wire protocol benchmark.
outputPorts:
  - name: orders
    type: tables
    version: 1.0.0
    contractId: 8e7c1d2a-5b4f-4e3a-8d2c-1a0b9c8d7e6f
team:
  name: Bench team
  members:
    - {username: bench, name: Bench, role: owner}
EOF
cat > "$product/contracts/orders.odcs.yaml" <<EOF
apiVersion: v3.1.0
kind: DataContract
id: 8e7c1d2a-5b4f-4e3a-8d2c-1a0b9c8d7e6f
name: orders
version: 1.0.0
status: active
domain: bench
dataProduct: orders
customProperties:
  - property: visibility
    value: public
schema:
  - name: orders
    physicalType: table
    properties:
      - {name: id, logicalType: integer, physicalType: BIGINT, required: true, primaryKey: true}
      - {name: customer_id, logicalType: integer, physicalType: INTEGER, required: true}
      - {name: amount, logicalType: number, physicalType: "DECIMAL(10,2)", required: true}
      - {name: status, logicalType: string, physicalType: VARCHAR, required: true}
      - {name: ordered_at, logicalType: timestamp, physicalType: TIMESTAMP, required: true}
      - {name: note, logicalType: string, physicalType: VARCHAR, required: false}
EOF
home="$work/home"
px() { "$plexus" --mesh "$mesh" --home "$home" "$@"; }
echo "bench_wire: building the Plexus product"
px apply >/dev/null
px run --all >/dev/null
rm -f "$product/data/orders.csv"
echo "$password" | px principal password bench >/dev/null

# Not through px: a backgrounded function is a subshell, and killing it would leave plexus running.
"$plexus" --mesh "$mesh" --home "$home" serve --port 0 --pg-port 0 > "$work/serve.log" 2>&1 &
serve_pid=$!
px_port=""
for _ in $(seq 1 100); do
  px_port="$(sed -n 's/.*serving PostgreSQL wire protocol on [0-9.]*:\([0-9]*\).*/\1/p' "$work/serve.log")"
  [ -n "$px_port" ] && break
  sleep 0.1
done
[ -n "$px_port" ] || { cat "$work/serve.log" >&2; echo "bench_wire: plexus serve did not start" >&2; exit 1; }
px_conn="host=127.0.0.1 port=$px_port user=bench dbname=plexus sslmode=require"
px_table="bench.orders.orders"
pg_table="orders"

check_same() {
  local a b
  a="$(psql -X -At "$pg_conn" -c "SELECT count(*), sum(id), sum(amount) FROM $pg_table")"
  b="$(psql -X -At "$px_conn" -c "SELECT count(*), sum(id), sum(amount) FROM $px_table")"
  [ "$a" = "$b" ] || { echo "bench_wire: the two tables differ: $a vs $b" >&2; exit 1; }
}
check_same

# Seconds a command takes (best of two runs: the first also warms the caches).
time_best() {
  local best="" start end t
  for _ in 1 2; do
    start="$(date +%s%N)"
    "$@" > /dev/null
    end="$(date +%s%N)"
    t="$(((end - start) / 1000))"  # microseconds
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best="$t"; fi
  done
  python3 -c "print($best / 1e6)"
}
echo "bench_wire: SELECT and COPY to psql"
# psql -At (unaligned, as a script or a pipe reads it); aligned output is measured too, but
# psql's table printer, not the server, sets its pace.
sel_pg="$(time_best psql -X -q -A -t "$pg_conn" -c "SELECT * FROM $pg_table")"
sel_px="$(time_best psql -X -q -A -t "$px_conn" -c "SELECT * FROM $px_table")"
aligned_pg="$(time_best psql -X -q "$pg_conn" -c "SELECT * FROM $pg_table")"
aligned_px="$(time_best psql -X -q "$px_conn" -c "SELECT * FROM $px_table")"
# psql -At with FETCH_COUNT: psql reads through a cursor, 10,000 rows a FETCH, and prints each
# page as it comes instead of holding the whole answer (DECLARE / FETCH / CLOSE).
fetch_pg="$(time_best psql -X -q -A -t -v FETCH_COUNT=10000 "$pg_conn" -c "SELECT * FROM $pg_table")"
fetch_px="$(time_best psql -X -q -A -t -v FETCH_COUNT=10000 "$px_conn" -c "SELECT * FROM $px_table")"
copy_pg="$(time_best psql -X -q "$pg_conn" -c "COPY (SELECT * FROM $pg_table) TO STDOUT")"
copy_px="$(time_best psql -X -q "$px_conn" -c "COPY (SELECT * FROM $px_table) TO STDOUT")"

# psql's floor: PostgreSQL's answer, prebuilt, replayed over TLS by bench/wire_replay.py, which
# does no work per row. psql -At against it takes psql's own time, so floor rows/s over
# PostgreSQL's is the highest SELECT ratio any server could reach here.
echo "bench_wire: psql's floor (PostgreSQL's answer replayed)"
psql -X -q "$pg_conn" -c "COPY (SELECT * FROM $pg_table) TO STDOUT" |
  python3 "$here/bench/wire_replay.py" answer "$work/answer.bin" \
    "id:20,customer_id:23,amount:1700,status:25,ordered_at:1114,note:25" > /dev/null
replay_port="$(free_port)"
python3 "$here/bench/wire_replay.py" serve "$replay_port" "$work/answer.bin" \
  "$pgdata/server.crt" "$pgdata/server.key" > "$work/replay.log" 2>&1 &
replay_pid=$!
for _ in $(seq 1 600); do grep -q ready "$work/replay.log" && break; sleep 0.1; done
replay_conn="host=127.0.0.1 port=$replay_port user=bench dbname=postgres sslmode=require"
[ "$(psql -X -At "$replay_conn" -c "SELECT * FROM $pg_table" | md5sum)" = \
  "$(psql -X -At "$pg_conn" -c "SELECT * FROM $pg_table" | md5sum)" ] ||
  { echo "bench_wire: the replayed answer differs from PostgreSQL's" >&2; exit 1; }
floor_sel="$(time_best psql -X -q -A -t "$replay_conn" -c "SELECT * FROM $pg_table")"
kill "$replay_pid" 2>/dev/null; wait "$replay_pid" 2>/dev/null || true
replay_pid=""
rm -f "$work/answer.bin"

echo "bench_wire: pgbench point queries (${seconds}s each)"
pgbench_tps() {  # conninfo table mode clients
  local script="$work/point_$2.sql"
  printf '\\set id random(1, %s)\nSELECT * FROM %s WHERE id = :id;\n' "$rows" "$2" > "$script"
  local threads=$(($4 < 2 ? $4 : 2))
  pgbench -n -f "$script" -M "$3" -c "$4" -j "$threads" -T "$seconds" "$1" 2>"$work/pgbench.err" \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | tail -1
}
declare -A tps
for mode in simple prepared; do
  for clients in 1 8; do
    tps[pg_${mode}_$clients]="$(pgbench_tps "$pg_conn" "$pg_table" "$mode" "$clients")"
    tps[px_${mode}_$clients]="$(pgbench_tps "$px_conn" "$px_table" "$mode" "$clients")"
    [ -n "${tps[px_${mode}_$clients]}" ] || { cat "$work/pgbench.err" >&2; tps[px_${mode}_$clients]=0; }
  done
done

echo "bench_wire: 100 connections at once"
held_ok=0
pids=()
for i in $(seq 1 100); do
  psql -X -At "$px_conn" -c "SELECT $i" -c "\\! sleep 5" -c "SELECT count(*) FROM $px_table WHERE id = $i" \
    > "$work/held_$i.out" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 100); do
  if wait "${pids[$((i - 1))]}" && [ "$(tr '\n' ' ' < "$work/held_$i.out")" = "$i 1 " ]; then
    held_ok=$((held_ok + 1))
  fi
done
check_same  # the server still answers

python3 - "$out" "$rows" "$seconds" "$sel_pg" "$sel_px" "$copy_pg" "$copy_px" "$held_ok" \
  "$aligned_pg" "$aligned_px" \
  "$fetch_pg" "$fetch_px" "$floor_sel" \
  "${tps[pg_simple_1]}" "${tps[px_simple_1]}" "${tps[pg_simple_8]}" "${tps[px_simple_8]}" \
  "${tps[pg_prepared_1]}" "${tps[px_prepared_1]}" "${tps[pg_prepared_8]}" "${tps[px_prepared_8]}" <<'EOF'
import json, sys, platform, datetime
out, rows, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sel_pg, sel_px, copy_pg, copy_px = (float(x) for x in sys.argv[4:8])
held_ok = int(sys.argv[8])
aligned_pg, aligned_px = float(sys.argv[9]), float(sys.argv[10])
fetch_pg, fetch_px = float(sys.argv[11]), float(sys.argv[12])
floor_sel = float(sys.argv[13])
t = [float(x or 0) for x in sys.argv[14:22]]
def ratio(px, pg): return round(px / pg, 2) if pg else None
streams = {
  "select": {"postgres_rows_per_s": round(rows / sel_pg), "plexus_rows_per_s": round(rows / sel_px),
             "ratio": ratio(rows / sel_px, rows / sel_pg)},
  "select_psql_floor": {"postgres_rows_per_s": round(rows / sel_pg),
                        "replay_rows_per_s": round(rows / floor_sel),
                        "highest_possible_ratio": ratio(rows / floor_sel, rows / sel_pg)},
  "select_aligned": {"postgres_rows_per_s": round(rows / aligned_pg),
                     "plexus_rows_per_s": round(rows / aligned_px),
                     "ratio": ratio(rows / aligned_px, rows / aligned_pg)},
  "select_fetch_count": {"postgres_rows_per_s": round(rows / fetch_pg),
                         "plexus_rows_per_s": round(rows / fetch_px),
                         "ratio": ratio(rows / fetch_px, rows / fetch_pg)},
  "copy": {"postgres_rows_per_s": round(rows / copy_pg), "plexus_rows_per_s": round(rows / copy_px),
           "ratio": ratio(rows / copy_px, rows / copy_pg)},
}
pgbench = {}
for i, (mode, clients) in enumerate([("simple", 1), ("simple", 8), ("prepared", 1), ("prepared", 8)]):
  pg, px = t[2 * i], t[2 * i + 1]
  pgbench[f"{mode}_{clients}"] = {"postgres_tps": pg, "plexus_tps": px, "ratio": ratio(px, pg)}
report = {"rows": rows, "pgbench_seconds": seconds, "machine": platform.machine(),
          "at": datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z",
          "to_psql": streams, "pgbench_point_query": pgbench,
          "connections_held": {"opened": 100, "ok": held_ok}, "target_ratio": 1.5}
json.dump(report, open(f"{out}/wire.json", "w"), indent=2)
lines = [f"# Wire protocol: Plexus vs PostgreSQL 15 ({rows:,} rows)", "",
         "Both over TLS with SCRAM on 127.0.0.1, one run of `scripts/bench_wire.sh`. "
         "Ratio = Plexus / PostgreSQL (target for the streams: at least 1.5).", "",
         "| to psql | PostgreSQL rows/s | Plexus rows/s | ratio |", "|---|---:|---:|---:|"]
for name, label in [("select", "`SELECT *` (psql -At)"),
                    ("select_aligned", "`SELECT *` (psql aligned: bound by psql's table printer)"),
                    ("select_fetch_count", "`SELECT *` (psql -At, FETCH_COUNT=10000: a cursor)"),
                    ("copy", "`COPY (SELECT *) TO STDOUT`")]:
  s = streams[name]
  lines.append(f"| {label} | {s['postgres_rows_per_s']:,} | {s['plexus_rows_per_s']:,} | {s['ratio']} |")
f = streams["select_psql_floor"]
lines += ["", f"psql's floor for `SELECT *` (psql -At): PostgreSQL's answer replayed with no work per row "
          f"(bench/wire_replay.py) reaches {f['replay_rows_per_s']:,} rows/s, so no server can pass "
          f"{f['highest_possible_ratio']}x PostgreSQL in that series on this machine."]
lines += ["", f"| pgbench point query ({seconds} s) | PostgreSQL TPS | Plexus TPS | ratio |",
          "|---|---:|---:|---:|"]
for key, v in pgbench.items():
  mode, clients = key.split("_")
  lines.append(f"| -M {mode}, {clients} client{'s' if clients != '1' else ''} | {v['postgres_tps']:,.0f} "
               f"| {v['plexus_tps']:,.0f} | {v['ratio']} |")
lines += ["", f"100 connections held open at once: {held_ok} of 100 answered before and after.", ""]
open(f"{out}/wire.md", "w").write("\n".join(lines))
print("\n".join(lines))
EOF
