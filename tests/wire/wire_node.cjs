// node-postgres (npm pg, pinned by tests/wire/package-lock.json) against `plexus serve`, run by
// test_wire_node.py. argv: port user password crossSql paramSql emailSql customerId.
// Prints one JSON object with every answer for the test to check.
const pg = require("pg");  // found through NODE_PATH (third_party/wire/node_modules)

async function main() {
  const [port, user, password, crossSql, paramSql, emailSql, customerId] = process.argv.slice(2);
  const client = new pg.Client({
    host: "127.0.0.1", port: Number(port), database: "plexus", user, password,
    ssl: { rejectUnauthorized: false },  // the demo's self-signed certificate; TLS still required
  });
  const out = {};
  await client.connect();
  out.ssl = client.connection.stream.encrypted === true;
  let r = await client.query(
    "SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c " +
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
    "WHERE c.relkind = 'r' AND n.nspname !~ '^pg_' ORDER BY 1, 2");
  out.tables = r.rows.map((x) => [x.schema, x.name]);
  r = await client.query("SELECT column_name, data_type FROM information_schema.columns " +
                         "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                         ["customers.customers", "customers"]);
  out.columns = r.rows.map((x) => [x.column_name, x.data_type]);
  r = await client.query({ text: crossSql, rowMode: "array" });
  out.cross = r.rows.map((row) => row.map((v) => (v === null ? null : String(v))));
  out.param = [];
  for (let i = 0; i < 2; i++) {  // a named prepared statement, parsed once, executed twice
    r = await client.query({ name: "by_id", text: paramSql, values: [Number(customerId)], rowMode: "array" });
    out.param.push(r.rows.map((row) => row.map((v) => String(v))));
  }
  r = await client.query({ text: emailSql, rowMode: "array" });
  out.emails = r.rows;
  // A cursor through the extended protocol: DECLARE with a bound parameter, then a named
  // FETCH statement (Parse / Describe / Bind / Execute) until the cursor runs out.
  await client.query("BEGIN");
  await client.query({ name: "declare", values: [0],
                       text: "DECLARE nc CURSOR FOR SELECT email, country FROM customers.customers.customers " +
                             "WHERE length(email) > $1 ORDER BY customer_id" });
  out.fetched = [];
  out.fetch_sizes = [];
  for (;;) {
    r = await client.query({ name: "fetch3", text: "FETCH 3 FROM nc", rowMode: "array" });
    out.fetch_sizes.push(r.rowCount);
    out.fetched.push(...r.rows);
    if (r.rows.length < 3) break;
  }
  await client.query("COMMIT");
  try {
    await client.query("INSERT INTO customers.customers.customers (customer_id) VALUES (1)");
    out.write = "accepted";
  } catch (e) {
    out.write = e.code;
  }
  await client.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
