// The warm views (ViewStore::kWarm): an in-memory DuckDB that this process keeps per home
// between evaluations (plexus serve's scheduled ones and its HTTP reports), holding each view's
// table, as a materialized view does, with the version it was made from in `mirror_versions`:
// per exported view the catalog's version of the tables its SELECT reads (triggers change a
// random token per table at every write, catalog::ViewSink::Versions), per computed view the
// versions of the views it reads. An evaluation re-exports the views whose version changed (and
// those without one: they read the evaluation's time) and recomputes those that read them.
//
// Never stale, never partial: a view's version row is deleted with its table before it is
// remade and written once every view of the evaluation is made; an evaluation that fails while
// refreshing drops the database (the next one loads every view again).
#include <mutex>

#include "plexus/governance/evaluator_internal.h"

namespace plexus::governance::internal {

namespace {

/// The databases kept between evaluations, by home, and the homes an evaluation holds.
struct Kept {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<engine::Database>> databases;  ///< GUARDED_BY(mu)
  std::set<std::string> leased;                                        ///< GUARDED_BY(mu)
};

Kept& TheKept() {
  // Never destroyed: a database still kept at exit is not closed during static destruction,
  // after DuckDB's own statics may be gone.
  static Kept* kept = new Kept;
  return *kept;
}

/// mirror_versions as stored: view -> version.
Result<std::map<std::string, std::string>> ReadVersions(engine::Connection& conn) {
  std::map<std::string, std::string> versions;
  PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query("SELECT view, version FROM mirror_versions"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    for (size_t row = 0; row < chunk->size(); ++row) {
      versions[chunk->Text(0, row)] = chunk->Text(1, row);
    }
  }
  return versions;
}

/// Which views an evaluation remakes in the mirror, and the versions it then stores.
class MirrorPlan {
 public:
  /// `stored`: mirror_versions; `wanted`: the views the evaluation loads (empty: all).
  MirrorPlan(std::map<std::string, std::string> stored, const std::set<std::string>& wanted)
      : stored_(std::move(stored)), wanted_(wanted) {}

  /// The views whose version is not the stored one, or that have none ("": every one).
  Result<std::set<std::string>> Choose(const std::map<std::string, std::string>& exported) {
    std::set<std::string> chosen;
    bool by_product = false;
    for (const auto& view : catalog::GovernanceViews()) {
      if (!wanted_.empty() && !wanted_.count(view.name)) continue;
      const std::string& version = Version(view, exported);
      auto stored = stored_.find(view.name);
      if (version.empty() || stored == stored_.end() || stored->second != version) {
        chosen.insert(view.name);
        by_product = by_product || view.by_product;
      }
    }
    // The export joins `by_product` views with the products it exports: products is exported
    // again (its rows unchanged when its version is: what is computed from it stays).
    if (by_product) chosen.insert("products");
    return chosen;
  }

  /// The version of a view Choose made ("" when none can be kept).
  std::string VersionOf(const std::string& view) const {
    auto found = versions_.find(view);
    return found == versions_.end() ? "" : found->second;
  }

 private:
  /// An exported view: the catalog's version (with products' for a `by_product` view, which
  /// the load joins with it); a computed view: the versions of the views its SQL names. "" when
  /// one of them has none.
  const std::string& Version(const catalog::GovernanceView& view,
                             const std::map<std::string, std::string>& exported) {
    auto done = versions_.find(view.name);
    if (done != versions_.end()) return done->second;
    std::string version;
    if (view.select != nullptr) {
      auto own = exported.find(view.name);
      auto products = exported.find("products");
      if (own != exported.end() && !own->second.empty()) {
        version = own->second;
        if (view.by_product) {
          bool known = products != exported.end() && !products->second.empty();
          version = known ? version + "|products:" + products->second : "";
        }
      }
    } else {
      for (const auto& other : catalog::GovernanceViews()) {
        if (&other == &view || !NamesWord(view.derived, other.name)) continue;
        std::string read = Version(other, exported);
        if (read.empty()) {
          version.clear();
          break;
        }
        version += std::string(other.name) + "{" + read + "}";
      }
    }
    return versions_[view.name] = std::move(version);
  }

