// Governance (issue 5): the export of the read-only views policy SQL reads (governance_views.cc
// defines them; the governance module loads them into DuckDB, where policies run in DuckDB's
// SQL); the facts only governance reads (a product's team, a port's SLA properties), written by
// Apply; the evaluations, their violations and the quarantined products.

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::SqliteDb;
using internal::Statement;

namespace {

constexpr const char* kGovernanceSchema = R"sql(
CREATE TABLE IF NOT EXISTS product_team (product_id TEXT NOT NULL, position INTEGER NOT NULL,
  username TEXT, name TEXT, role TEXT, PRIMARY KEY (product_id, position));
CREATE TABLE IF NOT EXISTS port_slas (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, position INTEGER NOT NULL, property TEXT, value TEXT, unit TEXT,
  element TEXT, PRIMARY KEY (product_id, port, major, position));
CREATE TABLE IF NOT EXISTS governance_evaluations (id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL, trigger TEXT NOT NULL, actor TEXT NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS governance_violations (evaluation_id INTEGER NOT NULL,
  policy TEXT NOT NULL, severity TEXT NOT NULL, domain TEXT NOT NULL, product TEXT NOT NULL,
  entity TEXT NOT NULL, message TEXT NOT NULL, exemption TEXT NOT NULL,
  exemption_expires TEXT NOT NULL, quarantine INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS governance_violations_by_evaluation
  ON governance_violations (evaluation_id);
CREATE TABLE IF NOT EXISTS governance_quarantine (product TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS output_ports_by_contract ON output_ports (contract_id);
)sql";

/// Evaluations kept; the oldest beyond it are deleted (their summaries make the trend).
constexpr int kEvaluationsKept = 1000;

/// One row of a SQLite statement, as the sink reads it: each value is fetched once (one call
/// that takes the connection's mutex, instead of one per type test and read).
class StatementRow : public ViewRow {
 public:
  explicit StatementRow(sqlite3_stmt* stmt)
      : stmt_(stmt), values_(static_cast<size_t>(sqlite3_column_count(stmt))) {}
  /// Points at the row just stepped to.
  void Fetch() {
    for (size_t c = 0; c < values_.size(); ++c) {
      values_[c] = sqlite3_column_value(stmt_, static_cast<int>(c));
    }
  }
  bool IsNull(int c) const override { return sqlite3_value_type(value(c)) == SQLITE_NULL; }
  int64_t Int(int c) const override { return sqlite3_value_int64(value(c)); }
  double Real(int c) const override { return sqlite3_value_double(value(c)); }
  std::string_view Text(int c) const override {
    const unsigned char* text = sqlite3_value_text(value(c));
    return text ? std::string_view(reinterpret_cast<const char*>(text),
                                   static_cast<size_t>(sqlite3_value_bytes(value(c))))
                : std::string_view();
  }

 private:
  sqlite3_value* value(int c) const { return values_[static_cast<size_t>(c)]; }
  sqlite3_stmt* stmt_;
  std::vector<sqlite3_value*> values_;
};

/// Holds a connection's mutex for a scope: the values a StatementRow reads are then protected
/// (no other thread can step the connection), and SQLite's own locking is a recursive re-entry.
class HeldMutex {
 public:
  explicit HeldMutex(sqlite3* db) : mutex_(sqlite3_db_mutex(db)) { sqlite3_mutex_enter(mutex_); }
  ~HeldMutex() { sqlite3_mutex_leave(mutex_); }
  HeldMutex(const HeldMutex&) = delete;
  HeldMutex& operator=(const HeldMutex&) = delete;

 private:
  sqlite3_mutex* mutex_;
};

/// Exports one view's SELECT into `sink`, on `db`, whose mutex the caller holds.
Status ExportView(sqlite3* db, const GovernanceView& view, const std::string& now,
                  ViewSink& sink) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, view.select, -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return Internal(std::string("catalog: view ") + view.name + ": " + sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (std::string_view(view.select).find("?1") != std::string_view::npos) {
    sqlite3_bind_text(raw, 1, now.data(), static_cast<int>(now.size()), SQLITE_TRANSIENT);
  }
  PLEXUS_RETURN_IF_ERROR(sink.BeginView(view));
  StatementRow row(raw);
  while (true) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_BUSY) {
      return FailedPrecondition("the catalog is busy (another plexus is writing)");
    }
    if (rc != SQLITE_ROW) return Internal(std::string("catalog: ") + sqlite3_errmsg(db));
    row.Fetch();
    PLEXUS_RETURN_IF_ERROR(sink.Row(row));
  }
  return sink.EndView(view);
}

/// The tables `sql` reads, as SQLite's authorizer reports them while preparing it (reads of
/// the schema and of table-valued functions such as json_each are reported too: the caller
/// keeps the catalog's tables).
Result<std::set<std::string>> TablesRead(sqlite3* db, const char* sql) {
  std::set<std::string> tables;
  auto note = [](void* out, int action, const char* table, const char*, const char*,
                 const char*) -> int {
    if (action == SQLITE_READ && table != nullptr) {
      static_cast<std::set<std::string>*>(out)->insert(table);
    }
    return SQLITE_OK;
  };
  sqlite3_set_authorizer(db, note, &tables);
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  sqlite3_finalize(raw);
  sqlite3_set_authorizer(db, nullptr, nullptr);
  if (rc != SQLITE_OK) return Internal(std::string("catalog: ") + sqlite3_errmsg(db));
  return tables;
}

/// The catalog's tables (not the schema, not table-valued functions) of `names`.
Result<std::set<std::string>> CatalogTables(SqliteDb& db, const std::set<std::string>& names) {
  std::set<std::string> tables;
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(
      "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? AND name NOT LIKE 'sqlite%'"));
  for (const auto& name : names) {
    stmt->Reset();
    PLEXUS_ASSIGN_OR_RETURN(bool found, stmt->Bind(1, name).Step());
    if (found) tables.insert(name);
  }
  return tables;
}

