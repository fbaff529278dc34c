// pg_metadata: classification, session settings, and the catalog queries real clients send
// (psql 15, the PostgreSQL JDBC driver 42.5, psycopg2, node-postgres) answered by a shadow
// built from a small policy: only the ports the principal may read appear.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_metadata_internal.h"

namespace plexus::server::pg {
namespace {

catalog::OutputPortRecord Port(std::string domain, std::string product, std::string name,
                               std::string visibility) {
  catalog::OutputPortRecord port;
  port.domain = std::move(domain);
  port.product = std::move(product);
  port.name = std::move(name);
  port.visibility = std::move(visibility);
  port.major = 1;
  port.rows = 3;
  port.description = "The " + port.name;
  catalog::ColumnRecord id;
  id.name = "id";
  id.engine_type = "BIGINT";
  id.required = true;
  id.description = "Identifier";
  catalog::ColumnRecord amount;
  amount.name = "amount";
  amount.engine_type = "DECIMAL(18,2)";
  catalog::ColumnRecord email;
  email.name = "email";
  email.engine_type = "VARCHAR";
  port.columns = {id, amount, email};
  return port;
}

/// customers.customers (public), orders.orders (restricted, no grant), hr.staff (private),
/// sales.sales (members only: the principal is a member of sales).
class ShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<catalog::OutputPortRecord> ports = {
        Port("customers", "customers", "customers", "public"),
        Port("orders", "orders", "orders", "restricted"),
        Port("hr", "hr", "staff", "private"),
        Port("sales", "sales", "sales", "private"),
    };
    auto policy = std::make_shared<const access::AccessPolicy>(ports, std::vector<catalog::GrantRecord>{},
                                                              "salt");
    principal_.name = "nora";
    principal_.kind = "user";
    principal_.domain_roles["sales"] = "member";
    auto shadow = MetadataShadow::Build(policy, principal_, "2030-01-01T00:00:00.000Z");
    ASSERT_TRUE(shadow.ok()) << shadow.status().ToString();
    shadow_ = *shadow;
  }

  /// Runs a client's query as the server would (classified, rewritten) and returns the rows
  /// as "a|b|c" lines.
  std::vector<std::string> Rows(const std::string& sql) {
    Statement st = Classify(sql);
    EXPECT_EQ(st.kind, StatementKind::kCatalog) << sql;
    auto conn = shadow_->Connect();
    EXPECT_TRUE(conn.ok());
    auto result = (*conn)->Query(st.sql);
    EXPECT_TRUE(result.ok()) << result.status().message() << "\n" << st.sql;
    std::vector<std::string> rows;
    if (!result.ok()) return rows;
    while (true) {
      auto chunk = (*result)->Fetch();
      EXPECT_TRUE(chunk.ok());
      if (!chunk.ok() || *chunk == nullptr) break;
      for (size_t r = 0; r < (*chunk)->size(); ++r) {
        std::string line;
        for (size_t c = 0; c < (*chunk)->column_count(); ++c) {
          if (c > 0) line += "|";
          line += (*chunk)->IsNull(c, r) ? "NULL" : (*chunk)->Text(c, r);
        }
        rows.push_back(line);
      }
    }
    return rows;
  }

  access::Principal principal_;
  std::shared_ptr<MetadataShadow> shadow_;
};