  std::map<std::string, std::string> stored_;
  std::set<std::string> wanted_;
  std::map<std::string, std::string> versions_;  ///< by view, as Choose found them
};

}  // namespace

Result<std::unique_ptr<MirrorLease>> MirrorLease::Take(const std::string& home) {
  Kept& kept = TheKept();
  std::lock_guard lock(kept.mu);
  if (!kept.leased.insert(home).second) {
    return FailedPrecondition("another evaluation of this process holds them");
  }
  std::unique_ptr<MirrorLease> lease(new MirrorLease(home));
  auto found = kept.databases.find(home);
  if (found != kept.databases.end()) {
    lease->db_ = std::move(found->second);
    kept.databases.erase(found);
  }
  return lease;
}

MirrorLease::~MirrorLease() {
  Kept& kept = TheKept();
  std::lock_guard lock(kept.mu);
  if (db_ != nullptr && !discard_) kept.databases[home_] = std::move(db_);
  kept.leased.erase(home_);
}

void DropKept(const std::string& home) {
  std::unique_ptr<engine::Database> dropped;  // closed after the lock is released
  Kept& kept = TheKept();
  std::lock_guard lock(kept.mu);
  auto found = kept.databases.find(home);
  if (found == kept.databases.end()) return;
  dropped = std::move(found->second);
  kept.databases.erase(found);
}

Status OpenMirror(const std::string& home, Evaluator::State& state) {
  PLEXUS_ASSIGN_OR_RETURN(state.lease, MirrorLease::Take(home));
  state.db = state.lease->TakeDatabase();
  if (state.db != nullptr) {
    state.sealed = true;  // its configuration was locked when it was first loaded
    PLEXUS_ASSIGN_OR_RETURN(state.conn, state.db->Connect());
    return Status::OK();
  }
  engine::DatabaseOptions options;
  options.hardened = true;
  options.threads = 1;
  PLEXUS_ASSIGN_OR_RETURN(state.db, engine::Database::Open(options));
  PLEXUS_ASSIGN_OR_RETURN(state.conn, state.db->Connect());
  return state.conn->Execute(
      "CREATE TABLE mirror_versions (view VARCHAR PRIMARY KEY, version VARCHAR NOT NULL)");
}

Status RefreshMirror(const std::function<Status(catalog::ViewSink&)>& read,
                     Evaluator::State& state, const std::vector<engine::Connection*>& helpers) {
  engine::Connection& conn = *state.conn;
  PLEXUS_ASSIGN_OR_RETURN(auto stored, ReadVersions(conn));
  MirrorPlan mirror_plan(std::move(stored), state.loaded);
  std::set<std::string> chosen;
  LoadPlan plan;
  plan.keep_internal = true;
  plan.choose = [&](const std::map<std::string, std::string>& versions) {
    return mirror_plan.Choose(versions);
  };
  plan.before = [&](const std::set<std::string>& views) -> Status {
    chosen = views;
    std::string sql = "BEGIN;";
    for (const auto& view : views) {
      sql += " DROP TABLE IF EXISTS " + engine::QuoteIdentifier(view) +
             "; DELETE FROM mirror_versions WHERE view = " + engine::QuoteLiteral(view) + ";";
    }
    return conn.Execute(sql + " COMMIT");
  };
  PLEXUS_RETURN_IF_ERROR(LoadViews(read, conn, plan, helpers));
  std::string sql = "BEGIN;";
  for (const auto& view : chosen) {
    std::string version = mirror_plan.VersionOf(view);
    if (version.empty()) continue;
    sql += " INSERT INTO mirror_versions VALUES (" + engine::QuoteLiteral(view) + ", " +
           engine::QuoteLiteral(version) + ");";
  }
  PLEXUS_RETURN_IF_ERROR(conn.Execute(sql + " COMMIT"));
  state.refreshed.assign(chosen.begin(), chosen.end());
  return Status::OK();
}

}  // namespace plexus::governance::internal
