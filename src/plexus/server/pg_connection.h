// File: plexus/server/pg_connection.h (server-internal)
//
// One client connection of the wire protocol server, run by its own thread: startup (TLS,
// sign-in, parameters), then the message loop (simple and extended query, COPY TO STDOUT).
// pg_connection.cc holds the startup, sign-in and loop; pg_connection_query.cc the statements.
// Thread safety: Run() on the connection's thread; Cancel(), Tick() and Shutdown() from any
// thread (the cancel requests, the server's watchdog, Stop).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/access/query_service.h"
#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_prefetch.h"
#include "plexus/server/pg_protocol.h"
#include "plexus/server/pg_server.h"
#include "plexus/server/pg_types.h"

namespace plexus::server::pg {

/// What every connection of one server shares. Outlives the connections.
struct ServerContext {
  catalog::Catalog* catalog = nullptr;
  access::QueryService* queries = nullptr;
  MetadataCatalog* metadata = nullptr;
  PgOptions options;
  MessageLimits limits;
  asio::ssl::context* tls = nullptr;
  /// Stops the running query of connection `pid` when `secret` matches (a CancelRequest).
  std::function<void(int32_t pid, int32_t secret)> cancel;
};

/// An error for the client: what ErrorResponse carries, and whether the connection ends.
struct WireFailure {
  ErrorFields fields;
  bool fatal = false;
};

/// A statement prepared by Parse (named, or the unnamed one).
struct WireStatement {
  std::string text;                 ///< as the client sent it
  Statement classified;             ///< pg_metadata.h's routing
  std::vector<int32_t> param_oids;  ///< of Parse, completed by the describe
  std::vector<engine::ColumnInfo> columns;
  std::unique_ptr<MetadataStatement> catalog_statement;  ///< kCatalog
  bool returns_rows = false;
};

/// A bound statement (Bind) being executed, possibly in several Execute steps.
struct Portal {
  std::shared_ptr<WireStatement> statement;
  std::vector<engine::ParameterValue> parameters;
  std::vector<int16_t> result_formats;  ///< one per column (0 text, 1 binary)
  std::unique_ptr<access::Cursor> cursor;          // kData, once started
  std::unique_ptr<MetadataCursor> catalog_cursor;  // kCatalog, once started
  std::unique_ptr<RowEncoder> encoder;             // once started
  std::unique_ptr<engine::DataChunk> chunk;        // rows not sent yet: from `row` on
  std::unique_ptr<ChunkPrefetcher> prefetch;       // a big kData result's next chunks
  size_t row = 0;
  int64_t rows_sent = 0;
  int64_t last_batch = 0;  ///< rows sent by the last Execute (its CommandComplete count)
  bool started = false;
  bool done = false;
  /// DECLARE ... WITH HOLD: the cursor outlives the transaction that declared it, once that
  /// transaction commits (`held` then); a rollback of it closes the cursor.
  bool hold = false;
  bool held = false;
  /// The access policy its query was last checked under, and when (SteadyMillis).
  std::shared_ptr<const access::AccessPolicy> policy;
  int64_t checked_ms = 0;
  engine::QueryResult* result();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerContext* context, asio::ip::tcp::socket socket, int32_t pid, int32_t secret,
             bool over_limit);
  ~Connection();

  /// The connection's thread: serves until the client leaves, an error ends it, or Shutdown.
  void Run();
  /// A cancel request: interrupts the running statement (57014 for the client).
  void Cancel();
  /// The watchdog: ends an idle session after the idle timeout, interrupts a statement past
  /// its timeout.
  void Tick(std::chrono::steady_clock::time_point now);
  /// Server stop: closes the socket so the thread leaves its read, interrupts the query.
  void Shutdown();
  int32_t pid() const { return pid_; }
  int32_t secret() const { return secret_; }

