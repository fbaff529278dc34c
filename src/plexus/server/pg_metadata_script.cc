// ShadowScript: PostgreSQL's catalog, as DuckDB tables and macros, for the ports one
// principal may read. Schemas: plexus_pg (pg_catalog), plexus_is (information_schema).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "plexus/engine/engine.h"
#include "plexus/server/pg_metadata_internal.h"

namespace plexus::server::pg {
namespace {

using engine::QuoteLiteral;

/// A PostgreSQL type of the shadow: oid, name, SQL spelling, length, element oid, array oid.
struct PgType {
  int oid;
  const char* name;
  const char* sql;
  int len;
  int elem;
  int array;
  const char* category;
};

constexpr PgType kTypes[] = {
    {16, "bool", "boolean", 1, 0, 1000, "B"},
    {17, "bytea", "bytea", -1, 0, 1001, "U"},
    {20, "int8", "bigint", 8, 0, 1016, "N"},
    {21, "int2", "smallint", 2, 0, 1005, "N"},
    {23, "int4", "integer", 4, 0, 1007, "N"},
    {25, "text", "text", -1, 0, 1009, "S"},
    {114, "json", "json", -1, 0, 199, "U"},
    {700, "float4", "real", 4, 0, 1021, "N"},
    {701, "float8", "double precision", 8, 0, 1022, "N"},
    {1043, "varchar", "character varying", -1, 0, 1015, "S"},
    {1082, "date", "date", 4, 0, 1182, "D"},
    {1083, "time", "time without time zone", 8, 0, 1183, "D"},
    {1114, "timestamp", "timestamp without time zone", 8, 0, 1115, "D"},
    {1184, "timestamptz", "timestamp with time zone", 8, 0, 1185, "D"},
    {1186, "interval", "interval", 16, 0, 1187, "T"},
    {1266, "timetz", "time with time zone", 12, 0, 1270, "D"},
    {1700, "numeric", "numeric", -1, 0, 1231, "N"},
    {2950, "uuid", "uuid", 16, 0, 2951, "U"},
    {1000, "_bool", "boolean[]", -1, 16, 0, "A"},
    {1001, "_bytea", "bytea[]", -1, 17, 0, "A"},
    {1005, "_int2", "smallint[]", -1, 21, 0, "A"},
    {1007, "_int4", "integer[]", -1, 23, 0, "A"},
    {1009, "_text", "text[]", -1, 25, 0, "A"},
    {1015, "_varchar", "character varying[]", -1, 1043, 0, "A"},
    {1016, "_int8", "bigint[]", -1, 20, 0, "A"},
    {1021, "_float4", "real[]", -1, 700, 0, "A"},
    {1022, "_float8", "double precision[]", -1, 701, 0, "A"},
    {1115, "_timestamp", "timestamp without time zone[]", -1, 1114, 0, "A"},
    {1182, "_date", "date[]", -1, 1082, 0, "A"},
    {1183, "_time", "time without time zone[]", -1, 1083, 0, "A"},
    {1185, "_timestamptz", "timestamp with time zone[]", -1, 1184, 0, "A"},
    {1187, "_interval", "interval[]", -1, 1186, 0, "A"},
    {1231, "_numeric", "numeric[]", -1, 1700, 0, "A"},
    {199, "_json", "json[]", -1, 114, 0, "A"},
    {2951, "_uuid", "uuid[]", -1, 2950, 0, "A"},
};

const PgType& TypeByOid(int oid) {
  for (const PgType& t : kTypes) {
    if (t.oid == oid) return t;
  }
  return kTypes[5];  // text
}

/// The PostgreSQL type oid and typmod of a DuckDB type name.
std::pair<int, int> PgTypeOf(std::string type) {
  for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bool array = type.size() > 2 && type.compare(type.size() - 2, 2, "[]") == 0;
  if (array) type.resize(type.size() - 2);
  int oid = 25;
  int typmod = -1;
  if (type == "BOOLEAN" || type == "BOOL") oid = 16;
  else if (type == "TINYINT" || type == "SMALLINT" || type == "UTINYINT") oid = 21;
  else if (type == "INTEGER" || type == "INT" || type == "USMALLINT") oid = 23;
  else if (type == "BIGINT" || type == "UINTEGER") oid = 20;
  else if (type == "HUGEINT" || type == "UBIGINT" || type == "UHUGEINT") oid = 1700;
  else if (type == "FLOAT" || type == "REAL") oid = 700;
  else if (type == "DOUBLE") oid = 701;
  else if (type.rfind("DECIMAL", 0) == 0 || type.rfind("NUMERIC", 0) == 0) {
    oid = 1700;
    int precision = 0;
    int scale = 0;
    if (std::sscanf(type.c_str() + type.find('(') + 1, "%d,%d", &precision, &scale) == 2 &&
        type.find('(') != std::string::npos) {
      typmod = ((precision << 16) | scale) + 4;
    }
  } else if (type == "DATE") oid = 1082;
  else if (type == "TIME") oid = 1083;
  else if (type == "TIME WITH TIME ZONE" || type == "TIMETZ") oid = 1266;
  else if (type.rfind("TIMESTAMP WITH TIME ZONE", 0) == 0 || type == "TIMESTAMPTZ") oid = 1184;
  else if (type.rfind("TIMESTAMP", 0) == 0 || type == "DATETIME") oid = 1114;
  else if (type == "INTERVAL") oid = 1186;
  else if (type == "UUID") oid = 2950;
  else if (type == "BLOB" || type == "BYTEA") oid = 17;
  else if (type == "JSON") oid = 114;
  if (array) oid = TypeByOid(oid).array != 0 ? TypeByOid(oid).array : 1009;
  return {oid, typmod};
}

const char* kCatalogTables = R"sql(
CREATE SCHEMA plexus_pg;
CREATE SCHEMA plexus_is;
CREATE TABLE plexus_pg.pg_namespace(oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]);
CREATE TABLE plexus_pg.pg_class(oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT,
  reloftype BIGINT, relowner BIGINT, relam BIGINT, relfilenode BIGINT, reltablespace BIGINT,
  relpages INTEGER, reltuples FLOAT, relallvisible INTEGER, reltoastrelid BIGINT,
  relhasindex BOOLEAN, relisshared BOOLEAN, relpersistence VARCHAR, relkind VARCHAR,
  relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN,
  relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN,
  relispopulated BOOLEAN, relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT,
  relfrozenxid BIGINT, relminmxid BIGINT, relacl VARCHAR[], reloptions VARCHAR[],
  relpartbound VARCHAR);
CREATE TABLE plexus_pg.pg_attribute(attrelid BIGINT, attname VARCHAR, atttypid BIGINT,
  attstattarget INTEGER, attlen SMALLINT, attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER,
  atttypmod INTEGER, attbyval BOOLEAN, attalign VARCHAR, attstorage VARCHAR,
  attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN,
  attidentity VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, attislocal BOOLEAN,
  attinhcount INTEGER, attcollation BIGINT, attacl VARCHAR[], attoptions VARCHAR[],
  attfdwoptions VARCHAR[]);
CREATE TABLE plexus_pg.pg_type(oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT,
  typlen SMALLINT, typbyval BOOLEAN, typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN,
  typisdefined BOOLEAN, typdelim VARCHAR, typrelid BIGINT, typsubscript VARCHAR, typelem BIGINT,
  typarray BIGINT, typinput VARCHAR, typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR,
  typmodin VARCHAR, typmodout VARCHAR, typanalyze VARCHAR, typalign VARCHAR, typstorage VARCHAR,
  typnotnull BOOLEAN, typbasetype BIGINT, typtypmod INTEGER, typndims INTEGER,
  typcollation BIGINT, typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[]);
CREATE TABLE plexus_pg.plexus_type_sql(oid BIGINT, sqlname VARCHAR);
CREATE TABLE plexus_pg.pg_description(objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR);
CREATE TABLE plexus_pg.pg_database(oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER,
  datlocprovider VARCHAR, datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER,
  datfrozenxid BIGINT, datminmxid BIGINT, dattablespace BIGINT, datcollate VARCHAR,
  datctype VARCHAR, daticulocale VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]);
