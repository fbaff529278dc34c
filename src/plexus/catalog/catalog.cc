#include "plexus/catalog/catalog.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/crypto.h"
#include "plexus/catalog/sqlite_db.h"
#include "plexus/common/text.h"
#include "plexus/spec/contract_diff.h"

namespace plexus::catalog {

using internal::SqliteDb;
using internal::Statement;
using internal::Transaction;

namespace internal {

std::string ToJsonList(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump();
}

std::vector<std::string> FromJsonList(const std::string& text) {
  if (text.empty()) return {};
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return {};
  std::vector<std::string> out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

const spec::SchemaObject* TableOf(const spec::Contract& contract, const std::string& port) {
  for (const auto& object : contract.schema) {
    if (object.name == port) return &object;
  }
  return contract.schema.size() == 1 ? &contract.schema.front() : nullptr;
}

std::vector<std::string> OwnersOf(const spec::Product& product) {
  std::vector<std::string> owners;
  for (const auto& member : product.team) {
    if (AsciiLower(member.role) == "owner") owners.push_back(member.username);
  }
  return owners;
}

}  // namespace internal

using internal::FromJsonList;
using internal::ToJsonList;

namespace {

constexpr int kSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meshes (name TEXT PRIMARY KEY, description TEXT, dir TEXT,
  applied_at TEXT);
CREATE TABLE IF NOT EXISTS domains (name TEXT PRIMARY KEY, description TEXT, owners TEXT,
  members TEXT, applied_at TEXT);
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, domain TEXT NOT NULL, name TEXT NOT NULL,
  version TEXT, status TEXT, purpose TEXT, usage TEXT, tags TEXT, team_name TEXT, owners TEXT,
  dir TEXT, source TEXT, pipeline TEXT, pipeline_file TEXT, applied_at TEXT,
  UNIQUE (domain, name));
CREATE TABLE IF NOT EXISTS contracts (id TEXT PRIMARY KEY, product_id TEXT NOT NULL,
  version TEXT, status TEXT, source TEXT, applied_at TEXT);
CREATE TABLE IF NOT EXISTS output_ports (product_id TEXT NOT NULL, name TEXT NOT NULL,
  major INTEGER NOT NULL, version TEXT, description TEXT, contract_id TEXT, contract_version TEXT,
  status TEXT, visibility TEXT, row_filter TEXT, row_filter_exempt TEXT,
  PRIMARY KEY (product_id, name, major));
CREATE TABLE IF NOT EXISTS columns (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, logical_type TEXT,
  physical_type TEXT, engine_type TEXT, required INTEGER, primary_key INTEGER, is_unique INTEGER,
  classification TEXT, description TEXT, business_name TEXT, mask TEXT, mask_clear_for TEXT,
  PRIMARY KEY (product_id, port, major, position));
CREATE TABLE IF NOT EXISTS input_ports (product_id TEXT NOT NULL, name TEXT NOT NULL,
  version TEXT, contract_id TEXT, PRIMARY KEY (product_id, name, contract_id));
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, product_id TEXT NOT NULL,
  started_at TEXT, finished_at TEXT, status TEXT, reason TEXT, rows INTEGER,
  triggered_by TEXT NOT NULL DEFAULT 'manual', attempt INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS runs_by_product ON runs (product_id, id);
CREATE TABLE IF NOT EXISTS publications (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, rows INTEGER, run_id INTEGER, published_at TEXT,
  PRIMARY KEY (product_id, port, major));
CREATE TABLE IF NOT EXISTS quality_rules (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, position INTEGER NOT NULL, rule TEXT NOT NULL,
  PRIMARY KEY (product_id, port, major, position));
CREATE TABLE IF NOT EXISTS quality_results (id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER, product_id TEXT NOT NULL, port TEXT NOT NULL, major INTEGER NOT NULL,
  rule_position INTEGER NOT NULL, rule TEXT, column_name TEXT, check_name TEXT,
  status TEXT NOT NULL, measured REAL, unit TEXT, threshold TEXT, severity TEXT, samples TEXT,
  message TEXT, checked_at TEXT);
CREATE INDEX IF NOT EXISTS quality_results_by_product ON quality_results (product_id, id);
CREATE TABLE IF NOT EXISTS port_versions (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, version TEXT, contract_id TEXT, contract_version TEXT,
  contract_status TEXT, contract_source TEXT, status TEXT, end_of_support TEXT, end_of_life TEXT,
  applied_at TEXT, PRIMARY KEY (product_id, port, major));
CREATE TABLE IF NOT EXISTS column_lineage (downstream TEXT NOT NULL, downstream_port TEXT NOT NULL,
  downstream_column TEXT NOT NULL, upstream TEXT NOT NULL, upstream_port TEXT NOT NULL,
  upstream_column TEXT NOT NULL, input TEXT, direct INTEGER);
CREATE INDEX IF NOT EXISTS column_lineage_by_upstream ON column_lineage (upstream, upstream_port);
)sql"
// Access (schema version 2): principals, groups, roles, credentials, requests, grants, audit.
R"sql(
CREATE TABLE IF NOT EXISTS principals (name TEXT PRIMARY KEY COLLATE NOCASE, kind TEXT NOT NULL,
  admin INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,
  attributes TEXT NOT NULL DEFAULT '{}', created_at TEXT, created_by TEXT, scram_verifier TEXT);
CREATE TABLE IF NOT EXISTS group_members (group_name TEXT NOT NULL COLLATE NOCASE,
  principal TEXT NOT NULL COLLATE NOCASE, added_at TEXT, added_by TEXT,
  PRIMARY KEY (group_name, principal));
CREATE TABLE IF NOT EXISTS domain_roles (domain TEXT NOT NULL,
  principal TEXT NOT NULL COLLATE NOCASE, role TEXT NOT NULL, PRIMARY KEY (domain, principal));
CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, principal TEXT NOT NULL COLLATE NOCASE,
  secret_sha256 TEXT NOT NULL, label TEXT, created_at TEXT, created_by TEXT,
  expires_at TEXT NOT NULL DEFAULT '', revoked_at TEXT NOT NULL DEFAULT '',
  last_used_at TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS tokens_by_principal ON tokens (principal);
CREATE TABLE IF NOT EXISTS access_requests (id INTEGER PRIMARY KEY AUTOINCREMENT,
  principal TEXT NOT NULL COLLATE NOCASE, target TEXT NOT NULL, purpose TEXT NOT NULL,
  expires_at TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, created_at TEXT,
  decided_by TEXT NOT NULL DEFAULT '', decided_at TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '', grant_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS grants (id INTEGER PRIMARY KEY AUTOINCREMENT,
  grantee TEXT NOT NULL COLLATE NOCASE, grantee_kind TEXT NOT NULL, target TEXT NOT NULL,
  purpose TEXT NOT NULL DEFAULT '', expires_at TEXT NOT NULL DEFAULT '', granted_by TEXT,
  granted_at TEXT, request_id INTEGER NOT NULL DEFAULT 0,
  revoked_at TEXT NOT NULL DEFAULT '', revoked_by TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS grants_by_grantee ON grants (grantee);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL,
  principal TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, products TEXT NOT NULL,
  decision TEXT NOT NULL, rows INTEGER NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_at ON audit (at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

/// Version 1 -> 2: the access columns of tables that version 1 created without them.
constexpr const char* kMigrateTo2 = R"sql(
ALTER TABLE output_ports ADD COLUMN visibility TEXT;
ALTER TABLE output_ports ADD COLUMN row_filter TEXT;
ALTER TABLE output_ports ADD COLUMN row_filter_exempt TEXT;
ALTER TABLE columns ADD COLUMN mask TEXT;
ALTER TABLE columns ADD COLUMN mask_clear_for TEXT;
)sql";

/// The audit record of an Apply: the mesh, the products applied, the principals created.
Status AppendApplyRecord(SqliteDb& db, const spec::Mesh& mesh,
                         const std::vector<std::string>& created, const std::string& actor) {
  std::vector<std::string> applied;
  for (const auto& domain : mesh.domains) {
    for (const auto& bundle : domain.products) {
      applied.push_back(domain.name + "." + bundle.product.name);
    }
  }
  std::string detail = created.empty() ? "" : "principals created: " + ToJsonList(created);
  return internal::AppendAuditRecord(
             db, internal::ChangeRecord(actor, "apply", mesh.name, detail, std::move(applied)))
      .status();
}

}  // namespace

std::string EngineTypeFor(const spec::Property& property) {
  if (!property.physical_type.empty()) return property.physical_type;
  return spec::EngineTypeForLogical(property.logical_type);
}

int MajorOf(const std::string& version) {
  size_t i = (!version.empty() && (version[0] == 'v' || version[0] == 'V')) ? 1 : 0;
  int major = 0;
  bool any = false;
  for (; i < version.size() && std::isdigit(static_cast<unsigned char>(version[i])); i++) {
    major = major * 10 + (version[i] - '0');
    any = true;
  }
  return any ? major : 0;
}

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

Result<Home> Home::Prepare(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path path = fs::absolute(root, ec);
  if (ec) return IOError("cannot resolve home " + root + ": " + ec.message());
  path = path.lexically_normal();
  for (const fs::path& dir : {path, path / "data", path / "tmp"}) {
    fs::create_directories(dir, ec);
    if (ec) return IOError("cannot create " + dir.string() + ": " + ec.message());
  }
  std::string text = path.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return Home(text);
}

// ---- Catalog ------------------------------------------------------------------------------

Catalog::Catalog(std::unique_ptr<SqliteDb> db, Home home)
    : db_(std::move(db)), home_(std::move(home)) {}
Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::Open(const Home& home) {
  PLEXUS_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(home.CatalogPath()));
  std::unique_ptr<Catalog> catalog(new Catalog(std::move(db), home));
  PLEXUS_RETURN_IF_ERROR(catalog->Migrate());
  return catalog;
}

Status Catalog::Migrate() {
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kSchema));
  PLEXUS_RETURN_IF_ERROR(CreateGlossaryTables());
  PLEXUS_RETURN_IF_ERROR(CreateSearchTables());
  PLEXUS_RETURN_IF_ERROR(CreateGovernanceTables());
  PLEXUS_RETURN_IF_ERROR(AddRunTriggerColumns());
  PLEXUS_RETURN_IF_ERROR(CreateMetricsTables());
  PLEXUS_RETURN_IF_ERROR(CreateSloTables());
  PLEXUS_RETURN_IF_ERROR(CreateAlertTables());
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT max(version) FROM schema_version"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  int64_t version = row && !stmt->IsNull(0) ? stmt->Int(0) : 0;
  if (version > kSchemaVersion) {
    return FailedPrecondition("the catalog was written by a newer plexus (schema version " +
                              std::to_string(version) + ")");
  }
  if (version == 1) {
    PLEXUS_RETURN_IF_ERROR(db_->Execute(kMigrateTo2));
  }
  if (version < kSchemaVersion) {
    PLEXUS_ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO schema_version VALUES (?)"));
    PLEXUS_RETURN_IF_ERROR(insert->Bind(1, int64_t{kSchemaVersion}).Run());
  }
  // The salt of hash masks: made once, from the CSPRNG, when the catalog is created (or
  // migrated to version 2).
  PLEXUS_ASSIGN_OR_RETURN(std::string salt, internal::RandomBytes(32));
  PLEXUS_ASSIGN_OR_RETURN(auto put_salt, db_->Prepare(
      "INSERT OR IGNORE INTO settings (key, value) VALUES ('mask_salt', ?)"));
  PLEXUS_RETURN_IF_ERROR(put_salt->Bind(1, internal::Hex(salt)).Run());
  PLEXUS_RETURN_IF_ERROR(CreateGenerationTriggers());
  PLEXUS_RETURN_IF_ERROR(CreateGovernanceSourceTriggers());
  return tx.Commit();
}

