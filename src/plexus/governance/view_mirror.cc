// The home's view mirror (ViewStore::kMirror): HOME/governance/views.duckdb holds each view's
// table, as a materialized view does, with the version it was made from in `mirror_versions`:
// per exported view the catalog's version of the tables its SELECT reads (triggers change a
// random token per table at every write, catalog::ViewSink::Versions), per computed view the
// versions of the views it reads. An evaluation re-exports the views whose version changed (and
// those without one: they read the evaluation's time) and recomputes those that read them.
//
// Never stale, never partial: a view's version row is deleted with its table before it is
// remade and written once every view of the evaluation is made, so an interrupted refresh
// leaves those views without a version (remade next time). The row '' holds a digest of the
// views' definitions, the DuckDB version and the mirror's format: any change rebuilds the file.
#include <filesystem>
#include <mutex>

#include "plexus/governance/evaluator_internal.h"

namespace plexus::governance::internal {

namespace {

/// Bumped when what the mirror holds changes in a way the views' definitions do not show (how
/// the loader fills a view, the layout of mirror_versions).
constexpr int kMirrorFormat = 1;

std::mutex& LeaseMutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& Leased() {
  static std::set<std::string> paths;
  return paths;
}

/// FNV-1a, 64 bits: a digest that does not depend on the standard library's hash.
void Mix(uint64_t& h, std::string_view text) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= 0xff;  // ends each field: ("ab", "c") differs from ("a", "bc")
  h *= 1099511628211ull;
}

/// What a mirror of this build holds: the views' definitions, the DuckDB version, the format.
std::string Definitions(const std::string& duckdb_version) {
  uint64_t h = 14695981039346656037ull;
  Mix(h, std::to_string(kMirrorFormat));
  Mix(h, duckdb_version);
  for (const auto& view : catalog::GovernanceViews()) {
    Mix(h, view.name);
    Mix(h, view.select ? view.select : "");
    Mix(h, view.derived ? view.derived : "");
    Mix(h, view.internal ? "internal" : "");
    Mix(h, view.by_product ? "by_product" : "");
    for (const auto& c : view.columns) {
      Mix(h, c.name);
      Mix(h, c.type);
    }
  }
  return "definitions " + std::to_string(h);
}

void RemoveFiles(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::filesystem::remove(path + ".wal", ec);
}

/// mirror_versions as stored: view -> version ('' -> the definitions).
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

enum class Opened { kReady, kLocked, kUnusable };

/// Opens the file into `state`: kReady with mirror_versions of this build's definitions (a new
/// file gets them), kLocked when another process holds it, kUnusable when it cannot be read or
/// holds other definitions (`why` says which).
Opened TryOpen(const std::string& path, Evaluator::State& state, std::string& why) {
  engine::DatabaseOptions options;
  options.path = path;
  options.hardened = true;
  options.threads = 1;
  auto db = engine::Database::Open(options);
  if (!db.ok()) {
    why = db.status().message();
    return why.find("lock") != std::string::npos ? Opened::kLocked : Opened::kUnusable;
  }
  state.db = std::move(db).value();
  auto conn = state.db->Connect();
  auto version = conn.ok() ? (*conn)->QueryScalar("SELECT library_version FROM pragma_version()")
                           : Result<std::string>(conn.status());
  if (!version.ok()) {
    why = version.status().message();
    return Opened::kUnusable;
  }
  state.conn = std::move(conn).value();
  std::string definitions = Definitions(*version);
  auto stored = ReadVersions(*state.conn);
  if (!stored.ok()) {
    auto tables = state.conn->QueryScalar("SELECT count(*) FROM duckdb_tables()");
    if (!tables.ok() || *tables != "0") {
      why = "it has no readable versions";
      return Opened::kUnusable;
    }
    Status made = state.conn->Execute(
        "CREATE TABLE mirror_versions (view VARCHAR PRIMARY KEY, version VARCHAR NOT NULL); "
        "INSERT INTO mirror_versions VALUES ('', " + engine::QuoteLiteral(definitions) + ")");
    if (!made.ok()) {
      why = made.message();
      return Opened::kUnusable;
    }
    stored = std::map<std::string, std::string>{{"", definitions}};
  }
  auto found = stored->find("");
  if (found == stored->end() || found->second != definitions) {
    why = "it holds other view definitions";
    return Opened::kUnusable;
  }
  auto name = state.conn->QueryScalar("SELECT current_database()");
  if (!name.ok()) {
    why = name.status().message();
    return Opened::kUnusable;
  }
  state.catalog_name = *name;
  return Opened::kReady;
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

std::string MirrorPath(const std::string& home_root) {
  return home_root + "/governance/views.duckdb";
}

Result<std::unique_ptr<MirrorLease>> MirrorLease::Take(const std::string& path) {
  std::lock_guard lock(LeaseMutex());
  if (!Leased().insert(path).second) {
    return FailedPrecondition("another evaluation of this process holds it");
  }
  return std::unique_ptr<MirrorLease>(new MirrorLease(path));
}

MirrorLease::~MirrorLease() {
  if (discard_) RemoveFiles(path_);
  std::lock_guard lock(LeaseMutex());
  Leased().erase(path_);
}

Status OpenMirror(const std::string& path, Evaluator::State& state) {
  PLEXUS_ASSIGN_OR_RETURN(state.lease, MirrorLease::Take(path));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return IOError("cannot create the folder of " + path + ": " + ec.message());
  std::string why;
  for (int attempt = 0; attempt < 2; ++attempt) {
    switch (TryOpen(path, state, why)) {
      case Opened::kReady: return Status::OK();
      case Opened::kLocked: return FailedPrecondition("another process holds it: " + why);
      case Opened::kUnusable: break;
    }
    // Rebuilt: what it held is only a copy of the catalog.
    state.conn.reset();
    state.db.reset();
    RemoveFiles(path);
  }
  return Internal("cannot make it: " + why);
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
  // Written to the file now, not by the next evaluation replaying the log.
  PLEXUS_RETURN_IF_ERROR(conn.Execute("CHECKPOINT"));
  state.refreshed.assign(chosen.begin(), chosen.end());
  return Status::OK();
}

}  // namespace plexus::governance::internal