CREATE TABLE plexus_pg.pg_roles(oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN,
  rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN,
  rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN,
  rolconfig VARCHAR[]);
CREATE TABLE plexus_pg.pg_am(oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR);
INSERT INTO plexus_pg.pg_am VALUES (2, 'heap', 'heap_tableam_handler', 't');
CREATE TABLE plexus_pg.pg_tablespace(oid BIGINT, spcname VARCHAR, spcowner BIGINT, spcacl VARCHAR[], spcoptions VARCHAR[]);
INSERT INTO plexus_pg.pg_tablespace VALUES (1663, 'pg_default', 10, NULL, NULL);
CREATE TABLE plexus_pg.pg_attrdef(oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR);
CREATE TABLE plexus_pg.pg_index(indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT,
  indnkeyatts SMALLINT, indisunique BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN,
  indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN, indisready BOOLEAN,
  indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indexprs VARCHAR, indpred VARCHAR);
CREATE TABLE plexus_pg.pg_constraint(oid BIGINT, conname VARCHAR, connamespace BIGINT,
  contype VARCHAR, condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN,
  conrelid BIGINT, contypid BIGINT, conindid BIGINT, conparentid BIGINT, confrelid BIGINT,
  confupdtype VARCHAR, confdeltype VARCHAR, confmatchtype VARCHAR, conkey SMALLINT[],
  confkey SMALLINT[], conbin VARCHAR);
