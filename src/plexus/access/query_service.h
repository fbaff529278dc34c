// File: plexus/access/query_service.h
//
// The consumers' door to the data: a hardened, in-memory DuckDB with every domain's data file
// attached read-only (in `plexus serve`: read-write, on the engine the pipelines share), the
// configuration locked, and every SQL text passed through the SqlGuard
// with the ports the principal may read as the only names that resolve, each rewritten to apply
// the principal's masks and row filter (access_policy.h). Every query, allowed or refused, is
// written to the audit trail before its answer.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto service, QueryService::Open(home, catalog.get()));
//   QueryRequest request{&principal, "cli"};
//   PLEXUS_ASSIGN_OR_RETURN(auto cursor, service->Query(request, "SELECT * FROM o.o.o"));
//   ... cursor->result->Fetch() until nullptr ...; cursor->Finish(rows, status);
//
// Thread safety: Query may be called from several threads at once (one connection each).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"

namespace plexus::access {

class QueryService;

/// Lets another thread stop the query a request runs (a wire protocol cancel request, a
/// statement timeout). The service attaches the session's connection while the query runs,
/// from before execution until its cursor is destroyed. Thread safe.
class QueryInterrupter {
 public:
  /// Interrupts the running query, if any (the reader then gets an error); a no-op between
  /// queries.
  void Interrupt();

 private:
  friend class QueryService;
  friend struct Cursor;
  void Attach(engine::Connection* connection);
  void Detach();
  std::mutex mu_;
  engine::Connection* connection_ = nullptr;  // guarded by mu_
};

/// A connection of the service with its guard (whose parser statements stay prepared).
struct Session {
  std::unique_ptr<engine::Connection> connection;
  std::unique_ptr<SqlGuard> guard;
  /// Rewritten SQL -> its prepared statement on `connection`: a repeated statement skips
  /// DuckDB's parse, bind and plan (most of a small query's cost). Bounded; declared after
  /// the connection, so destroyed before it.
  std::map<std::string, std::unique_ptr<engine::PreparedStatement>, std::less<>> prepared;
};

/// A query's result written to a file (QueryService::ExportParquet).
struct ExportedFile {
  std::string path;  ///< in the home's temp folder; the caller removes it
  int64_t rows = 0;
  std::vector<std::string> warnings;  ///< as GuardedQuery::warnings
};

/// Who asks, and through which door; the audit trail records both.
struct QueryRequest {
  const Principal* principal = nullptr;  ///< required: no principal, no data
  std::string door;                      ///< cli, http, wire, pipeline
  /// A preview (plexus query --as): who previews; only_domains limits an owner's preview to
  /// the domains it owns (empty: no limit, for admins).
  std::string previewed_by;
  std::vector<std::string> only_domains;
  /// Optional: lets another thread interrupt the query (must outlive the cursor).
  QueryInterrupter* interrupter = nullptr;
};

/// What a statement answers, known without running it (the wire protocol's Describe).
struct StatementShape {
  std::vector<engine::ColumnInfo> columns;
  /// One per $n placeholder, as DuckDB inferred it (kUnknown when it could not).
  std::vector<engine::TypeId> parameter_types;
  std::vector<std::string> warnings;  ///< deprecated versions read
};

/// A query being read: its streaming result, on a session that goes back to the service's
/// pool when the cursor is destroyed. Must not outlive the QueryService.
struct Cursor {
  ~Cursor();
  /// Records in the audit trail how the answer ended: rows sent, or the error. Once.
  void Finish(int64_t rows, const Status& status);
  QueryService* owner = nullptr;
  std::unique_ptr<Session> session;
  std::unique_ptr<engine::QueryResult> result;  // declared after session: destroyed first
  GuardedQuery query;  ///< query.warnings: say them to the consumer (deprecated versions read)
  std::string principal;
  std::string door;
  std::string previewed_by;  ///< who previews the principal's view; empty: nobody
  bool finished = false;
  QueryInterrupter* interrupter = nullptr;  ///< detached when the cursor goes
};

class QueryService {
 public:
  static Result<std::unique_ptr<QueryService>> Open(const catalog::Home& home,
                                                    catalog::Catalog* catalog);
  /// Serves from `db`, an engine the caller owns and keeps alive longer than the service
  /// (`plexus serve`'s, hardened and locked, shared with the pipelines that run in the server):
  /// the domains' data files are attached read-write, so a run in the same process can write
  /// them while consumers read their snapshot. The guard is the same: consumers only SELECT.
  static Result<std::unique_ptr<QueryService>> OpenShared(const catalog::Home& home,
                                                          catalog::Catalog* catalog,
                                                          engine::Database* db);

