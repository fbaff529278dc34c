// File: plexus/server/pg_metadata.h
//
// What PostgreSQL tools see over the wire besides the data: how each statement of a client is
// routed (Classify), the session's settings (SET / RESET / SHOW), and the answers to catalog
// queries (pg_catalog, information_schema, version(), ...) computed per principal, so psql's
// \dt, JDBC's DatabaseMetaData, psycopg2 and node-postgres list only what the principal may see.
//
//   // per connection
//   SessionSettings settings;                        // defaults, then the startup parameters
//   for (auto& [name, value] : startup) settings.SetFromStartup(name, value);
//   for (const std::string& text : SplitStatements(query_message)) {
//     Statement st = Classify(text);
//     switch (st.kind) {
//       case StatementKind::kData:    /* access::QueryService::Query(request, st.sql) */
//       case StatementKind::kCatalog: /* metadata->Query(principal, st.sql, params) */
//       case StatementKind::kSet:     /* settings.Set(st.name, st.value), CommandComplete st.tag */
//       case StatementKind::kShow:    /* settings.Show(st.name): one row, one column */
//       case StatementKind::kRefused: /* ErrorResponse st.error.sqlstate, st.error.message */
//       ...
//     }
//   }
//
// The catalog answers come from a per-principal "shadow": an in-memory, hardened DuckDB with
// its configuration locked, holding PostgreSQL's catalog as plain tables and macros (schema
// plexus_pg for pg_catalog, plexus_is for information_schema; pg_metadata_script.cc) filled
// with a row per port the principal may see: schema "domain.product", table = the port name,
// its columns with PostgreSQL type oids, descriptions as comments. No product data and no
// product table is in it. Catalog queries are rewritten for it (pg_metadata_tokens.cc:
// pg_catalog.X -> plexus_pg.X, OPERATOR(pg_catalog.~), COLLATE, ::regclass, PostgreSQL's
// partial regex match, generate_series aliases) and checked to be one SELECT before running.
// Which ports are listed: every port the principal may read (PortAccess kClear or kSecured);
// restricted ports without a grant are NOT listed (they stay discoverable through `plexus
// products` and the HTTP API, which say how to ask for access); hidden (private) ports never
// appear. A product governance quarantines is listed only to its own domain and to mesh
// admins, the principals that may still query it. The fixtures of pg_metadata_test.cc are the queries psql 15, JDBC 42.5, psycopg2 and
// node-postgres send.
//
// Thread safety: Classify, SplitStatements: pure functions. SessionSettings: one connection's
// thread. MetadataCatalog: shared by every connection; Query/Prepare may be called from any
// thread; a MetadataStatement or MetadataCursor is used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::access {
class QueryService;
struct Principal;
}  // namespace plexus::access