CREATE TABLE plexus_pg.pg_collation(oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT);
CREATE TABLE plexus_pg.pg_policy(oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR,
  polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR);
CREATE TABLE plexus_pg.pg_statistic_ext(oid BIGINT, stxrelid BIGINT, stxname VARCHAR,
  stxnamespace BIGINT, stxowner BIGINT, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[]);
CREATE TABLE plexus_pg.pg_publication(oid BIGINT, pubname VARCHAR, pubowner BIGINT,
  puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN,
  pubtruncate BOOLEAN, pubviaroot BOOLEAN);
CREATE TABLE plexus_pg.pg_publication_rel(oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]);
CREATE TABLE plexus_pg.pg_publication_namespace(oid BIGINT, pnpubid BIGINT, pnnspid BIGINT);
CREATE TABLE plexus_pg.pg_inherits(inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN);
CREATE TABLE plexus_pg.pg_proc(oid BIGINT, proname VARCHAR, pronamespace BIGINT, proowner BIGINT,
  prokind VARCHAR, prorettype BIGINT, proargtypes VARCHAR, proretset BOOLEAN);
CREATE TABLE plexus_pg.pg_enum(oid BIGINT, enumtypid BIGINT, enumsortorder FLOAT, enumlabel VARCHAR);
CREATE TABLE plexus_pg.pg_range(rngtypid BIGINT, rngsubtype BIGINT);
CREATE TABLE plexus_pg.pg_extension(oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, extversion VARCHAR);
CREATE TABLE plexus_pg.pg_trigger(oid BIGINT, tgrelid BIGINT, tgname VARCHAR, tgenabled VARCHAR, tgisinternal BOOLEAN);
CREATE TABLE plexus_pg.pg_rewrite(oid BIGINT, rulename VARCHAR, ev_class BIGINT);
CREATE TABLE plexus_pg.pg_depend(classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT, refobjsubid INTEGER, deptype VARCHAR);
CREATE TABLE plexus_pg.pg_foreign_table(ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]);
CREATE TABLE plexus_pg.pg_partitioned_table(partrelid BIGINT, partstrat VARCHAR);
CREATE TABLE plexus_pg.pg_sequence(seqrelid BIGINT, seqtypid BIGINT);
CREATE TABLE plexus_pg.pg_event_trigger(oid BIGINT, evtname VARCHAR);
CREATE TABLE plexus_pg.pg_language(oid BIGINT, lanname VARCHAR);
CREATE TABLE plexus_pg.pg_operator(oid BIGINT, oprname VARCHAR, oprnamespace BIGINT);
)sql";