Status Catalog::AddRunTriggerColumns() {
  // Catalogs made before the scheduler (issue 7) have runs without why and which attempt.
  PLEXUS_ASSIGN_OR_RETURN(bool has, db_->HasColumn("runs", "triggered_by"));
  if (has) return Status::OK();
  return db_->Execute(
      "ALTER TABLE runs ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'manual';"
      "ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;");
}

Status Catalog::CreateGenerationTriggers() {
  // Generation() is a counter that every change of what readers cache moves: not the audit
  // trail (every query appends to it) nor tokens (each sign-in records its use), so a query
  // does not throw away the readers' caches.
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "INSERT OR IGNORE INTO settings (key, value) VALUES ('generation', '0')"));
  static constexpr const char* kTables[] = {
      "meshes", "domains", "products", "contracts", "output_ports", "columns", "input_ports",
      "publications", "quality_rules", "quality_results", "port_versions", "column_lineage",
      "principals", "group_members", "domain_roles", "access_requests", "grants",
      "glossary_terms", "column_terms", "governance_quarantine"};
  // A counter in `settings` that every write to `table` moves.
  auto count = [this](const std::string& key, const std::string& name, const std::string& table) {
    return db_->CreateWriteTriggers(
        name, table, "UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = '" +
                         key + "'");
  };
  for (const char* table : kTables) {
    PLEXUS_RETURN_IF_ERROR(count("generation", std::string("generation_") + table + "_", table));
  }
  // Every table above but publications, quality results (the access policy reads neither
  // definitions nor grants there) and columns (their own counter, below) moves a third
  // counter: a refresh after a run or a CDC micro-batch, which only publish, keeps the ports'
  // definitions, grants and quarantines the policy holds and re-reads the publications alone
  // (ListPublications). Derived from kTables: a table added there moves it (fail closed).
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "INSERT OR IGNORE INTO settings (key, value) VALUES ('access_generation', '0')"));
  for (const char* table : kTables) {
    std::string_view name = table;
    if (name == "publications" || name == "quality_results" || name == "columns") continue;
    PLEXUS_RETURN_IF_ERROR(
        count("access_generation", std::string("access_generation_") + table + "_", table));
  }
  // The columns alone move a second counter, which publications, runs and grants leave alone:
  // the access policy reads a port's columns on first use and checks they are still those of
  // its listing (ListOutputPortSummaries, ReadPortColumns).
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "INSERT OR IGNORE INTO settings (key, value) VALUES ('columns_generation', '0')"));
  PLEXUS_RETURN_IF_ERROR(count("columns_generation", "columns_generation_", "columns"));
  return Status::OK();
}