namespace plexus::server::pg {

/// An error as PostgreSQL reports it: a five-character SQLSTATE and a message.
struct WireError {
  std::string sqlstate;
  std::string message;
};

/// Where a statement goes.
enum class StatementKind {
  kEmpty,        ///< only whitespace/comments: EmptyQueryResponse
  kData,         ///< reads (or may read) a product port: access::QueryService, door "wire"
  kCatalog,      ///< pg_catalog / information_schema / functions / no table: MetadataCatalog
  kSet,          ///< SET name = value: SessionSettings::Set(name, value)
  kReset,        ///< RESET name, RESET ALL (name "all"): SessionSettings::Reset
  kShow,         ///< SHOW name, SHOW ALL (name "all"): SessionSettings::Show / ShowAll
  kTransaction,  ///< BEGIN, COMMIT, ROLLBACK, SAVEPOINT...: see Statement::transaction
  kNoOp,         ///< accepted and ignored (DISCARD ALL, LISTEN, UNLISTEN, ...)
  kRefused,      ///< anything that writes or that Plexus does not serve: Statement::error
  /// PREPARE name [(type, ...)] AS query: Statement::name, ::sql (the query, classify it
  /// again), ::parameter_oids (the declared types).
  kPrepare,
  /// EXECUTE name [(constant, ...)]: Statement::name, ::arguments (constants only).
  kExecute,
  /// DEALLOCATE [PREPARE] name | ALL: Statement::name; tag "DEALLOCATE ALL" (name empty) for ALL.
  kDeallocate,
  /// DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query: Statement::name (the
  /// cursor), ::sql (the query, classify it again), ::binary, ::hold. SCROLL is refused.
  kDeclare,
  /// FETCH / MOVE [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name: Statement::name,
  /// ::count (-1: ALL); tag "FETCH" or "MOVE" (the server appends the row count). Backward
  /// directions are refused (55000): Plexus cursors scan forward only.
  kFetch,
  /// CLOSE name | CLOSE ALL: Statement::name (empty for ALL); tag "CLOSE CURSOR [ALL]".
  kCloseCursor,
};

/// What a kTransaction statement does to the transaction status (ReadyForQuery's byte).
enum class TransactionEffect {
  kNone,
  kBegin,     ///< BEGIN, START TRANSACTION: 'I' -> 'T' (a warning in PostgreSQL when in one)
  kCommit,    ///< COMMIT, END: -> 'I' (from 'E' PostgreSQL answers ROLLBACK as the tag)
  kRollback,  ///< ROLLBACK, ABORT: -> 'I'
  kSavepoint,          ///< SAVEPOINT x, RELEASE [SAVEPOINT] x: status unchanged
  kRollbackToSavepoint,  ///< ROLLBACK TO [SAVEPOINT] x: 'E' -> 'T'
};

/// One argument of EXECUTE: a constant as written (`42`, `-1.5`, `'text'`, `NULL`, `TRUE`),
/// optionally cast (`'2024-01-01'::date`, `CAST('7' AS int8)`, `DATE '2024-01-01'`). Never an
/// expression: it is decoded like a Bind parameter in text format, never spliced into SQL.
struct LiteralArgument {
  bool is_null = false;
  std::string text;      ///< the value: quotes removed, '' and E'' escapes undone
  int32_t type_oid = 0;  ///< the PostgreSQL type of its cast; 0 when it has none
};

/// One classified statement.
struct Statement {
  StatementKind kind = StatementKind::kRefused;
  /// CommandComplete tag for statements without rows ("SET", "RESET", "BEGIN", "COMMIT",
  /// "ROLLBACK", "SAVEPOINT", "RELEASE", "DISCARD ALL", "DEALLOCATE", "LISTEN", ...). For
  /// kData and kCatalog: the command word ("SELECT"); the server appends the row count.
  /// For kShow: "SHOW".
  std::string tag;
  /// kData: the text as the client sent it (the guard parses it). kCatalog: the text rewritten
  /// for DuckDB's pg_catalog emulation; run it with MetadataCatalog. Otherwise: the input.
  std::string sql;
  /// kSet / kReset / kShow: the parameter's name in lower case ("all" for RESET ALL / SHOW
  /// ALL); SET TIME ZONE is "timezone", SET NAMES "client_encoding". kPrepare / kExecute /
  /// kDeallocate: the prepared statement's name (lower case unless quoted).
  std::string name;
  /// kSet: the value with quotes removed; a list stays as written ("a, b"); DEFAULT or LOCAL
  /// reset it (kind becomes kReset). COPY (kData with tag "COPY", sql the query to run): the
  /// options after TO STDOUT as written ("WITH (FORMAT csv, HEADER)"), or empty.
  std::string value;
  TransactionEffect transaction = TransactionEffect::kNone;
  /// kPrepare: the PostgreSQL type of each declared parameter (0: unknown, inferred).
  std::vector<int32_t> parameter_oids;
  /// kExecute: the arguments, in order.
  std::vector<LiteralArgument> arguments;
  /// kFetch: how many rows to fetch or skip; -1 for ALL.
  int64_t count = 0;
  /// kDeclare: BINARY (rows in binary format) and WITH HOLD (the cursor outlives its
  /// transaction).
  bool binary = false;
  bool hold = false;
  /// kRefused: what to send (25006 for writes, 42501 for other refused commands, 0A000 for
  /// features Plexus does not offer, 42601 when the text is not understood).
  WireError error;
};

/// Splits a simple Query message into statements on `;` outside quotes ('..', "..",
/// $tag$..$tag$, E'..'), comments (-- and nested /* */) and brackets. Empty statements are
/// dropped; an input of only whitespace/comments gives one empty string (EmptyQueryResponse).
std::vector<std::string> SplitStatements(std::string_view sql);

/// True for a statement that answers a query's rows: a kData SELECT (not COPY) or a kCatalog
/// query. What PREPARE, EXECUTE and DECLARE accept.
bool IsQuery(const Statement& statement);

/// Classifies one statement (see StatementKind). Fails closed: a statement that reads any
/// relation outside pg_catalog / information_schema, or that it cannot tell, is kData (the
/// SQL guard then decides); a statement that is not a read is kRefused unless it is one of
/// the session or transaction commands listed above.
Statement Classify(std::string_view sql);

/// One connection's run-time parameters: PostgreSQL's defaults for the ones clients read,
/// what the startup packet and SET changed. Unknown names are refused as PostgreSQL does
/// (42704), except custom "prefix.name" parameters, which are remembered.
class SessionSettings {
 public:
  SessionSettings();
  /// A parameter of the startup packet (database, replication and options excluded by the
  /// caller; "user" sets session_authorization). Invalid or unknown values are ignored (they
  /// keep their defaults), so a client's set-up never fails on them.
  void SetFromStartup(const std::string& name, const std::string& value);
  /// SET name = value; false with `error` set: 42704 for an unknown name, 22023 for a value
  /// Plexus cannot honour (a client_encoding other than UTF8, a DateStyle other than ISO, a
  /// statement_timeout that is not a duration).
  bool Set(const std::string& name, const std::string& value, WireError* error);
  /// RESET name / RESET ALL ("all"): back to the value at the end of startup.
  bool Reset(const std::string& name, WireError* error);
  /// SHOW name: the current value; false with 42704 when unknown.
  bool Show(const std::string& name, std::string* value, WireError* error) const;
  /// SHOW ALL: (name, setting, description) in name order.
  std::vector<std::vector<std::string>> ShowAll() const;