const char* kCatalogViews = R"sql(
CREATE VIEW plexus_pg.pg_user AS SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb,
  rolsuper AS usesuper, rolreplication AS userepl, rolbypassrls AS usebypassrls, '********' AS passwd,
  rolvaliduntil AS valuntil, rolconfig AS useconfig FROM plexus_pg.pg_roles;
CREATE VIEW plexus_pg.pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename,
  'plexus' AS tableowner, NULL::VARCHAR AS tablespace, false AS hasindexes, false AS hasrules,
  false AS hastriggers, false AS rowsecurity
  FROM plexus_pg.pg_class c JOIN plexus_pg.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r';
CREATE VIEW plexus_pg.pg_views AS SELECT ''::VARCHAR AS schemaname, ''::VARCHAR AS viewname,
  ''::VARCHAR AS viewowner, ''::VARCHAR AS definition WHERE false;
CREATE VIEW plexus_pg.pg_matviews AS SELECT ''::VARCHAR AS schemaname, ''::VARCHAR AS matviewname,
  ''::VARCHAR AS matviewowner, ''::VARCHAR AS definition WHERE false;
CREATE VIEW plexus_pg.pg_indexes AS SELECT ''::VARCHAR AS schemaname, ''::VARCHAR AS tablename,
  ''::VARCHAR AS indexname, ''::VARCHAR AS tablespace, ''::VARCHAR AS indexdef WHERE false;
CREATE VIEW plexus_is.schemata AS SELECT 'plexus' AS catalog_name, nspname AS schema_name,
  'plexus' AS schema_owner, NULL::VARCHAR AS default_character_set_catalog,
  NULL::VARCHAR AS default_character_set_schema, NULL::VARCHAR AS default_character_set_name,
  NULL::VARCHAR AS sql_path FROM plexus_pg.pg_namespace;
CREATE VIEW plexus_is.tables AS SELECT 'plexus' AS table_catalog, n.nspname AS table_schema,
  c.relname AS table_name, CASE WHEN n.nspname = 'pg_catalog' THEN 'SYSTEM TABLE' ELSE 'BASE TABLE' END AS table_type,
  NULL::VARCHAR AS self_referencing_column_name, NULL::VARCHAR AS reference_generation,
  NULL::VARCHAR AS user_defined_type_catalog, NULL::VARCHAR AS user_defined_type_schema,
  NULL::VARCHAR AS user_defined_type_name, 'NO' AS is_insertable_into, 'NO' AS is_typed,
  NULL::VARCHAR AS commit_action
  FROM plexus_pg.pg_class c JOIN plexus_pg.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r';
CREATE VIEW plexus_is.views AS SELECT ''::VARCHAR AS table_catalog, ''::VARCHAR AS table_schema,
  ''::VARCHAR AS table_name, ''::VARCHAR AS view_definition WHERE false;
