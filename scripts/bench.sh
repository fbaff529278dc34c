#!/usr/bin/env bash
# make bench: generates the example mesh's data at scale (BENCH_ORDERS orders, default
# 10,000,000; customers = orders / 6), builds every product, then runs the benchmarks.
# Reports land in bench/results/ (JSON and Markdown). BUILD names the build directory
# (default build, as in the Makefile).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BUILD:-build}"
[[ "$bin" = /* ]] || bin="$here/$bin"
orders="${BENCH_ORDERS:-10000000}"
customers="${BENCH_CUSTOMERS:-$((orders / 6))}"
work="${BENCH_WORK:-$bin/bench-work}"
out="$here/bench/results"
mkdir -p "$out"
plexus="$bin/plexus"

if [ ! -f "$work/.ready-$orders" ]; then
  echo "bench: generating $orders orders, $customers customers in $work"
  rm -rf "$work"
  mkdir -p "$work"
  cp -r "$here/examples/jaffle-mesh" "$work/mesh"
  rm -rf "$work/mesh/.plexus"
  "$plexus" --mesh "$work/mesh" generate --orders "$orders" --customers "$customers"
  "$plexus" --mesh "$work/mesh" --home "$work/home" apply >/dev/null
  /usr/bin/time -f "bench: run --all took %es, peak %MKB" \
    "$plexus" --mesh "$work/mesh" --home "$work/home" run --all
  touch "$work/.ready-$orders"
fi
"$bin/plexus_bench" --home "$work/home" --out "$out" --repetitions "${BENCH_REPETITIONS:-5}"
# Access control: guard + rewrite + audit per statement; masked queries vs masks by hand.
"$bin/plexus_access_bench" --home "$work/home" --out "$out" \
  --statements "${BENCH_STATEMENTS:-2000}" --repetitions "${BENCH_ACCESS_REPETITIONS:-15}"
# Contract validation against a bare yaml-cpp parse of the same generated contracts.
"$bin/plexus_validate_bench" --out "$out" --count "${BENCH_CONTRACTS:-10000}" \
  --rounds "${BENCH_VALIDATE_ROUNDS:-5}" --work "$work/contracts"
# Search: a generated catalog of BENCH_SEARCH_PRODUCTS products vs a bare FTS5 table.
"$bin/plexus_search_bench" --work "$work/search" --out "$out" \
  --products "${BENCH_SEARCH_PRODUCTS:-100000}" --rounds "${BENCH_SEARCH_ROUNDS:-5}"
# Governance: 50 policies over a generated catalog of BENCH_GOVERNANCE_PRODUCTS products (20
# columns each), end to end, vs the same SQL on a DuckDB already holding the views (--reuse keeps
# the generated catalog between runs).
"$bin/plexus_governance_bench" --work "$work/governance" --out "$out" --reuse \
  --products "${BENCH_GOVERNANCE_PRODUCTS:-10000}" --rounds "${BENCH_GOVERNANCE_ROUNDS:-5}"
# Wire protocol: Plexus vs a local PostgreSQL 15 on the same table (BENCH_WIRE_ROWS rows).
BUILD="$bin" "$here/scripts/bench_wire.sh"
# CDC: BENCH_CDC_EVENTS Debezium events applied from NDJSON vs raw appender rows, lag, memory.
"$bin/plexus_cdc_bench" --work "$work/cdc" --out "$out" --events "${BENCH_CDC_EVENTS:-10000000}"
# Observability (issue 9): the example mesh at BENCH_OBSERVE_ORDERS orders built with run
# metrics, SLO tracking and OpenLineage on vs off, interleaved; target overhead < 2%.
"$bin/plexus_observe_bench" --mesh "$here/examples/jaffle-mesh" --work "$work/observe" \
  --out "$out" --orders "${BENCH_OBSERVE_ORDERS:-2000000}" \
  --repetitions "${BENCH_OBSERVE_REPETITIONS:-7}"
echo "bench: reports in $out"