bool Contains(const std::vector<std::string>& rows, const std::string& needle) {
  for (const auto& row : rows) {
    if (row.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ClassifyTest, RoutesStatements) {
  EXPECT_EQ(Classify("  -- nothing\n").kind, StatementKind::kEmpty);
  EXPECT_EQ(Classify("SELECT 1").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("select version()").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("SELECT * FROM pg_catalog.pg_class").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("SELECT * FROM information_schema.tables").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("SELECT * FROM customers.customers.customers").kind, StatementKind::kData);
  EXPECT_EQ(Classify("SELECT * FROM \"customers.customers\".customers").kind, StatementKind::kData);
  EXPECT_EQ(Classify("SELECT * FROM orders").kind, StatementKind::kData);
  EXPECT_EQ(Classify("SELECT * FROM read_csv('/etc/passwd')").kind, StatementKind::kData);
  EXPECT_EQ(Classify("SELECT * FROM pg_class, customers.customers.customers").kind,
            StatementKind::kData);
  EXPECT_EQ(Classify("SELECT (SELECT count(*) FROM a.b.c) FROM pg_class").kind, StatementKind::kData);
  EXPECT_EQ(Classify("WITH x AS (SELECT 1) SELECT * FROM x").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("SELECT 1 FROM generate_series(1, 3)").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("SELECT '; DROP TABLE x' FROM pg_class").kind, StatementKind::kCatalog);
  EXPECT_EQ(Classify("EXPLAIN SELECT 1").kind, StatementKind::kData);  // the guard decides

  Statement insert = Classify("insert into a.b.c values (1)");
  EXPECT_EQ(insert.kind, StatementKind::kRefused);
  EXPECT_EQ(insert.error.sqlstate, "25006");
  EXPECT_EQ(Classify("DROP TABLE x").error.sqlstate, "25006");
  EXPECT_EQ(Classify("GRANT SELECT ON x TO y").error.sqlstate, "42501");
  EXPECT_EQ(Classify("ATTACH 'x.db'").error.sqlstate, "42501");
  EXPECT_EQ(Classify("SELECT 1 INTO t").error.sqlstate, "25006");
  EXPECT_EQ(Classify("COPY a.b.c FROM STDIN").error.sqlstate, "25006");
  EXPECT_EQ(Classify("SELECT 'unterminated").error.sqlstate, "42601");
}

TEST(ClassifyTest, SessionAndTransactionCommands) {
  Statement set = Classify("SET extra_float_digits = 3");
  EXPECT_EQ(set.kind, StatementKind::kSet);
  EXPECT_EQ(set.name, "extra_float_digits");
  EXPECT_EQ(set.value, "3");
  EXPECT_EQ(Classify("SET application_name = 'PostgreSQL JDBC Driver'").value, "PostgreSQL JDBC Driver");
  EXPECT_EQ(Classify("set search_path to \"$user\", public").value, "$user, public");
  Statement tz = Classify("SET TIME ZONE 'UTC'");
  EXPECT_EQ(tz.name, "timezone");
  EXPECT_EQ(tz.value, "UTC");
  EXPECT_EQ(Classify("SET SESSION statement_timeout TO '5s'").value, "5s");
  EXPECT_EQ(Classify("SET DateStyle TO DEFAULT").kind, StatementKind::kReset);
  EXPECT_EQ(Classify("SET ROLE admin").error.sqlstate, "42501");
  EXPECT_EQ(Classify("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").tag, "SET");
  EXPECT_EQ(Classify("RESET ALL").name, "all");
  EXPECT_EQ(Classify("SHOW TRANSACTION ISOLATION LEVEL").name, "transaction_isolation");
  EXPECT_EQ(Classify("show server_version").name, "server_version");

  EXPECT_EQ(Classify("BEGIN").transaction, TransactionEffect::kBegin);
  EXPECT_EQ(Classify("BEGIN").tag, "BEGIN");
  EXPECT_EQ(Classify("START TRANSACTION READ ONLY").tag, "START TRANSACTION");
  EXPECT_EQ(Classify("BEGIN READ WRITE").error.sqlstate, "25006");
  EXPECT_EQ(Classify("COMMIT").tag, "COMMIT");
  EXPECT_EQ(Classify("end").transaction, TransactionEffect::kCommit);
  EXPECT_EQ(Classify("ROLLBACK").transaction, TransactionEffect::kRollback);
  EXPECT_EQ(Classify("ROLLBACK TO SAVEPOINT a").transaction, TransactionEffect::kRollbackToSavepoint);
  EXPECT_EQ(Classify("SAVEPOINT a").tag, "SAVEPOINT");
  EXPECT_EQ(Classify("RELEASE SAVEPOINT a").tag, "RELEASE");
  EXPECT_EQ(Classify("DISCARD ALL").tag, "DISCARD ALL");
  EXPECT_EQ(Classify("DEALLOCATE ALL").tag, "DEALLOCATE ALL");
  EXPECT_EQ(Classify("LISTEN x").kind, StatementKind::kNoOp);

  Statement copy = Classify("COPY (SELECT id FROM a.b.c) TO STDOUT WITH (FORMAT csv)");
  EXPECT_EQ(copy.kind, StatementKind::kData);
  EXPECT_EQ(copy.tag, "COPY");
  EXPECT_EQ(copy.sql, "SELECT id FROM a.b.c");
  EXPECT_EQ(copy.value, "WITH (FORMAT csv)");
  EXPECT_EQ(Classify("COPY a.b.c TO STDOUT").sql, "SELECT * FROM a.b.c");
  EXPECT_EQ(Classify("COPY a.b.c TO '/tmp/x'").error.sqlstate, "42501");
}

// SQL-level prepared statements (psql's only way to run a statement with parameters).
TEST(ClassifyTest, PrepareNamesItsQueryAndDeclaredTypes) {
  Statement st = Classify("PREPARE By_Id (integer, text) AS SELECT * FROM a.b.c WHERE id = $1");
  EXPECT_EQ(st.kind, StatementKind::kPrepare);
  EXPECT_EQ(st.tag, "PREPARE");
  EXPECT_EQ(st.name, "by_id");  // folded, as PostgreSQL does
  EXPECT_EQ(st.sql, "SELECT * FROM a.b.c WHERE id = $1");
  EXPECT_EQ(st.parameter_oids, (std::vector<int32_t>{23, 25}));
  EXPECT_EQ(Classify("PREPARE \"Q\" AS VALUES (1)").name, "Q");
  EXPECT_TRUE(Classify("PREPARE q AS SELECT 1").parameter_oids.empty());
  EXPECT_EQ(Classify("prepare q (double precision, numeric(10, 2), pg_catalog.int8, "
                     "timestamp with time zone, varchar(5), int[]) as select $1")
                .parameter_oids,
            (std::vector<int32_t>{701, 1700, 20, 1184, 1043, 1007}));
  EXPECT_EQ(Classify("PREPARE q (money) AS SELECT $1").error.sqlstate, "42704");
  EXPECT_EQ(Classify("PREPARE q SELECT 1").error.sqlstate, "42601");
  EXPECT_EQ(Classify("PREPARE \"\" AS SELECT 1").error.sqlstate, "42601");  // not the unnamed one
  EXPECT_EQ(Classify("EXECUTE \"\"").error.sqlstate, "42601");
  EXPECT_EQ(Classify("PREPARE q AS").error.sqlstate, "42601");
  EXPECT_EQ(Classify("PREPARE TRANSACTION 'x'").error.sqlstate, "0A000");
}

TEST(ClassifyTest, ExecuteTakesConstantsOnly) {
  Statement st = Classify("EXECUTE q (42, -1.5, 'it''s', NULL, TRUE, E'a\\nb', $x$raw'$x$)");
  ASSERT_EQ(st.kind, StatementKind::kExecute) << st.error.message;
  EXPECT_EQ(st.name, "q");
  ASSERT_EQ(st.arguments.size(), 7u);
  EXPECT_EQ(st.arguments[0].text, "42");
  EXPECT_EQ(st.arguments[1].text, "-1.5");
  EXPECT_EQ(st.arguments[2].text, "it's");
  EXPECT_TRUE(st.arguments[3].is_null);
  EXPECT_EQ(st.arguments[4].text, "true");
  EXPECT_EQ(st.arguments[4].type_oid, 16);
  EXPECT_EQ(st.arguments[5].text, "a\nb");
  EXPECT_EQ(st.arguments[6].text, "raw'");
  EXPECT_EQ(st.arguments[0].type_oid, 0);  // no cast: the parameter's type decides

  Statement casts = Classify("EXECUTE q('2024-01-31'::date, CAST('7' AS bigint), "
                             "TIMESTAMP '2024-01-01 10:00', '5'::text::int4)");
  ASSERT_EQ(casts.kind, StatementKind::kExecute) << casts.error.message;
  EXPECT_EQ(casts.arguments[0].type_oid, 1082);
  EXPECT_EQ(casts.arguments[0].text, "2024-01-31");
  EXPECT_EQ(casts.arguments[1].type_oid, 20);
  EXPECT_EQ(casts.arguments[1].text, "7");
  EXPECT_EQ(casts.arguments[2].type_oid, 1114);
  EXPECT_EQ(casts.arguments[3].type_oid, 23);
  EXPECT_TRUE(Classify("EXECUTE q").arguments.empty());
  EXPECT_EQ(Classify("EXECUTE q").kind, StatementKind::kExecute);

  // Anything but a constant is refused before it could reach SQL text.
  for (const char* bad : {"EXECUTE q((SELECT 1))", "EXECUTE q(1 + 1)", "EXECUTE q(now())",
                          "EXECUTE q(x)", "EXECUTE q($1)", "EXECUTE q('a' || 'b')",
                          "EXECUTE q(1,)", "EXECUTE q(E'\\101')", "EXECUTE q('1') extra",
                          "EXECUTE q(CAST(1 + 1 AS int))", "EXECUTE q('a' 'b')",
                          "EXECUTE q(CAST(CAST(1 AS int) AS int))"}) {
    Statement refused = Classify(bad);
    EXPECT_EQ(refused.kind, StatementKind::kRefused) << bad;
    EXPECT_FALSE(refused.error.sqlstate.empty()) << bad;
  }
  EXPECT_EQ(Classify("EXECUTE q('1'::nosuchtype)").error.sqlstate, "42704");
  EXPECT_EQ(Classify("EXECUTE q(now())").error.sqlstate, "0A000");
  std::string deep = "EXECUTE q(";  // nesting a client could make deep: refused, not recursed
  for (int i = 0; i < 100000; ++i) deep += "CAST(";
  deep += "1";
  for (int i = 0; i < 100000; ++i) deep += " AS int)";
  EXPECT_EQ(Classify(deep + ")").error.sqlstate, "0A000");
}

TEST(ClassifyTest, DeallocateOneOrAll) {
  Statement one = Classify("DEALLOCATE PREPARE By_Id");
  EXPECT_EQ(one.kind, StatementKind::kDeallocate);
  EXPECT_EQ(one.name, "by_id");
  EXPECT_EQ(one.tag, "DEALLOCATE");
  EXPECT_EQ(Classify("deallocate q").name, "q");
  EXPECT_EQ(Classify("DEALLOCATE prepare").name, "prepare");
  Statement all = Classify("DEALLOCATE ALL");
  EXPECT_EQ(all.kind, StatementKind::kDeallocate);
  EXPECT_EQ(all.tag, "DEALLOCATE ALL");
  EXPECT_EQ(Classify("DEALLOCATE \"all\"").tag, "DEALLOCATE");
  EXPECT_EQ(Classify("DEALLOCATE").error.sqlstate, "42601");
}

TEST(TypeOidOfNameTest, PostgresSpellings) {
  EXPECT_EQ(TypeOidOfName("integer"), 23);
  EXPECT_EQ(TypeOidOfName("character varying(20)"), 1043);
  EXPECT_EQ(TypeOidOfName("text[]"), 1009);
  EXPECT_EQ(TypeOidOfName("boolean"), 16);
  EXPECT_EQ(TypeOidOfName("geometry"), -1);
}

TEST(SplitStatementsTest, SplitsOutsideQuotesAndComments) {
  auto parts = SplitStatements("SELECT ';'; /* ; */ SELECT $$;$$ ; -- ;\n SELECT \"a;b\"");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "SELECT ';'");
  EXPECT_EQ(SplitStatements("  ").size(), 1u);
  EXPECT_EQ(SplitStatements(";;").size(), 1u);
  EXPECT_EQ(SplitStatements("BEGIN; SELECT 1;").size(), 2u);
}

TEST(SessionSettingsTest, SetResetShow) {
  SessionSettings s;
  s.SetFromStartup("user", "nora");
  s.SetFromStartup("application_name", "psql");
  s.SetFromStartup("client_encoding", "latin1");  // ignored: stays UTF8
  std::string value;
  WireError error;
  ASSERT_TRUE(s.Show("application_name", &value, &error));
  EXPECT_EQ(value, "psql");
  ASSERT_TRUE(s.Show("client_encoding", &value, &error));
  EXPECT_EQ(value, "UTF8");
  ASSERT_TRUE(s.Show("session_authorization", &value, &error));
  EXPECT_EQ(value, "nora");
  EXPECT_TRUE(s.Set("application_name", "x", &error));
  EXPECT_TRUE(s.Set("statement_timeout", "5s", &error));
  EXPECT_EQ(s.statement_timeout_ms(), 5000);
  EXPECT_TRUE(s.Set("DateStyle", "ISO", &error));
  ASSERT_TRUE(s.Show("datestyle", &value, &error));
  EXPECT_EQ(value, "ISO, MDY");
  EXPECT_FALSE(s.Set("DateStyle", "German", &error));
  EXPECT_EQ(error.sqlstate, "22023");
  EXPECT_FALSE(s.Set("no_such_thing", "1", &error));
  EXPECT_EQ(error.sqlstate, "42704");
  EXPECT_TRUE(s.Set("myapp.tenant", "7", &error));
  EXPECT_FALSE(s.Set("server_version", "9", &error));
  EXPECT_EQ(error.sqlstate, "55P02");
  EXPECT_FALSE(s.Set("transaction_read_only", "off", &error));
  EXPECT_FALSE(s.Show("nope", &value, &error));
  EXPECT_EQ(error.sqlstate, "42704");
  EXPECT_TRUE(s.Reset("all", &error));
  ASSERT_TRUE(s.Show("application_name", &value, &error));
  EXPECT_EQ(value, "psql");
  EXPECT_EQ(s.statement_timeout_ms(), 0);
  EXPECT_TRUE(SessionSettings::IsReported("timezone"));
  EXPECT_EQ(SessionSettings::ReportedName("datestyle"), "DateStyle");
  bool has_version = false;
  for (const auto& [name, v] : s.ReportedParameters()) has_version |= name == "server_version";
  EXPECT_TRUE(has_version);
}

TEST_F(ShadowTest, FunctionsClientsCallAtConnect) {
  EXPECT_EQ(Rows("SELECT current_database(), current_schema()"), std::vector<std::string>{"plexus|public"});
  EXPECT_TRUE(Contains(Rows("select version()"), "PostgreSQL 15.0"));
  EXPECT_EQ(Rows("SELECT 1"), std::vector<std::string>{"1"});
}

// psql 15: \l, \dn, \dt *.*, \dt "customers.customers".* (queries as psql -E prints them).
TEST_F(ShadowTest, PsqlListings) {
  auto databases = Rows(R"(SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       d.datctype as "Ctype",
       d.daticulocale as "ICU Locale",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1;)");
  ASSERT_EQ(databases.size(), 1u);
  EXPECT_EQ(databases[0].substr(0, 19), "plexus|plexus|UTF8|");

  auto schemas = Rows(R"(SELECT n.nspname AS "Name",
  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;)");
  EXPECT_EQ(schemas, (std::vector<std::string>{"customers.customers|plexus", "public|plexus",
                                               "sales.sales|plexus"}));

  const std::string dt = R"(SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','t','s','')
)";
  auto all = Rows(dt + "ORDER BY 1,2;");
  EXPECT_TRUE(Contains(all, "customers.customers|customers|table|plexus"));
  EXPECT_TRUE(Contains(all, "sales.sales|sales|table|plexus"));
  EXPECT_FALSE(Contains(all, "orders"));  // restricted, no grant
  EXPECT_FALSE(Contains(all, "staff"));   // private to hr
  auto one = Rows(dt + R"(  AND n.nspname OPERATOR(pg_catalog.~) E'^(customers\\.customers)$' COLLATE pg_catalog.default
ORDER BY 1,2;)");
  EXPECT_EQ(one, std::vector<std::string>{"customers.customers|customers|table|plexus"});
}