  /// The parameters sent with ParameterStatus after authentication, in this order.
  std::vector<std::pair<std::string, std::string>> ReportedParameters() const;
  /// True when `name` is reported: after SET/RESET of it, send ParameterStatus again.
  static bool IsReported(const std::string& name);
  /// The canonical spelling of a reported parameter (e.g. "datestyle" -> "DateStyle").
  static std::string ReportedName(const std::string& name);

  /// statement_timeout in milliseconds; 0: none.
  int64_t statement_timeout_ms() const { return statement_timeout_ms_; }
  const std::string& application_name() const;

 private:
  struct Entry {
    std::string value;
    std::string startup_value;
  };
  std::map<std::string, Entry, std::less<>> values_;  // lower-case name -> value
  int64_t statement_timeout_ms_ = 0;
};

class MetadataShadow;

/// A catalog query being read. Keeps its shadow and connection alive until destroyed.
class MetadataCursor {
 public:
  ~MetadataCursor();
  /// The streaming result: Fetch() until nullptr (the columns are in result().columns()).
  engine::QueryResult& result() { return *result_; }

 private:
  friend class MetadataStatement;
  std::shared_ptr<MetadataShadow> shadow_;
  std::shared_ptr<engine::Connection> connection_;
  std::shared_ptr<engine::PreparedStatement> prepared_;
  std::unique_ptr<engine::QueryResult> result_;  // destroyed first
};

/// A catalog statement prepared on the principal's shadow (for Parse/Describe/Bind/Execute).
class MetadataStatement {
 public:
  ~MetadataStatement();
  size_t parameter_count() const;
  /// The type DuckDB inferred for parameter `index` (1-based).
  engine::TypeId parameter_type(size_t index) const;
  /// The result columns, before running it.
  std::vector<engine::ColumnInfo> columns() const;
  /// Binds `params` (one per parameter) and runs; the cursor streams the rows. May be called
  /// again (a portal executed again, or a statement bound anew).
  Result<std::unique_ptr<MetadataCursor>> Execute(const std::vector<engine::ParameterValue>& params);

 private:
  friend class MetadataCatalog;
  std::shared_ptr<MetadataShadow> shadow_;
  std::shared_ptr<engine::Connection> connection_;
  std::shared_ptr<engine::PreparedStatement> prepared_;  // destroyed first
};

/// The catalog answers of every principal: one shadow per principal, built on first use and
/// rebuilt when the access policy changes (a catalog change, a grant) or after a minute (grant
/// expiry). Must not outlive the QueryService.
class MetadataCatalog {
 public:
  static Result<std::unique_ptr<MetadataCatalog>> Create(access::QueryService* service);
  ~MetadataCatalog();

  /// Prepares a kCatalog statement (Statement::sql, already rewritten) on the principal's
  /// shadow. Refuses (kPermissionDenied) anything that is not one SELECT. Errors of DuckDB are
  /// kInvalidArgument with DuckDB's first line.
  Result<std::unique_ptr<MetadataStatement>> Prepare(const access::Principal& principal,
                                                     const std::string& sql);
  /// Prepare + Execute.
  Result<std::unique_ptr<MetadataCursor>> Query(const access::Principal& principal,
                                                const std::string& sql,
                                                const std::vector<engine::ParameterValue>& params = {});

 private:
  explicit MetadataCatalog(access::QueryService* service) : service_(service) {}
  Result<std::shared_ptr<MetadataShadow>> ShadowFor(const access::Principal& principal);

  access::QueryService* service_;
  std::mutex mu_;
  /// principal fingerprint -> shadow; guarded by mu_; bounded (least recently built goes).
  std::map<std::string, std::shared_ptr<MetadataShadow>> shadows_;
};

}  // namespace plexus::server::pg