CREATE VIEW plexus_is.columns AS SELECT 'plexus' AS table_catalog, n.nspname AS table_schema,
  c.relname AS table_name, a.attname AS column_name, a.attnum::INTEGER AS ordinal_position,
  NULL::VARCHAR AS column_default, CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
  CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE s.sqlname END AS data_type,
  NULL::INTEGER AS character_maximum_length, NULL::INTEGER AS character_octet_length,
  CASE WHEN a.atttypid = 1700 AND a.atttypmod > 4 THEN (a.atttypmod - 4) >> 16
       WHEN a.atttypid IN (20, 21, 23) THEN t.typlen * 8 - 1 WHEN a.atttypid = 700 THEN 24
       WHEN a.atttypid = 701 THEN 53 END AS numeric_precision,
  CASE WHEN a.atttypid = 1700 THEN 10 WHEN a.atttypid IN (20, 21, 23, 700, 701) THEN 2 END AS numeric_precision_radix,
  CASE WHEN a.atttypid = 1700 AND a.atttypmod > 4 THEN (a.atttypmod - 4) & 65535
       WHEN a.atttypid IN (20, 21, 23) THEN 0 END AS numeric_scale,
  CASE WHEN a.atttypid IN (1082) THEN 0 WHEN a.atttypid IN (1083, 1114, 1184, 1266, 1186) THEN 6 END AS datetime_precision,
  'plexus' AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name,
  'NO' AS is_identity, 'NEVER' AS is_generated, 'NO' AS is_updatable
  FROM plexus_pg.pg_attribute a JOIN plexus_pg.pg_class c ON c.oid = a.attrelid
  JOIN plexus_pg.pg_namespace n ON n.oid = c.relnamespace
  JOIN plexus_pg.pg_type t ON t.oid = a.atttypid JOIN plexus_pg.plexus_type_sql s ON s.oid = a.atttypid
  WHERE c.relkind = 'r';
)sql";

const char* kMacros = R"sql(
CREATE MACRO plexus_pg.version() AS 'PostgreSQL 15.0 (Plexus data mesh) on x86_64-pc-linux-gnu, 64-bit';
CREATE MACRO plexus_pg.current_database() AS 'plexus';
CREATE MACRO plexus_pg.current_catalog() AS 'plexus';
CREATE MACRO plexus_pg.current_schema() AS 'public';
CREATE MACRO plexus_pg.current_schemas(implicit) AS CASE WHEN implicit THEN ['pg_catalog', 'public'] ELSE ['public'] END;
CREATE MACRO plexus_pg.pg_backend_pid() AS 0;
CREATE MACRO plexus_pg.pg_is_in_recovery() AS false;
CREATE MACRO plexus_pg.pg_encoding_to_char(e) AS 'UTF8';
CREATE MACRO plexus_pg.pg_get_userbyid(id) AS COALESCE((SELECT rolname FROM plexus_pg.pg_roles WHERE oid = id), 'unknown (OID=' || id || ')');
CREATE MACRO plexus_pg.pg_table_is_visible(id) AS COALESCE((SELECT relnamespace IN (11, 2200) FROM plexus_pg.pg_class WHERE oid = id), false);
CREATE MACRO plexus_pg.pg_type_is_visible(id) AS true;
CREATE MACRO plexus_pg.format_type(id, typmod) AS CASE
  WHEN id IS NULL THEN NULL
  WHEN id = 1700 AND typmod > 4 THEN 'numeric(' || ((typmod - 4) >> 16) || ',' || ((typmod - 4) & 65535) || ')'
  ELSE COALESCE((SELECT sqlname FROM plexus_pg.plexus_type_sql WHERE oid = id), '???') END;