/// Per view with a `select`, the catalog tables it reads.
Result<std::map<std::string, std::set<std::string>>> ViewSources(SqliteDb& db) {
  std::map<std::string, std::set<std::string>> sources;
  for (const GovernanceView& view : GovernanceViews()) {
    if (view.select == nullptr) continue;
    PLEXUS_ASSIGN_OR_RETURN(auto read, TablesRead(db.handle(), view.select));
    PLEXUS_ASSIGN_OR_RETURN(sources[view.name], CatalogTables(db, read));
  }
  return sources;
}

}  // namespace

Status Catalog::CreateGovernanceTables() { return db_->Execute(kGovernanceSchema); }

Status Catalog::CreateGovernanceSourceTriggers() {
  // A random token rather than a counter: a write rolled back (a refused apply, a dry run) or a
  // catalog restored from a copy never brings back a token that named other rows.
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "CREATE TABLE IF NOT EXISTS governance_sources (source TEXT PRIMARY KEY, "
      "token INTEGER NOT NULL)"));
  PLEXUS_ASSIGN_OR_RETURN(view_sources_, ViewSources(*db_));
  std::set<std::string> tables;
  for (const auto& [_, read] : view_sources_) tables.insert(read.begin(), read.end());
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT OR IGNORE INTO governance_sources (source, token) VALUES (?, random())"));
  for (const auto& table : tables) {
    put->Reset();
    PLEXUS_RETURN_IF_ERROR(put->Bind(1, table).Run());
    PLEXUS_RETURN_IF_ERROR(db_->CreateWriteTriggers(
        "governance_source_" + table + "_", table,
        "UPDATE governance_sources SET token = random() WHERE source = '" + table + "'"));
  }
  return Status::OK();
}