// psql 15: \d "customers.customers".customers and \d+, every query it sends.
TEST_F(ShadowTest, PsqlDescribeTable) {
  auto found = Rows(R"(SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(customers)$' COLLATE pg_catalog.default
  AND n.nspname OPERATOR(pg_catalog.~) E'^(customers\\.customers)$' COLLATE pg_catalog.default
ORDER BY 2, 3;)");
  ASSERT_EQ(found.size(), 1u);
  std::string oid = found[0].substr(0, found[0].find('|'));
  auto info = Rows("SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')\n"
                   ", c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname\n"
                   "FROM pg_catalog.pg_class c\n LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)\n"
                   "LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)\nWHERE c.oid = '" + oid + "';");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].substr(0, 2), "0|");
  auto columns = Rows(R"(SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated,
  a.attstorage,
  a.attcompression AS attcompression,
  CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS attstattarget,
  pg_catalog.col_description(a.attrelid, a.attnum)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ')" + oid + R"(' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;)");
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0], "id|bigint|NULL|true|NULL|||p||NULL|Identifier");
  EXPECT_EQ(columns[1].substr(0, 20), "amount|numeric(18,2)");
  EXPECT_EQ(columns[2].substr(0, 11), "email|text|");
  const std::vector<std::string> empty_answers = {
      "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),\n  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace\nFROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i\n  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))\nWHERE c.oid = 'OID' AND c.oid = i.indrelid AND i.indexrelid = c2.oid\nORDER BY i.indisprimary DESC, c2.relname;",
      "SELECT pol.polname, pol.polpermissive,\n  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,\n  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),\n  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),\n  CASE pol.polcmd\n    WHEN 'r' THEN 'SELECT'\n    WHEN 'a' THEN 'INSERT'\n    WHEN 'w' THEN 'UPDATE'\n    WHEN 'd' THEN 'DELETE'\n    END AS cmd\nFROM pg_catalog.pg_policy pol\nWHERE pol.polrelid = 'OID' ORDER BY 1;",
      "SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,\npg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,\n  'd' = any(stxkind) AS ndist_enabled,\n  'f' = any(stxkind) AS deps_enabled,\n  'm' = any(stxkind) AS mcv_enabled,\nstxstattarget\nFROM pg_catalog.pg_statistic_ext\nWHERE stxrelid = 'OID'\nORDER BY nsp, stxname;",
      "SELECT pubname\n     , NULL\n     , NULL\nFROM pg_catalog.pg_publication p\n     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid\n     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid\nWHERE pc.oid ='OID' and pg_catalog.pg_relation_is_publishable('OID')\nUNION\nSELECT pubname\n     , pg_get_expr(pr.prqual, c.oid)\n     , (CASE WHEN pr.prattrs IS NOT NULL THEN\n         (SELECT string_agg(attname, ', ')\n           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,\n                pg_catalog.pg_attribute\n          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])\n        ELSE NULL END) FROM pg_catalog.pg_publication p\n     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid\n     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid\nWHERE pr.prrelid = 'OID'\nUNION\nSELECT pubname\n     , NULL\n     , NULL\nFROM pg_catalog.pg_publication p\nWHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('OID')\nORDER BY 1;",
      "SELECT c.oid::pg_catalog.regclass\nFROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\nWHERE c.oid = i.inhparent AND i.inhrelid = 'OID'\n  AND c.relkind != 'p' AND c.relkind != 'I'\nORDER BY inhseqno;",
      "SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)\nFROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\nWHERE c.oid = i.inhrelid AND i.inhparent = 'OID'\nORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;",
  };
  for (std::string sql : empty_answers) {
    for (size_t at; (at = sql.find("OID")) != std::string::npos;) sql.replace(at, 3, oid);
    EXPECT_TRUE(Rows(sql).empty()) << sql;
  }
}