 private:
  // ---- I/O (pg_connection.cc)
  Status ReadMore();
  /// Sends what out_ holds. A client that takes none of it for WriteLimitMs() is cut off by
  /// Tick (the write fails, the connection ends): a client that stops reading never holds a
  /// thread and a query forever.
  Status Flush();
  Status WriteAll(std::string_view data);
  /// How long a write may make no progress: the shortest of the idle timeout, the statement
  /// timeout (the session's or the server's) and kWriteStallMs.
  int64_t WriteLimitMs() const;
  int64_t StatementTimeoutMs() const;
  Status FlushIfFull();
  Result<Message> NextMessage();
  void SendFatal(std::string_view sqlstate, const std::string& message);
  // ---- startup and sign-in (pg_connection.cc)
  Status Startup();
  Result<std::optional<StartupPacket>> NegotiateStartup();
  Status StartTls();
  Status Authenticate(const std::string& user);
  Status AuthenticateScram(const std::string& user);
  Status AuthenticateCleartext(const std::string& user);
  Status SendStartupAnswer(const StartupPacket& startup);
  Status MessageLoop();
  // ---- statements (pg_connection_query.cc)
  Status SimpleQuery(std::string_view body);
  std::optional<WireFailure> RunSimpleStatement(const std::string& text);
  /// SET, RESET, SHOW, transaction control, no-ops. `describe`: send SHOW's RowDescription
  /// (simple query; in the extended protocol Describe does).
  std::optional<WireFailure> RunSession(const Statement& statement, bool describe);
  std::optional<WireFailure> RunTransaction(const Statement& statement);
  Status Parse(std::string_view body);
  Status Bind(std::string_view body);
  Status Describe(std::string_view body);
  Status Execute(std::string_view body);
  Status Close(std::string_view body);
  Status Sync();
  std::optional<WireFailure> Prepare(WireStatement& statement);
  /// Runs the portal's query (BeginStatement: cancel and timeout apply from here).
  std::optional<WireFailure> StartPortal(Portal& portal);
  /// Before more rows of an open data portal (Execute again, FETCH): when the access policy
  /// changed since its query was checked, or a minute passed (a grant may have expired), the
  /// guard checks it again, so a revoked or expired grant, a retired or quarantined product
  /// stops an open cursor at its next page too. A refusal finishes the portal (audited).
  std::optional<WireFailure> RecheckPortal(Portal& portal);
  std::optional<WireFailure> OpenPortal(Portal& portal);
  /// The portal's next chunk: fetched here, or by its prefetcher once the answer is big.
  Result<std::unique_ptr<engine::DataChunk>> NextChunk(Portal& portal);
  /// Sends up to max_rows (0: all) rows of the portal; true when more remain (suspended).
  /// `discard`: the rows are skipped, not sent (MOVE).
  Result<bool> SendRows(Portal& portal, int64_t max_rows, bool discard = false);
  std::optional<WireFailure> RunCopy(const Statement& statement);
  /// Execute's data path: starts the portal if needed, sends up to max_rows (0: all) rows,
  /// then PortalSuspended or CommandComplete.
  std::optional<WireFailure> ExecutePortal(Portal& portal, int32_t max_rows);
  /// The simple protocol's data path: starts the portal, RowDescription, every row,
  /// CommandComplete.
  std::optional<WireFailure> RunPortalToEnd(Portal& portal);
  // ---- SQL-level prepared statements (pg_connection_prepared.cc). They share one namespace
  // with Parse's named statements, as in PostgreSQL.
  /// PREPARE and DEALLOCATE; EXECUTE run to its end (the simple protocol).
  std::optional<WireFailure> RunPreparedCommand(const Statement& statement);
  std::optional<WireFailure> PrepareNamed(const Statement& statement);
  std::optional<WireFailure> Deallocate(const Statement& statement);
  /// EXECUTE name(args): `portal.statement` becomes the named statement and its parameters
  /// the arguments, decoded as Bind's are (26000 unknown name, 42601 wrong count, 22P02).
  std::optional<WireFailure> BindExecute(const Statement& execute, Portal& portal);
  // ---- SQL-level cursors (pg_connection_cursors.cc). A cursor is a portal named by DECLARE:
  // cursors and Bind's named portals share one namespace, as in PostgreSQL.
  /// DECLARE, FETCH / MOVE and CLOSE. `parameters`: Bind's values for DECLARE's query (the
  /// extended protocol). `formats`: the FETCH portal's result formats (extended protocol;
  /// null in the simple protocol, which sends FETCH's RowDescription itself).
  std::optional<WireFailure> RunCursorCommand(const Statement& statement,
                                              std::vector<engine::ParameterValue> parameters,
                                              const std::vector<int16_t>* formats);
  /// Runs DECLARE's query through the guard now (a refusal comes at DECLARE) and keeps the
  /// open answer as a portal; 25P01 outside a transaction block unless WITH HOLD.
  std::optional<WireFailure> DeclareCursor(const Statement& declare,
                                           std::vector<engine::ParameterValue> parameters);
  std::optional<WireFailure> FetchCursor(const Statement& fetch, const std::vector<int16_t>* formats);
  std::optional<WireFailure> CloseCursor(const Statement& close);
  /// The end of a transaction (COMMIT, ROLLBACK, a Sync outside a block): its portals and
  /// cursors close, audited with the rows they sent; a WITH HOLD cursor stays unless the
  /// transaction that declared it rolls back.
  void ClosePortals(bool rollback);
  void SendRowDescription(const std::vector<engine::ColumnInfo>& columns,
                          const std::vector<int16_t>& formats);
  /// Ends a portal's query: audit record, cursor back to the pool.
  void FinishPortal(Portal& portal, const Status& status);
  /// 57014 when the statement was cancelled or timed out, else the status's SQLSTATE.
  WireFailure FetchFailure(const Status& status);
  void SendCompletion(const Statement& statement, int64_t rows);
  void SendFailure(const WireFailure& failure);
  WireFailure FailureOf(const Status& status);
  /// Before every statement: re-reads the catalog's access state when it changed, and then
  /// the principal itself, so a principal disabled, deleted or given other attributes or
  /// groups while connected is seen at its next statement (disabled or deleted: FATAL 28000,
  /// the connection ends).
  std::optional<WireFailure> RefreshPrincipal();
  /// A statement refused before the guard (a write, ATTACH, SET ROLE...): audited as the
  /// guard's refusals are, then answered with its SQLSTATE.
  std::optional<WireFailure> Refuse(std::string_view text, const Statement& statement);
  void BeginStatement();
  void EndStatement();
  char TransactionStatus() const;
  // ---- structured log lines (pg_connection_query.cc; observe/log.h): pg.connect,
  // pg.disconnect, one pg.query per statement (never its parameters' values).
  /// Before a statement: clears what the last one noted; its start (SteadyMillis).
  int64_t BeginQueryLog();
  /// The pg.query line of the statement begun at `started_ms`; `sqlstate` empty: it succeeded.
  void LogQuery(int64_t started_ms, const std::string& sqlstate);
  void LogConnection(bool open);