Status Catalog::ApplyGovernanceFacts(const spec::ProductBundle& bundle) {
  const spec::Product& p = bundle.product;
  PLEXUS_ASSIGN_OR_RETURN(auto clear_team, db_->Cached("DELETE FROM product_team WHERE product_id = ?"));
  PLEXUS_RETURN_IF_ERROR(clear_team->Bind(1, p.id).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto put_member,
                          db_->Cached("INSERT INTO product_team VALUES (?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < p.team.size(); ++i) {
    put_member->Reset();
    PLEXUS_RETURN_IF_ERROR(put_member->Bind(1, p.id).Bind(2, static_cast<int64_t>(i))
                               .Bind(3, p.team[i].username).Bind(4, p.team[i].name)
                               .Bind(5, p.team[i].role).Run());
  }
  PLEXUS_ASSIGN_OR_RETURN(auto clear_slas,
                          db_->Cached("DELETE FROM port_slas WHERE product_id = ? AND port = ? "
                                      "AND major = ?"));
  PLEXUS_ASSIGN_OR_RETURN(auto put_sla,
                          db_->Cached("INSERT INTO port_slas VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  for (const auto& out : p.output_ports) {
    int64_t major = MajorOf(out.version);
    clear_slas->Reset();
    PLEXUS_RETURN_IF_ERROR(clear_slas->Bind(1, p.id).Bind(2, out.name).Bind(3, major).Run());
    auto contract = bundle.contracts.find(out.contract_id);
    if (contract == bundle.contracts.end()) continue;
    const auto& sla = contract->second.sla;
    for (size_t i = 0; i < sla.size(); ++i) {
      put_sla->Reset();
      PLEXUS_RETURN_IF_ERROR(put_sla->Bind(1, p.id).Bind(2, out.name).Bind(3, major)
                                 .Bind(4, static_cast<int64_t>(i)).Bind(5, sla[i].property)
                                 .Bind(6, sla[i].value).Bind(7, sla[i].unit)
                                 .Bind(8, sla[i].element).Run());
    }
  }
  return Status::OK();
}

Status Catalog::ReadGovernanceViews(const std::string& now, ViewSink& sink) const {
  std::lock_guard lock(mu_);
  // One read transaction: every view sees the same catalog.
  PLEXUS_RETURN_IF_ERROR(db_->Execute("BEGIN"));
  Status s = ReadGovernanceViewsLocked(now, sink);
  Status end = db_->Execute(s.ok() ? "COMMIT" : "ROLLBACK");
  return s.ok() ? end : s;
}

Status Catalog::ReadGovernanceViewsLocked(const std::string& now, ViewSink& sink) const {
  {  // The views' versions, read in the export's transaction: the same catalog as the rows.
    std::map<std::string, int64_t> tokens;
    PLEXUS_ASSIGN_OR_RETURN(auto read, db_->Prepare("SELECT source, token FROM governance_sources"));
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool row, read->Step());
      if (!row) break;
      tokens[read->Text(0)] = read->Int(1);
    }
    std::map<std::string, std::string> versions;
    for (const GovernanceView& view : GovernanceViews()) {
      if (view.select == nullptr) continue;
      std::string version;
      bool known = std::string_view(view.select).find("?1") == std::string_view::npos;
      auto sources = view_sources_.find(view.name);
      if (sources == view_sources_.end()) known = false;
      for (const auto& table : known ? sources->second : std::set<std::string>{}) {
        auto token = tokens.find(table);
        if (token == tokens.end()) known = false;  // no trigger tracks it
        if (!known) break;
        version += table + "=" + std::to_string(token->second) + ";";
      }
      versions[view.name] = known ? version : "";
    }
    PLEXUS_RETURN_IF_ERROR(sink.Versions(versions));
  }
  HeldMutex held(db_->handle());
  // The views joined with products (the largest, `columns`, among them) go last: the views
  // computed from the others can be made while they load.
  for (bool by_product : {false, true}) {
    for (const GovernanceView& view : GovernanceViews()) {
      if (view.select == nullptr || view.by_product != by_product || !sink.Wants(view)) continue;
      PLEXUS_RETURN_IF_ERROR(ExportView(db_->handle(), view, now, sink));
    }
  }
  return Status::OK();
}

Result<std::string> Catalog::GovernancePolicies() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT value FROM settings WHERE key = 'governance_policies'"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->Text(0) : std::string();
}

Status Catalog::SetGovernancePoliciesLocked(const std::string& policies) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR REPLACE INTO settings (key, value) VALUES ('governance_policies', ?)"));
  return stmt->Bind(1, policies).Run();
}

