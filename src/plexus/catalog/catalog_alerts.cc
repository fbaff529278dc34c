// Alerts and the observability settings (issue 9): mesh.yaml `observability` as last applied,
// and the alerts the observe module fires and resolves (one firing alert per key at a time,
// kept across restarts).
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {
namespace {

constexpr const char* kAlertTables = R"sql(
CREATE TABLE IF NOT EXISTS observability_settings (id INTEGER PRIMARY KEY CHECK (id = 1),
  openlineage_url TEXT NOT NULL, openlineage_file TEXT NOT NULL,
  openlineage_namespace TEXT NOT NULL, alerts_webhook TEXT NOT NULL, alerts_log INTEGER NOT NULL,
  slo_interval_s REAL NOT NULL, enabled INTEGER NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,
  kind TEXT NOT NULL, entity TEXT NOT NULL, product TEXT NOT NULL, severity TEXT NOT NULL,
  status TEXT NOT NULL, message TEXT NOT NULL, fired_at TEXT NOT NULL,
  resolved_at TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_firing ON alerts (key) WHERE status = 'firing';
CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status, id);
)sql";

constexpr const char* kAlertColumns =
    "id, key, kind, entity, product, severity, status, message, fired_at, resolved_at";

AlertRecord ReadAlert(const internal::Statement& stmt) {
  AlertRecord a;
  a.id = stmt.Int(0);
  a.key = stmt.Text(1);
  a.kind = stmt.Text(2);
  a.entity = stmt.Text(3);
  a.product = stmt.Text(4);
  a.severity = stmt.Text(5);
  a.status = stmt.Text(6);
  a.message = stmt.Text(7);
  a.fired_at = stmt.Text(8);
  a.resolved_at = stmt.Text(9);
  return a;
}

Result<AlertRecord> AlertById(internal::SqliteDb& db, int64_t id) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(std::string("SELECT ") + kAlertColumns +
                                                " FROM alerts WHERE id = ?"));
  stmt->Bind(1, id);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no alert " + std::to_string(id));
  return ReadAlert(*stmt);
}

}  // namespace

Status Catalog::CreateAlertTables() {
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kAlertTables));
  // Catalogs made before run retention have settings without it: the defaults hold for them.
  PLEXUS_ASSIGN_OR_RETURN(bool has, db_->HasColumn("observability_settings", "run_retention_s"));
  if (has) return Status::OK();
  spec::MeshObservability defaults;
  return db_->Execute(
      "ALTER TABLE observability_settings ADD COLUMN run_retention_s REAL NOT NULL DEFAULT " +
      std::to_string(defaults.run_retention_s) +
      "; ALTER TABLE observability_settings ADD COLUMN runs_per_product INTEGER NOT NULL "
      "DEFAULT " + std::to_string(defaults.runs_per_product) + ";");
}

Status Catalog::SetObservabilitySettings(const spec::MeshObservability& settings) {
  std::lock_guard lock(mu_);
  return SetObservabilitySettingsLocked(settings);
}

Status Catalog::SetObservabilitySettingsLocked(const spec::MeshObservability& settings) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR REPLACE INTO observability_settings (id, openlineage_url, openlineage_file, "
      "openlineage_namespace, alerts_webhook, alerts_log, slo_interval_s, enabled, applied_at, "
      "run_retention_s, runs_per_product) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  return stmt->Bind(1, settings.openlineage_url)
      .Bind(2, settings.openlineage_file)
      .Bind(3, settings.openlineage_namespace)
      .Bind(4, settings.alerts_webhook)
      .Bind(5, int64_t{settings.alerts_log ? 1 : 0})
      .BindReal(6, settings.slo_interval_s)
      .Bind(7, int64_t{settings.enabled ? 1 : 0})
      .Bind(8, NowUtc())
      .BindReal(9, settings.run_retention_s)
      .Bind(10, int64_t{settings.runs_per_product})
      .Run();
}

Result<spec::MeshObservability> Catalog::ObservabilitySettings() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT openlineage_url, openlineage_file, openlineage_namespace, alerts_webhook, "
      "alerts_log, slo_interval_s, enabled, run_retention_s, runs_per_product "
      "FROM observability_settings WHERE id = 1"));
  spec::MeshObservability settings;
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return settings;
  settings.openlineage_url = stmt->Text(0);
  settings.openlineage_file = stmt->Text(1);
  settings.openlineage_namespace = stmt->Text(2);
  settings.alerts_webhook = stmt->Text(3);
  settings.alerts_log = stmt->Int(4) != 0;
  settings.slo_interval_s = stmt->Real(5);
  settings.enabled = stmt->Int(6) != 0;
  settings.run_retention_s = stmt->Real(7);
  settings.runs_per_product = static_cast<int>(stmt->Int(8));
  return settings;
}

Result<std::vector<AlertRecord>> Catalog::ListAlerts(const std::string& status, int limit) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kAlertColumns +
      " FROM alerts WHERE (?1 = '' OR status = ?1) ORDER BY id DESC LIMIT ?2"));
  stmt->Bind(1, status).Bind(2, int64_t{limit > 0 ? limit : -1});
  std::vector<AlertRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadAlert(*stmt));
  }
  return out;
}

Result<AlertRecord> Catalog::FireAlert(const AlertRecord& alert) {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR IGNORE INTO alerts (key, kind, entity, product, severity, status, message, "
      "fired_at) VALUES (?, ?, ?, ?, ?, 'firing', ?, ?)"));
  PLEXUS_RETURN_IF_ERROR(stmt->Bind(1, alert.key)
                             .Bind(2, alert.kind)
                             .Bind(3, alert.entity)
                             .Bind(4, alert.product)
                             .Bind(5, alert.severity)
                             .Bind(6, alert.message)
                             .Bind(7, alert.fired_at.empty() ? NowUtc() : alert.fired_at)
                             .Run());
  if (db_->Changes() == 0) return AlreadyExists("alert " + alert.key + " is firing already");
  return AlertById(*db_, db_->LastInsertId());
}

Result<AlertRecord> Catalog::ResolveAlert(int64_t id) {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ? AND status = 'firing'"));
  PLEXUS_RETURN_IF_ERROR(stmt->Bind(1, NowUtc()).Bind(2, id).Run());
  if (db_->Changes() == 0) return NotFound("no firing alert " + std::to_string(id));
  return AlertById(*db_, id);
}

}  // namespace plexus::catalog
