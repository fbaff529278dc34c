// File: plexus/access/query_service.h
//
// The consumers' door to the data: a hardened, in-memory DuckDB with every domain's data file
// attached read-only, the configuration locked, and every SQL text passed through the SqlGuard
// with the catalog's product ports as the only names that resolve.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto service, QueryService::Open(home, catalog.get()));
//   PLEXUS_ASSIGN_OR_RETURN(auto cursor, service->Query("SELECT * FROM orders.orders.orders"));
//   ... cursor->result->Fetch() until nullptr ...
//
// Thread safety: Query may be called from several threads at once (one connection each).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"

namespace plexus::access {

/// Resolves domain.product.port (newest major not retired) and domain.product.port__vN (major
/// N) to the published tables; refuses every other name, and retired versions (by status or
/// end of life). A deprecated version (by status or end of support) resolves with a warning.
class PortResolver : public RelationResolver {
 public:
  explicit PortResolver(const std::vector<catalog::OutputPortRecord>& ports);
  Result<ResolvedRelation> Resolve(const TableName& name) const override;

 private:
  /// "domain.product.port" -> majors of that port
  std::map<std::string, std::vector<catalog::OutputPortRecord>> ports_;
  std::string today_;  ///< YYYY-MM-DD: the day lifecycle dates are judged against
};

class QueryService;

/// A connection of the service with its guard (whose parser statements stay prepared).
struct Session {
  std::unique_ptr<engine::Connection> connection;
  std::unique_ptr<SqlGuard> guard;
};

/// A query being read: its streaming result, on a session that goes back to the service's
/// pool when the cursor is destroyed. Must not outlive the QueryService.
struct Cursor {
  ~Cursor();
  QueryService* owner = nullptr;
  std::unique_ptr<Session> session;
  std::unique_ptr<engine::QueryResult> result;  // declared after session: destroyed first
  GuardedQuery query;  ///< query.warnings: say them to the consumer (deprecated versions read)
};

class QueryService {
 public:
  static Result<std::unique_ptr<QueryService>> Open(const catalog::Home& home,
                                                    const catalog::Catalog* catalog);

  /// Guards, rewrites and runs one query; the result streams from the returned cursor.
  Result<std::unique_ptr<Cursor>> Query(std::string_view sql);
  /// Re-reads the ports from the catalog and attaches newly created domain data files. When
  /// the ports changed, the cache of accepted statements is emptied.
  Status Refresh();

  /// Statements answered from the cache of accepted (checked and rewritten) statements.
  int64_t guard_cache_hits() const { return cache_hits_; }

 private:
  friend struct Cursor;
  Result<std::unique_ptr<Session>> TakeSession();
  void ReturnSession(std::unique_ptr<Session> session);
  Result<GuardedQuery> Check(Session& session, std::string_view sql);

  QueryService(catalog::Home home, const catalog::Catalog* catalog)
      : home_(std::move(home)), catalog_(catalog) {}
  Status AttachNewDomains(engine::Connection& conn);

  catalog::Home home_;
  const catalog::Catalog* catalog_;
  std::unique_ptr<engine::Database> db_;
  std::mutex mu_;
  std::shared_ptr<const PortResolver> resolver_;  // guarded by mu_
  std::string ports_fingerprint_;                 // guarded by mu_
  std::pair<int64_t, int64_t> generation_{-1, -1};  // of the catalog last read; guarded by mu_
  std::vector<std::string> attached_;             // guarded by mu_
  std::vector<std::unique_ptr<Session>> idle_;    // guarded by mu_
  /// SQL text -> accepted statement, for the current resolver; guarded by mu_.
  std::map<std::string, GuardedQuery, std::less<>> accepted_;
  std::atomic<int64_t> cache_hits_{0};
};

}  // namespace plexus::access