CREATE MACRO plexus_pg.pg_get_expr(e, rel) AS NULL::VARCHAR, (e, rel, pretty) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.pg_get_indexdef(i) AS NULL::VARCHAR, (i, col, pretty) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.pg_get_constraintdef(c) AS NULL::VARCHAR, (c, pretty) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.pg_get_viewdef(v) AS NULL::VARCHAR, (v, pretty) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.pg_get_statisticsobjdef_columns(o) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.pg_relation_is_publishable(r) AS false;
CREATE MACRO plexus_pg.pg_relation_size(r) AS 0::BIGINT;
CREATE MACRO plexus_pg.pg_total_relation_size(r) AS 0::BIGINT;
CREATE MACRO plexus_pg.pg_size_pretty(s) AS s || ' bytes';
CREATE MACRO plexus_pg.array_upper(a, d) AS len(a);
CREATE MACRO plexus_pg.array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END;
CREATE MACRO plexus_pg.col_description(rel, col) AS (SELECT description FROM plexus_pg.pg_description WHERE objoid = rel AND objsubid = col);
CREATE MACRO plexus_pg.obj_description(o) AS (SELECT description FROM plexus_pg.pg_description WHERE objoid = o AND objsubid = 0),
  (o, cat) AS (SELECT description FROM plexus_pg.pg_description WHERE objoid = o AND objsubid = 0);
CREATE MACRO plexus_pg.shobj_description(o, cat) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.has_table_privilege(t, p) AS true, (u, t, p) AS true;
CREATE MACRO plexus_pg.has_schema_privilege(s, p) AS true, (u, s, p) AS true;
CREATE MACRO plexus_pg.has_database_privilege(d, p) AS true, (u, d, p) AS true;
CREATE MACRO plexus_pg.plexus_regclass_name(id) AS CASE WHEN id = 1259 THEN 'pg_class' ELSE (SELECT relname FROM plexus_pg.pg_class WHERE oid = id) END;
CREATE MACRO plexus_pg.plexus_regclass_oid(name) AS CASE WHEN regexp_replace(name, '^.*\.', '') = 'pg_class' THEN 1259 ELSE (SELECT oid FROM plexus_pg.pg_class WHERE relname = regexp_replace(name, '^.*\.', '') LIMIT 1) END;
CREATE MACRO plexus_pg.plexus_regtype_name(id) AS plexus_pg.format_type(id, NULL);
CREATE MACRO plexus_pg.plexus_regtype_oid(name) AS (SELECT oid FROM plexus_pg.pg_type WHERE typname = name LIMIT 1);
CREATE MACRO plexus_pg.plexus_regnamespace_name(id) AS (SELECT nspname FROM plexus_pg.pg_namespace WHERE oid = id);
CREATE MACRO plexus_pg.plexus_regnamespace_oid(name) AS (SELECT oid FROM plexus_pg.pg_namespace WHERE nspname = name);
CREATE MACRO plexus_pg.plexus_regproc_name(id) AS NULL::VARCHAR;
CREATE MACRO plexus_pg.plexus_regproc_oid(name) AS NULL::BIGINT;
)sql";

std::string TypeRows() {
  std::string sql = "INSERT INTO plexus_pg.pg_type VALUES ";
  std::string names = "INSERT INTO plexus_pg.plexus_type_sql VALUES ";
  bool first = true;
  for (const PgType& t : kTypes) {
    sql += std::string(first ? "" : ",\n") + "(" + std::to_string(t.oid) + ", '" + t.name +
           "', 11, 10, " + std::to_string(t.len) + ", " + (t.len > 0 && t.len <= 8 ? "true" : "false") +
           ", 'b', '" + t.category + "', false, true, ',', 0, NULL, " + std::to_string(t.elem) +
           ", " + std::to_string(t.array) + ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'i', " +
           "'p', false, 0, -1, 0, 0, NULL, NULL, NULL)";
    names += std::string(first ? "" : ", ") + "(" + std::to_string(t.oid) + ", '" + t.sql + "')";
    first = false;
  }
  return sql + ";\n" + names + ";\n";
}

}  // namespace