  /// Guards, rewrites and runs one query as `request.principal`, after writing the audit
  /// record (a refusal is audited too); the result streams from the returned cursor. Errors
  /// of the engine are passed through ConsumerErrorMessage (no rewritten SQL, no salt).
  Result<std::unique_ptr<Cursor>> Query(const QueryRequest& request, std::string_view sql);
  /// The same with values for the statement's $1..$n placeholders (one per placeholder).
  Result<std::unique_ptr<Cursor>> Query(const QueryRequest& request, std::string_view sql,
                                        const std::vector<engine::ParameterValue>& parameters);
  /// Guards and prepares `sql` without running it: its result columns and parameter types.
  /// A refusal is audited (as for Query) and returned; an accepted statement is audited when
  /// it runs.
  Result<StatementShape> Describe(const QueryRequest& request, std::string_view sql);
  /// Guards and runs one query like Query, writing its whole result as a Parquet file in the
  /// home's temp folder (the one folder besides the data the hardened engine may touch) with
  /// DuckDB's own writer. The caller sends the file and removes it. Audited as Query is.
  Result<ExportedFile> ExportParquet(const QueryRequest& request, std::string_view sql);
  /// Records a statement a door refused before it reached the guard (a write, ATTACH, SET
  /// ROLE... sent over the wire), as Query records the guard's refusals; then returns
  /// `refusal`, or kInternal when the trail cannot be written.
  Status AuditRefusal(const QueryRequest& request, std::string_view sql, const Status& refusal);
  /// Re-reads ports, grants and principals' rights when the catalog changed, and attaches
  /// newly created domain data files; the cache of accepted statements is emptied then.
  Status Refresh();
  /// The current access policy (for listing what a principal may see).
  std::shared_ptr<const AccessPolicy> policy();

  /// Statements answered from the cache of accepted (checked and rewritten) statements.
  int64_t guard_cache_hits() const { return cache_hits_; }

 private:
  friend struct Cursor;
  Result<std::unique_ptr<Session>> TakeSession();
  void ReturnSession(std::unique_ptr<Session> session);
  Result<GuardedQuery> Check(Session& session, const QueryRequest& request, std::string_view sql);
  /// Runs accepted SQL on the session, through its cache of prepared statements.
  static Result<std::unique_ptr<engine::QueryResult>> Execute(
      Session& session, const std::string& sql,
      const std::vector<engine::ParameterValue>& parameters);
  /// The session's prepared statement of accepted SQL (prepared on first use).
  static Result<engine::PreparedStatement*> Prepared(Session& session, const std::string& sql);
  /// Takes a session and guards `sql` on it; a refusal is audited.
  Result<std::unique_ptr<Cursor>> Checked(const QueryRequest& request, std::string_view sql);
  /// Checked, then the allowed query audited and the request's interrupter attached: a cursor
  /// ready to run (Query, ExportParquet).
  Result<std::unique_ptr<Cursor>> Admitted(const QueryRequest& request, std::string_view sql);
  /// Writes the audit record of a query; kInternal when the trail cannot be written (the
  /// query is then not answered).
  Status Audit(const QueryRequest& request, std::string_view sql, const GuardedQuery* query,
               const Status& refusal);

  QueryService(catalog::Home home, catalog::Catalog* catalog)
      : home_(std::move(home)), catalog_(catalog) {}
  Status AttachNewDomains(engine::Connection& conn);

  catalog::Home home_;
  catalog::Catalog* catalog_;
  std::unique_ptr<engine::Database> own_db_;  ///< Open's; null with OpenShared
  engine::Database* db_ = nullptr;
  bool shared_ = false;  ///< OpenShared: attach read-write, and only what is not attached yet
  std::mutex mu_;
  std::shared_ptr<const AccessPolicy> policy_;    // guarded by mu_
  std::pair<int64_t, int64_t> generation_{-1, -1};  // of the catalog last read; guarded by mu_
  std::vector<std::string> attached_;             // guarded by mu_
  std::vector<std::unique_ptr<Session>> idle_;    // guarded by mu_
  /// principal, preview scope and SQL text -> accepted statement, for the current policy;
  /// guarded by mu_.
  struct Accepted {
    GuardedQuery query;
    std::string valid_until;  ///< the earliest expiry of the grants it relied on; empty: none
  };
  std::map<std::string, Accepted, std::less<>> accepted_;
  std::atomic<int64_t> cache_hits_{0};
};

}  // namespace plexus::access