Result<std::string> Catalog::MaskSalt() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt,
                          db_->Prepare("SELECT value FROM settings WHERE key = 'mask_salt'"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Internal("the catalog has no mask salt");
  return stmt->Text(0);
}

namespace {

/// The gate's view of Apply's open transaction.
class GateContext : public ApplyGateContext {
 public:
  GateContext(const ApplyReport& report,
              const std::function<Status(const std::string&, ViewSink&)>& read,
              const std::function<Status(const std::string&, const GovernanceEvaluationRecord&)>& save)
      : report_(report), read_(read), save_(save) {}
  const ApplyReport& report() const override { return report_; }
  Status ReadViews(const std::string& now, ViewSink& sink) override { return read_(now, sink); }
  Status Save(const std::string& policies, const GovernanceEvaluationRecord& evaluation) override {
    return save_(policies, evaluation);
  }

 private:
  const ApplyReport& report_;
  const std::function<Status(const std::string&, ViewSink&)>& read_;
  const std::function<Status(const std::string&, const GovernanceEvaluationRecord&)>& save_;
};

}  // namespace

Result<ApplyReport> Catalog::Apply(const spec::Mesh& mesh, const std::string& actor,
                                   const ApplyGate& gate, bool dry_run) {
  std::lock_guard lock(mu_);
  ApplyReport report;
  std::string now = NowUtc();
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  // The version gate (catalog_versions.cc): nothing is applied when a port cannot move.
  PLEXUS_ASSIGN_OR_RETURN(VersionReview review, ReviewVersionsLocked(mesh));
  if (!review.ok()) return FailedPrecondition(review.RefusalText());
  PLEXUS_ASSIGN_OR_RETURN(auto mesh_stmt,
                          db_->Prepare("INSERT OR REPLACE INTO meshes VALUES (?, ?, ?, ?)"));
  PLEXUS_RETURN_IF_ERROR(
      mesh_stmt->Bind(1, mesh.name).Bind(2, mesh.description).Bind(3, mesh.dir).Bind(4, now).Run());
  for (const auto& domain : mesh.domains) {
    PLEXUS_ASSIGN_OR_RETURN(auto stmt,
                            db_->Prepare("INSERT OR REPLACE INTO domains VALUES (?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(stmt->Bind(1, domain.name)
                               .Bind(2, domain.description)
                               .Bind(3, ToJsonList(domain.owners))
                               .Bind(4, ToJsonList(domain.members))
                               .Bind(5, now)
                               .Run());
    for (const auto& bundle : domain.products) {
      PLEXUS_RETURN_IF_ERROR(ApplyProduct(mesh.access, domain, bundle, now, report));
    }
  }
  PLEXUS_RETURN_IF_ERROR(RecordVersions(mesh, now));
  PLEXUS_RETURN_IF_ERROR(ApplyGlossary(mesh, now));
  {  // mesh.yaml `observability` (catalog_alerts.cc, issue 9)
    spec::MeshObservability observability = mesh.observability;
    if (observability.openlineage_namespace.empty()) {
      observability.openlineage_namespace = mesh.name;
    }
    PLEXUS_RETURN_IF_ERROR(SetObservabilitySettingsLocked(observability));
  }
  PLEXUS_RETURN_IF_ERROR(IndexProducts(mesh));
  PLEXUS_ASSIGN_OR_RETURN(std::vector<std::string> created,
                          internal::SyncDomainRoles(*db_, mesh, now));
  PLEXUS_RETURN_IF_ERROR(AppendApplyRecord(*db_, mesh, created, actor));
  if (gate) {
    std::function<Status(const std::string&, ViewSink&)> read =
        [this](const std::string& now, ViewSink& sink) { return ReadGovernanceViewsLocked(now, sink); };
    std::function<Status(const std::string&, const GovernanceEvaluationRecord&)> save =
        [this](const std::string& policies, const GovernanceEvaluationRecord& evaluation) {
          PLEXUS_RETURN_IF_ERROR(SetGovernancePoliciesLocked(policies));
          return RecordGovernanceEvaluationLocked(evaluation).status();
        };
    GateContext context(report, read, save);
    PLEXUS_RETURN_IF_ERROR(gate(context));
  }
  if (dry_run) return report;  // the transaction rolls back
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return report;
}

}  // namespace plexus::catalog