  ServerContext* ctx_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  const int32_t pid_;
  const int32_t secret_;
  const bool over_limit_;
  std::string in_;       ///< bytes read, not yet parsed
  BackendWriter out_;    ///< bytes to send
  access::Principal principal_;
  /// The access policy principal_ was read under (RefreshPrincipal).
  std::shared_ptr<const access::AccessPolicy> principal_policy_;
  SessionSettings settings_;
  access::QueryInterrupter interrupter_;
  std::map<std::string, std::shared_ptr<WireStatement>> statements_;
  std::map<std::string, Portal> portals_;
  bool skip_to_sync_ = false;  ///< an extended-protocol error: ignore messages until Sync
  char transaction_ = 'I';
  std::string application_name_;
  bool signed_in_ = false;
  std::string connection_id_;  ///< in every log line of the connection (16 hex digits)
  std::chrono::steady_clock::time_point opened_at_ = std::chrono::steady_clock::now();
  std::string last_command_;   ///< the statement's command tag (SELECT, SET, COPY...)
  int64_t last_rows_ = -1;     ///< rows its CommandComplete counted; -1: none
  std::string last_sqlstate_;  ///< the SQLSTATE of the error it sent; empty: none
  int64_t queries_ = 0;        ///< statements run, for pg.disconnect

  using Clock = std::chrono::steady_clock;
  std::atomic<int64_t> idle_since_ms_{-1};       ///< waiting for the client since; -1: busy
  std::atomic<int64_t> statement_since_ms_{-1};  ///< running a statement since; -1: none
  std::atomic<int64_t> statement_deadline_ms_{-1};  ///< its timeout; -1: none
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> timed_out_{false};
  std::atomic<bool> idle_expired_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> write_progress_ms_{-1};  ///< writing; last progress at; -1: not writing
  std::atomic<int64_t> write_limit_ms_{0};      ///< WriteLimitMs() of the current write
  std::atomic<bool> write_stalled_{false};      ///< Tick cut the connection off
};

/// Bind's parameters (and EXECUTE's arguments) to engine values: values[i] decoded as type
/// oids[i] in formats[i] (`formats` empty: all text; one entry: for all), appended to `out`.
/// 22P02 when one is malformed.
std::optional<WireFailure> DecodeParameters(const std::vector<int32_t>& oids,
                                            const std::vector<int16_t>& formats,
                                            const std::vector<std::optional<std::string_view>>& values,
                                            std::vector<engine::ParameterValue>* out);

/// The result columns of a session command (SHOW's); empty for the others.
std::vector<engine::ColumnInfo> SessionColumns(const Statement& statement);

/// Milliseconds of the steady clock (for the watchdog's atomics).
int64_t SteadyMillis(std::chrono::steady_clock::time_point t);

}  // namespace plexus::server::pg
