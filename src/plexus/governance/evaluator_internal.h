// File: plexus/governance/evaluator_internal.h
//
// Internal to the governance module: the evaluator's state (evaluator.cc loads the views and
// checks policies; evaluate.cc runs them in parallel and scores them).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/engine/engine.h"
#include "plexus/governance/governance.h"

namespace plexus::governance::internal {

/// The parameter values a policy runs with for one group of domains: the policy's (mesh)
/// values overridden by a domain's.
using ParameterValues = std::map<std::string, spec::PolicyValue>;

/// The values as one text: policies run once per distinct key.
std::string Key(const ParameterValues& values);
/// "id (file:line)", where the policy's SQL is written.
std::string Where(const spec::Policy& policy);
/// The parameter values of `policy` in `domain` (empty: the mesh's).
ParameterValues ValuesFor(const PolicySet& set, const spec::Policy& policy,
                          const std::string& domain);
/// Whether an exemption's expiry is still ahead of `now` (a date covers its whole day).
bool InForce(const spec::Exemption& e, const std::string& now);
/// True when the exemption's entity is `entity` or contains it.
bool Covers(const std::string& exempted, std::string_view entity);


/// True when `sql` holds `word` as a word (not inside a longer identifier).
bool NamesWord(std::string_view sql, std::string_view word);

/// What LoadViews makes and keeps.
struct LoadPlan {
  /// The views to make; every view when empty (and `choose` does not choose).
  std::set<std::string> only;
  /// Called on the export's thread, in its read transaction, with the views' versions
  /// (catalog::ViewSink::Versions): the views to make, which replace `only` (empty: none).
  std::function<Result<std::set<std::string>>(const std::map<std::string, std::string>&)> choose;
  /// Called on the loading thread once the views to make are known, before any is made.
  std::function<Status(const std::set<std::string>&)> before;
  /// Keeps the tables of the internal views made (a mirror computes views from them later).
  bool keep_internal = false;
};

/// LoadViews (governance.h) as `plan` says.
Status LoadViews(const std::function<Status(catalog::ViewSink&)>& read, engine::Connection& conn,
                 const LoadPlan& plan, const std::vector<engine::Connection*>& helpers);

/// Holds a home's warm views (view_mirror.cc) for one evaluator of this process at a time, and
/// keeps their database for the next one when it ends.
class MirrorLease {
 public:
  /// kFailedPrecondition when another evaluator of this process holds `home`'s views.
  static Result<std::unique_ptr<MirrorLease>> Take(const std::string& home);
  /// Keeps the database given back (Keep) for the next evaluation, unless discarded.
  ~MirrorLease();
  MirrorLease(const MirrorLease&) = delete;
  MirrorLease& operator=(const MirrorLease&) = delete;
  /// The database the evaluation before kept, or null (the first, or it was discarded).
  std::unique_ptr<engine::Database> TakeDatabase() { return std::move(db_); }
  /// The database to keep, once every connection to it is closed.
  void Keep(std::unique_ptr<engine::Database> db) { db_ = std::move(db); }
  /// Nothing is kept: a refresh failed, the next evaluation loads every view.
  void Discard() { discard_ = true; }

 private:
  explicit MirrorLease(std::string home) : home_(std::move(home)) {}
  std::string home_;
  std::unique_ptr<engine::Database> db_;
  bool discard_ = false;
};

/// Hashes strings and string_views alike (heterogeneous lookup).
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TextSet = std::unordered_set<std::string, TextHash, std::equal_to<>>;

/// A connection that runs policies, with the statements prepared on it. Each runs on one
/// thread at a time; the evaluator has one per core.
struct Runner {
  engine::Connection* conn = nullptr;
  /// policy id -> parameter key -> prepared statement
  std::map<std::string, std::map<std::string, std::unique_ptr<engine::PreparedStatement>>> prepared;
};

}  // namespace plexus::governance::internal

namespace plexus::governance {

struct Evaluator::State {
  std::unique_ptr<internal::MirrorLease> lease;  ///< kWarm: the home's views (db goes back to it)
  std::unique_ptr<engine::Database> db;
  std::unique_ptr<engine::Connection> conn;    ///< loads the views; runners[0]
  std::unique_ptr<access::SqlGuard> guard;
  std::vector<std::unique_ptr<engine::Connection>> extra;  ///< the other runners' connections
  std::vector<std::unique_ptr<internal::Runner>> runners;
  /// Policy SQL -> what the guard made of it (guarded on the calling thread, before runs).
  std::map<std::string, access::GuardedQuery> guarded;
  /// The views loaded; empty: all of them.
  std::set<std::string> loaded;
  std::map<std::string, int64_t> rows;  ///< rows per loaded view (DuckDB's estimate)
  std::map<std::string, int64_t, std::less<>> products_by_domain;
  internal::TextSet products;  ///< domain.product
  double load_ms = 0;
  std::string catalog_name = "memory";  ///< the database the views are in (guarded SQL names it)
  bool sealed = false;                  ///< its configuration is locked (a kept database)
  std::string store = "memory";         ///< Evaluation::store
  std::vector<std::string> refreshed;   ///< Evaluation::refreshed

  /// The guard's rewrite of `policy`'s SQL (checked on first use; not thread safe). Fails when
  /// it reads a view this evaluator did not load.
  Result<const access::GuardedQuery*> Guard(const spec::Policy& policy);
  /// The prepared statement of `policy` on `runner`, `values` bound. Guard must have run.
  Result<engine::PreparedStatement*> Prepare(internal::Runner& runner, const spec::Policy& policy,
                                             const internal::ParameterValues& values);
  /// Runs the policy's statement; its result must be (entity VARCHAR, message VARCHAR).
  Result<std::unique_ptr<engine::QueryResult>> Run(internal::Runner& runner,
                                                   const spec::Policy& policy,
                                                   const internal::ParameterValues& values);
  /// Run, naming the policy and where it is written on an error.
  Result<std::unique_ptr<engine::QueryResult>> RunNamed(internal::Runner& runner,
                                                        const spec::Policy& policy,
                                                        const internal::ParameterValues& values);
  /// At least `n` runners (one per connection).
  Status EnsureRunners(size_t n);
};

namespace internal {

/// The views `set`'s enabled policies read (guarded with `state`'s guard, which keeps what it
/// made of them), with the views those are computed from, and `products` (scores need it).
/// Empty when a policy's SQL does not pass the guard: then every view is loaded, and Evaluate
/// reports the policy.
std::set<std::string> ViewsRead(const PolicySet& set, Evaluator::State& state);

/// Takes `home`'s warm views (view_mirror.cc) into `state`: its lease, database (kept from the
/// evaluation before, or a new one) and connection; kFailedPrecondition when another evaluation
/// of this process holds them.
Status OpenMirror(const std::string& home, Evaluator::State& state);
/// Drops the database kept for `home`, if any (one held by an evaluation stays with it).
void DropKept(const std::string& home);
/// Brings the views `state` loads (state.loaded, empty: all) up to date in its database: those
/// whose catalog version changed are exported again, those computed from them remade
/// (`helpers` compute in parallel); state.refreshed names them.
Status RefreshMirror(const std::function<Status(catalog::ViewSink&)>& read,
                     Evaluator::State& state, const std::vector<engine::Connection*>& helpers);

}  // namespace internal

}  // namespace plexus::governance