std::string ShadowScript(const std::vector<ShadowPort>& ports, const std::string& user) {
  std::string sql = kCatalogTables;
  sql += TypeRows();
  sql += "INSERT INTO plexus_pg.pg_database VALUES (16383, 'plexus', 10, 6, 'c', false, true, -1, "
         "0, 0, 1663, 'C.UTF-8', 'C.UTF-8', NULL, NULL, NULL);\n";
  sql += "INSERT INTO plexus_pg.pg_roles VALUES (10, 'plexus', false, true, false, false, false, "
         "false, -1, '********', NULL, false, NULL)";
  if (!user.empty() && user != "plexus") {
    sql += ", (16000, " + QuoteLiteral(user) +
           ", false, true, false, false, true, false, -1, '********', NULL, false, NULL)";
  }
  sql += ";\nINSERT INTO plexus_pg.pg_namespace VALUES (11, 'pg_catalog', 10, NULL), "
         "(2200, 'public', 10, NULL), (13000, 'information_schema', 10, NULL);\n";
  std::vector<std::string> schemas;
  int class_oid = 20000;
  for (const ShadowPort& port : ports) {
    std::string schema = port.domain + "." + port.product;
    auto found = std::find(schemas.begin(), schemas.end(), schema);
    int ns_oid = 16384 + static_cast<int>(found - schemas.begin());
    if (found == schemas.end()) {
      schemas.push_back(schema);
      sql += "INSERT INTO plexus_pg.pg_namespace VALUES (" + std::to_string(ns_oid) + ", " +
             QuoteLiteral(schema) + ", 10, NULL);\n";
    }
    int oid = class_oid++;
    sql += "INSERT INTO plexus_pg.pg_class (oid, relname, relnamespace, relowner, relam, relkind, "
           "relnatts, relpersistence, relreplident, reltablespace, reloftype, reltoastrelid, "
           "relchecks, relhasindex, relhasrules, relhastriggers, relrowsecurity, "
           "relforcerowsecurity, relispartition, relispopulated, relhassubclass, relisshared, "
           "reltuples, relpages) VALUES (" +
           std::to_string(oid) + ", " + QuoteLiteral(port.port) + ", " + std::to_string(ns_oid) +
           ", 10, 2, 'r', " + std::to_string(port.columns.size()) +
           ", 'p', 'd', 0, 0, 0, 0, false, false, false, false, false, false, true, false, "
           "false, -1, 0);\n";
    if (!port.description.empty()) {
      sql += "INSERT INTO plexus_pg.pg_description VALUES (" + std::to_string(oid) + ", 1259, 0, " +
             QuoteLiteral(port.description) + ");\n";
    }
    int attnum = 0;
    for (const ShadowPort::Column& column : port.columns) {
      ++attnum;
      auto [type_oid, typmod] = PgTypeOf(column.engine_type);
      const PgType& type = TypeByOid(type_oid);
      sql += "INSERT INTO plexus_pg.pg_attribute VALUES (" + std::to_string(oid) + ", " +
             QuoteLiteral(column.name) + ", " + std::to_string(type_oid) + ", -1, " +
             std::to_string(type.len) + ", " + std::to_string(attnum) + ", " +
             (type.elem != 0 ? "1" : "0") + ", -1, " + std::to_string(typmod) + ", " +
             (type.len > 0 && type.len <= 8 ? "true" : "false") + ", 'i', " +
             (type.len > 0 ? "'p'" : "'x'") + ", '', " + (column.not_null ? "true" : "false") +
             ", false, false, '', '', false, true, 0, 0, NULL, NULL, NULL);\n";
      if (!column.description.empty()) {
        sql += "INSERT INTO plexus_pg.pg_description VALUES (" + std::to_string(oid) +
               ", 1259, " + std::to_string(attnum) + ", " + QuoteLiteral(column.description) +
               ");\n";
      }
    }
  }
  sql += kCatalogViews;
  sql += kMacros;
  // Who is signed in, as PostgreSQL's current_user / session_user / user / current_role say.
  std::string who = QuoteLiteral(user.empty() ? std::string("plexus") : user);
  for (const char* name : {"current_user", "session_user", "user", "current_role"}) {
    sql += std::string("CREATE MACRO plexus_pg.") + name + "() AS " + who + ";\n";
  }
  return sql;
}

}  // namespace plexus::server::pg