// The PostgreSQL JDBC driver 42.5: getSchemas, getTables, getColumns (from the server's log).
TEST_F(ShadowTest, JdbcDatabaseMetaData) {
  auto schemas = Rows("SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY TABLE_SCHEM");
  EXPECT_EQ(schemas, (std::vector<std::string>{"customers.customers|NULL", "information_schema|NULL",
                                               "pg_catalog|NULL", "public|NULL", "sales.sales|NULL"}));
  auto tables = Rows("SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND c.relname LIKE '%' AND (false  OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' )  OR ( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' ) )  ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME ");
  EXPECT_EQ(tables, (std::vector<std::string>{
                        "NULL|customers.customers|customers|TABLE|The customers|||||",
                        "NULL|sales.sales|sales|TABLE|The sales|||||"}));
  auto columns = Rows("SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'customers.customers' AND c.relname LIKE 'customers') c WHERE true  AND attname LIKE '%' ORDER BY nspname,c.relname,attnum ");
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].substr(0, 34), "customers.customers|customers|id|2");
  EXPECT_TRUE(Contains(columns, "amount|1700|false|1179654"));
  // Nothing of the ports the principal may not read.
  auto hidden = Rows("SELECT count(*) FROM pg_catalog.pg_class WHERE relname IN ('orders', 'staff')");
  EXPECT_EQ(hidden, std::vector<std::string>{"0"});
}