Result<int64_t> Catalog::RecordGovernanceEvaluation(const GovernanceEvaluationRecord& evaluation) {
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(int64_t id, RecordGovernanceEvaluationLocked(evaluation));
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<int64_t> Catalog::RecordGovernanceEvaluationLocked(
    const GovernanceEvaluationRecord& evaluation) {
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT INTO governance_evaluations (at, trigger, actor, summary) VALUES (?, ?, ?, ?)"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, evaluation.at).Bind(2, evaluation.trigger)
                             .Bind(3, evaluation.actor).Bind(4, evaluation.summary).Run());
  int64_t id = db_->LastInsertId();
  // The latest evaluation's violations only; the summaries make the history.
  PLEXUS_RETURN_IF_ERROR(db_->Execute("DELETE FROM governance_violations"));
  PLEXUS_ASSIGN_OR_RETURN(auto trim, db_->Prepare(
      "DELETE FROM governance_evaluations WHERE id <= ? - ?"));
  PLEXUS_RETURN_IF_ERROR(trim->Bind(1, id).Bind(2, int64_t{kEvaluationsKept}).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto put_violation, db_->Prepare(
      "INSERT INTO governance_violations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  std::map<std::string, std::string> quarantined;
  for (const auto& v : evaluation.violations) {
    put_violation->Reset();
    PLEXUS_RETURN_IF_ERROR(put_violation->Bind(1, id).Bind(2, v.policy).Bind(3, v.severity)
                               .Bind(4, v.domain).Bind(5, v.product).Bind(6, v.entity)
                               .Bind(7, v.message).Bind(8, v.exemption)
                               .Bind(9, v.exemption_expires).Bind(10, int64_t{v.quarantine})
                               .Run());
    if (v.quarantine && !v.product.empty() && !quarantined.count(v.product)) {
      quarantined[v.product] = v.policy + ": " + v.message;
    }
  }
  // The quarantine table changes only when the set does: it moves the catalog's generation,
  // which makes every reader reload.
  std::map<std::string, std::string> before;
  PLEXUS_ASSIGN_OR_RETURN(auto read, db_->Prepare("SELECT product, reason FROM governance_quarantine"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, read->Step());
    if (!row) break;
    before[read->Text(0)] = read->Text(1);
  }
  if (before != quarantined) {
    PLEXUS_RETURN_IF_ERROR(db_->Execute("DELETE FROM governance_quarantine"));
    PLEXUS_ASSIGN_OR_RETURN(auto put_q, db_->Prepare("INSERT INTO governance_quarantine VALUES (?, ?)"));
    for (const auto& [product, reason] : quarantined) {
      put_q->Reset();
      PLEXUS_RETURN_IF_ERROR(put_q->Bind(1, product).Bind(2, reason).Run());
    }
  }
  return id;
}

Result<std::vector<GovernanceEvaluationRecord>> Catalog::ListGovernanceEvaluations(int limit) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT id, at, trigger, actor, summary FROM governance_evaluations ORDER BY id DESC "
      "LIMIT ?"));
  stmt->Bind(1, int64_t{limit});
  std::vector<GovernanceEvaluationRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->Int(0), stmt->Text(1), stmt->Text(2), stmt->Text(3), stmt->Text(4), {}});
  }
  return out;
}

Result<GovernanceEvaluationRecord> Catalog::LatestGovernanceEvaluation() const {
  PLEXUS_ASSIGN_OR_RETURN(auto newest, ListGovernanceEvaluations(1));
  if (newest.empty()) return NotFound("the mesh's policies were never evaluated: plexus apply");
  GovernanceEvaluationRecord out = std::move(newest.front());
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT policy, severity, domain, product, entity, message, exemption, exemption_expires, "
      "quarantine FROM governance_violations WHERE evaluation_id = ? "
      "ORDER BY policy, entity, message"));
  stmt->Bind(1, out.id);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.violations.push_back({stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3),
                              stmt->Text(4), stmt->Text(5), stmt->Text(6), stmt->Text(7),
                              stmt->Int(8) != 0});
  }
  return out;
}

Result<std::map<std::string, std::string>> Catalog::QuarantinedProducts() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT product, reason FROM governance_quarantine"));
  std::map<std::string, std::string> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out[stmt->Text(0)] = stmt->Text(1);
  }
  return out;
}

}  // namespace plexus::catalog
