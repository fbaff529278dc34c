#!/usr/bin/env bash
# make demo: the example mesh (examples/jaffle-mesh) from descriptors to a governed,
# cross-domain query, then served over HTTP and the PostgreSQL wire protocol until Ctrl-C.
# PLEXUS_DEMO_HOME sets the home (default: a fresh build/demo-home); PLEXUS_DEMO_PORT the port;
# PLEXUS_DEMO_NO_SERVE=1 stops after the query (used by the tests).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
plexus="$here/build/plexus"
mesh="$here/examples/jaffle-mesh"
home="${PLEXUS_DEMO_HOME:-$here/build/demo-home}"
port="${PLEXUS_DEMO_PORT:-8080}"
rm -rf "$home"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }
px() { "$plexus" --mesh "$mesh" --home "$home" "$@"; }

step "1. Validate the descriptors (ODPS products, ODCS contracts, pipelines)" "plexus validate"
px validate
step "2. Register the mesh in the catalog, through the version and governance gates" "plexus apply"
px apply
step "3. Run every pipeline, upstream first; each publishes atomically after its contract check" "plexus run --all"
px run --all
step "4. What the mesh offers" "plexus products"
px products
step "5. Change data capture: orders.shipments follows the warehouse database's Debezium events" \
     "plexus runs orders.shipments; plexus run orders.shipments; plexus test orders.shipments; plexus query ..."
# The run above applied the snapshot (op r) and the stream after it (inserts, updates, a
# delete) by shipment_id; a second run finds nothing new: each event is applied exactly once.
# A micro-batch does not run the contract's quality rules over the whole table; plexus test does.
px runs orders.shipments
px run orders.shipments
px test orders.shipments
px query "SELECT o.status AS order_status, s.status AS shipment_status, count(*) AS orders
FROM orders.orders.orders AS o LEFT JOIN orders.shipments.shipments AS s USING (order_id)
GROUP BY ALL ORDER BY orders DESC"
step "6. Find data by the business's words: ranked, highlighted, with facets and glossary terms" \
     "plexus search sign-up date; plexus glossary customer"
px search sign-up date
px glossary customer
step "7. Lineage of the consumer-aligned product, and of one of its columns" \
     "plexus lineage marketing.customer_lifetime_value [--column lifetime_value]"
px lineage marketing.customer_lifetime_value
px lineage marketing.customer_lifetime_value --column lifetime_value --direction up
step "8. Governance: the mesh's policies (the built-in pack) evaluated; compliance per domain" \
     "plexus governance report"
px governance report
sql="SELECT c.country, count(*) AS customers, sum(l.number_of_orders) AS orders,
       sum(l.lifetime_value) AS lifetime_value,
       round(avg(l.lifetime_value), 2) AS avg_lifetime_value
FROM marketing.customer_lifetime_value.customer_lifetime_value AS l
JOIN customers.customers.customers AS c USING (customer_id)
GROUP BY c.country ORDER BY lifetime_value DESC"
step "9. A cross-domain query (marketing x customers), through the SQL guard" "plexus query \"$sql\""
px query "$sql"
step "10. The guard refuses what a consumer may not do" "plexus query \"SELECT * FROM read_csv('/etc/passwd')\""
px query "SELECT * FROM read_csv('/etc/passwd')" || true

step "11. A consumer asks for access; the product's owner approves" \
     "plexus principal create nora --attr country=NL; plexus --token \$NORA access request ..."
nora="$(px principal create nora --attr country=NL --token | sed -n 's/^token (shown once): //p')"
grace="$(px token issue grace 2>/dev/null)"
px --token "$nora" query "SELECT count(*) FROM marketing.customer_lifetime_value.customer_lifetime_value" || true
px --token "$nora" access request marketing.customer_lifetime_value --purpose "churn study, Dutch market"
px --token "$grace" access approve 1 --reason "ok for the churn study"
step "12. Nora's view: customers filtered to her country (row filter), email hashed (pii mask), money rounded (confidential mask)" \
     "plexus --token \$NORA query ..."
px --token "$nora" query "SELECT c.country, count(*) AS customers, round(sum(l.lifetime_value), 2) AS lifetime_value,
       min(c.email) AS an_email
FROM marketing.customer_lifetime_value.customer_lifetime_value AS l
JOIN customers.customers.customers AS c USING (customer_id) GROUP BY c.country"
step "13. Everything is audited, in a hash chain" "plexus audit --limit 6; plexus audit verify"
px audit --limit 6
px audit verify
step "14. Observability: SLOs and trust scores, the mesh's health, what each processor did" \
     "plexus slo; plexus status; plexus metrics payments.payments"
px slo
px status
px metrics payments.payments

if [ "${PLEXUS_DEMO_NO_SERVE:-0}" = "1" ]; then exit 0; fi
pg_port="${PLEXUS_DEMO_PG_PORT:-5433}"
step "15. Serve the mesh: HTTP on $port, PostgreSQL wire protocol on $pg_port (TLS, SCRAM)" \
     "plexus serve --port $port --pg-port $pg_port"
printf 'nora-demo-password\n' | px principal password nora
"$plexus" --mesh "$mesh" --home "$home" serve --port "$port" --pg-port "$pg_port" \
  --log-file "$home/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' INT TERM
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null && break
  sleep 0.1
done
conn="host=127.0.0.1 port=$pg_port dbname=plexus user=nora sslmode=require"
step "16. Nora with psql: what she may read, and the same masks and row filter" \
     "PGPASSWORD=... psql \"$conn\" -c '\\dt *.*' -c 'SELECT ...'"
PGPASSWORD=nora-demo-password psql "$conn" -c '\dt *.*' \
  -c 'SELECT country, count(*) AS customers, min(email) AS an_email
      FROM "customers.customers".customers GROUP BY country' || true
admin_token="$(sed -n 's/.*"admin_token": *"\([^"]*\)".*/\1/p' "$home/server.json")"
step "17. Prometheus scrapes the platform: rows per processor step, SLOs, trust scores" \
     "curl -H 'Authorization: Bearer <admin token>' http://127.0.0.1:$port/metrics"
curl -s -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$port/metrics" |
  grep -E '^plexus_(processor_rows_out_total|trust_score)\{' | head -12 || true
cat <<MSG

The server runs until Ctrl-C. Try, from another terminal:
  PGPASSWORD=nora-demo-password psql "$conn"
  export TOKEN=$nora
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$port/api/v1/products
  curl -s -H "Authorization: Bearer \$TOKEN" "http://127.0.0.1:$port/api/v1/search?q=customer"
  curl -s -X POST http://127.0.0.1:$port/api/v1/query -H "Authorization: Bearer \$TOKEN" \\
       -H 'Content-Type: application/json' \\
       -d '{"sql": "SELECT country, count(*) AS n FROM customers.customers.customers GROUP BY 1", "format": "csv"}'
  (the OpenAPI document: http://127.0.0.1:$port/api/v1/openapi.json)
  orders.shipments follows its change files continuously: a new file of Debezium events in
  $mesh/domains/orders/shipments/changes/ shows in orders.shipments.shipments within a second.
  Prometheus: http://127.0.0.1:$port/metrics (a mesh admin's token: admin_token in $home/server.json)
  (OpenLineage events of every run: $home/openlineage.ndjson; the server's JSON log:
   $home/serve.log)
MSG
wait $server