// psycopg2 and node-postgres run plain SQL: information_schema and pg_catalog.
TEST_F(ShadowTest, InformationSchema) {
  auto tables = Rows("SELECT table_schema, table_name FROM information_schema.tables "
                     "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2");
  EXPECT_EQ(tables, (std::vector<std::string>{"customers.customers|customers", "sales.sales|sales"}));
  auto columns = Rows("SELECT column_name, data_type, is_nullable, numeric_precision, numeric_scale "
                      "FROM information_schema.columns WHERE table_schema = 'customers.customers' "
                      "AND table_name = 'customers' ORDER BY ordinal_position");
  EXPECT_EQ(columns, (std::vector<std::string>{"id|bigint|NO|63|0", "amount|numeric|YES|18|2",
                                               "email|text|YES|NULL|NULL"}));
  EXPECT_EQ(Rows("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'hr.hr'"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(Rows("SELECT 'pg_class'::regclass::oid"), std::vector<std::string>{"1259"});
}

// A product governance quarantines is listed as querying it is allowed: to its own domain
// and to mesh admins only.
TEST_F(ShadowTest, QuarantinedProductsListedOnlyToTheirDomainAndAdmins) {
  std::vector<catalog::OutputPortRecord> ports = {
      Port("customers", "customers", "customers", "public"),
      Port("sales", "sales", "sales", "private"),
  };
  std::map<std::string, std::string> quarantined = {
      {"customers.customers", "no-pii: unmasked"}, {"sales.sales", "no-pii: unmasked"}};
  auto policy = std::make_shared<const access::AccessPolicy>(
      ports, std::vector<catalog::GrantRecord>{}, "salt", quarantined);
  const std::string sql = "SELECT table_schema, table_name FROM information_schema.tables "
                          "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                          "ORDER BY 1, 2";
  auto shadow = MetadataShadow::Build(policy, principal_, "2030-01-01T00:00:00.000Z");
  ASSERT_TRUE(shadow.ok());
  shadow_ = *shadow;
  EXPECT_EQ(Rows(sql), std::vector<std::string>{"sales.sales|sales"})
      << "nora (a member of sales) sees her own domain's quarantined product only";
  access::Principal admin = principal_;
  admin.name = "ada";
  admin.admin = true;
  shadow = MetadataShadow::Build(policy, admin, "2030-01-01T00:00:00.000Z");
  ASSERT_TRUE(shadow.ok());
  shadow_ = *shadow;
  EXPECT_EQ(Rows(sql),
            (std::vector<std::string>{"customers.customers|customers", "sales.sales|sales"}));
}

// The extended protocol's path: prepare, describe, bind, execute, again.
TEST_F(ShadowTest, PreparedCatalogQuery) {
  Statement st = Classify("SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace "
                          "WHERE nspname LIKE $1 ORDER BY TABLE_SCHEM");
  auto conn = shadow_->Connect();
  ASSERT_TRUE(conn.ok());
  auto prepared = (*conn)->Prepare(st.sql);
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_EQ((*prepared)->parameter_count(), 1u);
  EXPECT_EQ((*prepared)->columns().size(), 2u);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE((*prepared)->Bind(1, engine::ParameterValue::Text("customers%")).ok());
    auto result = (*prepared)->Execute();
    ASSERT_TRUE(result.ok());
    auto chunk = (*result)->Fetch();
    ASSERT_TRUE(chunk.ok() && *chunk != nullptr);
    EXPECT_EQ((*chunk)->Text(0, 0), "customers.customers");
  }
}

TEST_F(ShadowTest, ReadsNoFilesAndChangesNothing) {
  auto conn = shadow_->Connect();
  ASSERT_TRUE(conn.ok());
  EXPECT_FALSE((*conn)->Query("SELECT * FROM read_csv('/etc/passwd')").ok());
  EXPECT_FALSE((*conn)->Execute("SET lock_configuration = false").ok());
  EXPECT_FALSE((*conn)->Execute("SET enable_external_access = true").ok());
}

}  // namespace
}  // namespace plexus::server::pg
