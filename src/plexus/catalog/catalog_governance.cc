// Governance (issue 5): the read-only views policy SQL reads, exported row by row (the
// governance module loads them into DuckDB, where policies run in DuckDB's SQL); the facts only
// governance reads (a product's team, a port's SLA properties), written by Apply; the
// evaluations, their violations and the quarantined products.


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

/// Seconds in an ODCS SLA unit (d, h, m, s and their long forms); SQLite CASE over `unit`.
#define PLEXUS_SLA_SECONDS                                                                   \
  "(CAST(s.value AS REAL) * CASE lower(coalesce(s.unit, 'd')) "                            \
  "WHEN 's' THEN 1 WHEN 'sec' THEN 1 WHEN 'second' THEN 1 WHEN 'seconds' THEN 1 "            \
  "WHEN 'm' THEN 60 WHEN 'min' THEN 60 WHEN 'minute' THEN 60 WHEN 'minutes' THEN 60 "        \
  "WHEN 'h' THEN 3600 WHEN 'hr' THEN 3600 WHEN 'hour' THEN 3600 WHEN 'hours' THEN 3600 "     \
  "WHEN 'd' THEN 86400 WHEN 'day' THEN 86400 WHEN 'days' THEN 86400 "                        \
  "WHEN 'w' THEN 604800 WHEN 'week' THEN 604800 WHEN 'weeks' THEN 604800 "                   \
  "WHEN 'y' THEN 31536000 WHEN 'yr' THEN 31536000 WHEN 'year' THEN 31536000 "                \
  "WHEN 'years' THEN 31536000 ELSE NULL END)"

/// One row of a SQLite statement, as the sink reads it.
class StatementRow : public ViewRow {
 public:
  explicit StatementRow(const Statement& stmt) : stmt_(stmt) {}
  bool IsNull(int column) const override { return stmt_.IsNull(column); }
  int64_t Int(int column) const override { return stmt_.Int(column); }
  double Real(int column) const override { return stmt_.Real(column); }
  std::string_view Text(int column) const override { return stmt_.TextView(column); }

 private:
  const Statement& stmt_;
};

}  // namespace

const std::vector<GovernanceView>& GovernanceViews() {
  static const std::vector<GovernanceView> kViews = {
      {"evaluation", "One row: when the policies are evaluated.",
       {{"at", "VARCHAR", "the evaluation's time (ISO 8601, UTC)"},
        {"today", "VARCHAR", "its date (YYYY-MM-DD), to compare with lifecycle dates"}},
       "SELECT ?1, substr(?1, 1, 10)"},
      {"domains", "The mesh's domains.",
       {{"name", "VARCHAR", "the domain's SQL name"},
        {"description", "VARCHAR", "domain.yaml description"},
        {"applied_at", "VARCHAR", "when it was last applied (ISO 8601)"}},
       "SELECT name, coalesce(description, ''), coalesce(applied_at, '') FROM domains"},
      {"members", "Who belongs to each domain: its owners, members and service principal.",
       {{"domain", "VARCHAR", "the domain"},
        {"principal", "VARCHAR", "the principal's name"},
        {"role", "VARCHAR", "owner, member or service"}},
       "SELECT domain, principal, role FROM domain_roles"},
      {"products", "Data products (ODPS), one row each.",
       {{"id", "VARCHAR", "the ODPS id"},
        {"domain", "VARCHAR", "its domain"},
        {"name", "VARCHAR", "its SQL name"},
        {"qualified_name", "VARCHAR", "domain.product"},
        {"version", "VARCHAR", "ODPS version"},
        {"status", "VARCHAR", "proposed, draft, active, deprecated or retired"},
        {"purpose", "VARCHAR", "description.purpose ('' when none)"},
        {"usage", "VARCHAR", "description.usage ('' when none)"},
        {"team_name", "VARCHAR", "team.name ('' when none)"},
        {"applied_at", "VARCHAR", "when it was last applied"}},
       "SELECT id, domain, name, domain || '.' || name, coalesce(version, ''), "
       "coalesce(status, ''), coalesce(purpose, ''), coalesce(usage, ''), "
       "coalesce(team_name, ''), coalesce(applied_at, '') FROM products"},
      {"product_tags", "A product's tags, one row each.",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"tag", "VARCHAR", "the tag"}},
       "SELECT p.id, p.domain, p.name, t.value FROM products p, json_each(p.tags) t"},
      {"team_members", "The members of a product's team (ODPS team.members).",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"team_name", "VARCHAR", "team.name"},
        {"username", "VARCHAR", "the member's username"},
        {"name", "VARCHAR", "the member's name"},
        {"role", "VARCHAR", "owner, data steward, member..."}},
       "SELECT p.id, p.domain, p.name, coalesce(p.team_name, ''), coalesce(t.username, ''), "
       "coalesce(t.name, ''), coalesce(t.role, '') FROM product_team t "
       "JOIN products p ON p.id = t.product_id"},
      {"ports", "Output ports, one row per major version.",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"name", "VARCHAR", "the port's SQL name"},
        {"qualified_name", "VARCHAR", "domain.product.port"},
        {"major", "BIGINT", "major version"},
        {"version", "VARCHAR", "the port's version"},
        {"description", "VARCHAR", "the port's description"},
        {"contract_id", "VARCHAR", "its contract's id ('' when none)"},
        {"has_contract", "BOOLEAN", "a contract with that id is applied"},
        {"contract_version", "VARCHAR", "the contract's version"},
        {"status", "VARCHAR", "the contract's status"},
        {"visibility", "VARCHAR", "public, restricted or private"},
        {"row_filter", "VARCHAR", "its row filter ('' when none)"},
        {"rows", "BIGINT", "rows published (NULL: never published)"},
        {"published_at", "VARCHAR", "when last published (NULL: never)"},
        {"end_of_support", "VARCHAR", "ISO date ('' when none)"},
        {"end_of_life", "VARCHAR", "ISO date ('' when none)"}},
       "SELECT o.product_id, p.domain, p.name, o.name, p.domain || '.' || p.name || '.' || o.name, "
       "o.major, coalesce(o.version, ''), coalesce(o.description, ''), "
       "coalesce(o.contract_id, ''), EXISTS (SELECT 1 FROM contracts c WHERE c.id = o.contract_id), "
       "coalesce(o.contract_version, ''), coalesce(o.status, ''), coalesce(o.visibility, ''), "
       "coalesce(o.row_filter, ''), pub.rows, pub.published_at, "
       "coalesce(v.end_of_support, ''), coalesce(v.end_of_life, '') FROM output_ports o "
       "JOIN products p ON p.id = o.product_id "
       "LEFT JOIN publications pub ON pub.product_id = o.product_id AND pub.port = o.name "
       "AND pub.major = o.major "
       "LEFT JOIN port_versions v ON v.product_id = o.product_id AND v.port = o.name "
       "AND v.major = o.major"},
      {"versions", "Every applied major of every port, with its contract and lifecycle.",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"port", "VARCHAR", "the port"},
        {"major", "BIGINT", "major version"},
        {"version", "VARCHAR", "the port's version"},
        {"status", "VARCHAR", "the version's status"},
        {"contract_id", "VARCHAR", "its contract"},
        {"contract_version", "VARCHAR", "the contract's version"},
        {"contract_status", "VARCHAR", "the contract's status"},
        {"end_of_support", "VARCHAR", "ISO date ('' when none)"},
        {"end_of_life", "VARCHAR", "ISO date ('' when none)"},
        {"applied_at", "VARCHAR", "when applied"}},
       "SELECT v.product_id, p.domain, p.name, v.port, v.major, coalesce(v.version, ''), "
       "coalesce(v.status, ''), coalesce(v.contract_id, ''), coalesce(v.contract_version, ''), "
       "coalesce(v.contract_status, ''), coalesce(v.end_of_support, ''), "
       "coalesce(v.end_of_life, ''), coalesce(v.applied_at, '') FROM port_versions v "
       "JOIN products p ON p.id = v.product_id"},
      {"contracts", "Data contracts (ODCS), one row each.",
       {{"id", "VARCHAR", "the contract's id"},
        {"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"version", "VARCHAR", "the contract's version"},
        {"status", "VARCHAR", "the contract's status"},
        {"applied_at", "VARCHAR", "when applied"}},
       "SELECT c.id, c.product_id, p.domain, p.name, coalesce(c.version, ''), "
       "coalesce(c.status, ''), coalesce(c.applied_at, '') FROM contracts c "
       "JOIN products p ON p.id = c.product_id"},
      {"sla_properties", "A port's contract's slaProperties, one row each.",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"port", "VARCHAR", "the port"},
        {"major", "BIGINT", "major version"},
        {"property", "VARCHAR", "latency, frequency, retention, availability, ..."},
        {"value", "VARCHAR", "as written"},
        {"unit", "VARCHAR", "as written ('' when none)"},
        {"element", "VARCHAR", "what it applies to ('' when the whole port)"}},
       "SELECT s.product_id, p.domain, p.name, s.port, s.major, coalesce(s.property, ''), "
       "coalesce(s.value, ''), coalesce(s.unit, ''), coalesce(s.element, '') FROM port_slas s "
       "JOIN products p ON p.id = s.product_id"},
      {"column_rows", "The columns table as stored (feeds `columns`).",
       {{"product_id", "VARCHAR", ""},
        {"port", "VARCHAR", ""},
        {"major", "BIGINT", ""},
        {"position", "BIGINT", ""},
        {"name", "VARCHAR", ""},
        {"logical_type", "VARCHAR", ""},
        {"physical_type", "VARCHAR", ""},
        {"required", "BOOLEAN", ""},
        {"primary_key", "BOOLEAN", ""},
        {"is_unique", "BOOLEAN", ""},
        {"classification", "VARCHAR", ""},
        {"description", "VARCHAR", ""},
        {"business_name", "VARCHAR", ""},
        {"mask", "VARCHAR", ""}},
       "SELECT product_id, port, major, position, name, coalesce(logical_type, ''), "
       "coalesce(physical_type, ''), coalesce(required, 0), coalesce(primary_key, 0), "
       "coalesce(is_unique, 0), coalesce(classification, ''), coalesce(description, ''), "
       "coalesce(business_name, ''), coalesce(mask, '') FROM columns",
       nullptr, true},
      {"columns", "The columns of every port major (ODCS schema properties).",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"port", "VARCHAR", "the port"},
        {"major", "BIGINT", "major version"},
        {"position", "BIGINT", "0-based position"},
        {"name", "VARCHAR", "the column's name"},
        {"qualified_name", "VARCHAR", "domain.product.port.column"},
        {"logical_type", "VARCHAR", "ODCS logicalType"},
        {"physical_type", "VARCHAR", "as declared ('' when none)"},
        {"required", "BOOLEAN", "required"},
        {"primary_key", "BOOLEAN", "part of the primary key"},
        {"is_unique", "BOOLEAN", "unique"},
        {"classification", "VARCHAR", "as written ('' when none)"},
        {"description", "VARCHAR", "('' when none)"},
        {"business_name", "VARCHAR", "('' when none)"},
        {"mask", "VARCHAR", "the mask consumers outside the domain see ('' when clear)"}},
       nullptr,
       "SELECT c.product_id, p.domain, p.name AS product, c.port, c.major, c.position, c.name, "
       "p.domain || '.' || p.name || '.' || c.port || '.' || c.name AS qualified_name, "
       "c.logical_type, c.physical_type, c.required, c.primary_key, c.is_unique, "
       "c.classification, c.description, c.business_name, c.mask "
       "FROM column_rows c JOIN products p ON p.id = c.product_id"},
      {"classifications", "Each classification in use: how many columns carry it, how many masked.",
       {{"name", "VARCHAR", "the classification, lower case"},
        {"columns", "BIGINT", "columns classified so"},
        {"masked_columns", "BIGINT", "of which consumers outside the domain see masked"}},
       nullptr,
       "SELECT lower(classification) AS name, count(*) AS columns, "
       "count(*) FILTER (WHERE mask <> '') AS masked_columns FROM columns "
       "WHERE classification <> '' GROUP BY 1"},
      {"input_ports", "Input ports (ODPS), with the upstream port major they read.",
       {{"product_id", "VARCHAR", "the reading product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"name", "VARCHAR", "the input port's name"},
        {"version", "VARCHAR", "the version it reads"},
        {"contract_id", "VARCHAR", "the upstream contract"},
        {"upstream_product_id", "VARCHAR", "NULL when outside the mesh"},
        {"upstream_domain", "VARCHAR", "NULL when outside the mesh"},
        {"upstream_product", "VARCHAR", "NULL when outside the mesh"},
        {"upstream_port", "VARCHAR", "NULL when outside the mesh"},
        {"upstream_major", "BIGINT", "the upstream port major"},
        {"upstream_status", "VARCHAR", "that major's status"},
        {"upstream_visibility", "VARCHAR", "that major's visibility"},
        {"upstream_end_of_support", "VARCHAR", "ISO date ('' when none)"},
        {"upstream_end_of_life", "VARCHAR", "ISO date ('' when none)"}},
       "SELECT i.product_id, p.domain, p.name, i.name, coalesce(i.version, ''), "
       "coalesce(i.contract_id, ''), o.product_id, up.domain, up.name, o.name, o.major, "
       "o.status, o.visibility, coalesce(v.end_of_support, ''), coalesce(v.end_of_life, '') "
       "FROM input_ports i JOIN products p ON p.id = i.product_id "
       "LEFT JOIN output_ports o ON o.contract_id = i.contract_id "
       "LEFT JOIN products up ON up.id = o.product_id "
       "LEFT JOIN port_versions v ON v.product_id = o.product_id AND v.port = o.name "
       "AND v.major = o.major"},
      {"lineage", "Product-to-product edges: the downstream product reads the upstream port.",
       {{"upstream", "VARCHAR", "domain.product"},
        {"upstream_port", "VARCHAR", "the port read"},
        {"downstream", "VARCHAR", "domain.product"},
        {"input_port", "VARCHAR", "the downstream's input port"}},
       nullptr,
       "SELECT DISTINCT upstream_domain || '.' || upstream_product AS upstream, upstream_port, "
       "domain || '.' || product AS downstream, name AS input_port FROM input_ports "
       "WHERE upstream_port IS NOT NULL"},
      {"column_lineage", "Column-to-column edges recorded from the pipelines' SQL.",
       {{"downstream", "VARCHAR", "domain.product"},
        {"downstream_port", "VARCHAR", "the port"},
        {"downstream_column", "VARCHAR", "the column"},
        {"upstream", "VARCHAR", "domain.product"},
        {"upstream_port", "VARCHAR", "the port"},
        {"upstream_column", "VARCHAR", "the column"},
        {"direct", "BOOLEAN", "the value is copied or computed from it (not only filtered by it)"}},
       "SELECT downstream, downstream_port, downstream_column, upstream, upstream_port, "
       "upstream_column, coalesce(direct, 0) != 0 FROM column_lineage"},
      {"principals", "Users and service principals.",
       {{"name", "VARCHAR", "the principal"},
        {"kind", "VARCHAR", "user or service"},
        {"admin", "BOOLEAN", "a mesh admin"},
        {"disabled", "BOOLEAN", "disabled"}},
       "SELECT name, kind, admin != 0, disabled != 0 FROM principals"},
      {"group_members", "Group membership.",
       {{"group_name", "VARCHAR", "the group"}, {"principal", "VARCHAR", "a member"}},
       "SELECT group_name, principal FROM group_members"},
      {"grants", "Access grants, with whether they are in force at the evaluation's time.",
       {{"id", "BIGINT", "the grant"},
        {"grantee", "VARCHAR", "a principal or a group"},
        {"grantee_kind", "VARCHAR", "principal or group"},
        {"target", "VARCHAR", "domain.product or domain.product.port"},
        {"purpose", "VARCHAR", "why"},
        {"expires_at", "VARCHAR", "('' when never)"},
        {"granted_by", "VARCHAR", "who"},
        {"granted_at", "VARCHAR", "when"},
        {"active", "BOOLEAN", "not revoked and not expired"}},
       "SELECT id, grantee, grantee_kind, target, purpose, expires_at, coalesce(granted_by, ''), "
       "coalesce(granted_at, ''), revoked_at = '' AND (expires_at = '' OR expires_at > ?1) "
       "FROM grants"},
      {"runs", "Pipeline runs.",
       {{"id", "BIGINT", "the run"},
        {"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"started_at", "VARCHAR", "when it started"},
        {"finished_at", "VARCHAR", "when it finished ('' while running)"},
        {"status", "VARCHAR", "running, succeeded, failed..."},
        {"reason", "VARCHAR", "why it failed"},
        {"rows", "BIGINT", "rows published"}},
       "SELECT r.id, r.product_id, p.domain, p.name, coalesce(r.started_at, ''), "
       "coalesce(r.finished_at, ''), coalesce(r.status, ''), coalesce(r.reason, ''), "
       "coalesce(r.rows, 0) FROM runs r JOIN products p ON p.id = r.product_id"},
      {"quality_rules", "Quality rules of every port major, one row per rule and column it covers.",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"port", "VARCHAR", "the port"},
        {"major", "BIGINT", "major version"},
        {"position", "BIGINT", "the rule's position in the contract"},
        {"column_name", "VARCHAR", "a column it checks (NULL: the whole table)"},
        {"metric", "VARCHAR", "nullValues, duplicateValues, ... ('' for sql rules)"},
        {"type", "VARCHAR", "library, sql, custom or text"},
        {"severity", "VARCHAR", "error, warning or info"},
        {"dimension", "VARCHAR", "accuracy, completeness, ..."}},
       "SELECT q.product_id, p.domain, p.name, q.port, q.major, q.position, "
       "CASE WHEN json_extract(q.rule, '$.column') != '' THEN json_extract(q.rule, '$.column') "
       "ELSE c.value END, coalesce(json_extract(q.rule, '$.metric'), ''), "
       "coalesce(nullif(json_extract(q.rule, '$.type'), ''), 'library'), "
       "coalesce(nullif(json_extract(q.rule, '$.severity'), ''), 'error'), "
       "coalesce(json_extract(q.rule, '$.dimension'), '') FROM quality_rules q "
       "JOIN products p ON p.id = q.product_id "
       "LEFT JOIN json_each(q.rule, '$.properties') c ON json_extract(q.rule, '$.column') = ''"},
      {"quality_results", "Quality check results, one row per rule per check.",
       {{"id", "BIGINT", "the result"},
        {"run_id", "BIGINT", "the run (NULL: plexus test)"},
        {"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"port", "VARCHAR", "the port"},
        {"major", "BIGINT", "major version"},
        {"rule_position", "BIGINT", "the rule"},
        {"column_name", "VARCHAR", "the column ('' when the table)"},
        {"check_name", "VARCHAR", "the check"},
        {"status", "VARCHAR", "passed, failed or error"},
        {"severity", "VARCHAR", "error, warning or info"},
        {"measured", "DOUBLE", "the figure measured"},
        {"checked_at", "VARCHAR", "when"}},
       "SELECT r.id, r.run_id, r.product_id, p.domain, p.name, r.port, r.major, "
       "r.rule_position, coalesce(r.column_name, ''), coalesce(r.check_name, ''), r.status, "
       "coalesce(r.severity, ''), r.measured, coalesce(r.checked_at, '') FROM quality_results r "
       "JOIN products p ON p.id = r.product_id"},
      {"slo_status",
       "Freshness objectives (latency and freshness slaProperties) against the last "
       "publication, at the evaluation's time.",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"port", "VARCHAR", "the port"},
        {"major", "BIGINT", "major version"},
        {"property", "VARCHAR", "latency or freshness"},
        {"objective_seconds", "DOUBLE", "the objective (NULL: a unit not understood)"},
        {"published_at", "VARCHAR", "the last publication (NULL: never)"},
        {"age_seconds", "DOUBLE", "seconds since it (NULL: never)"},
        {"status", "VARCHAR", "met, breached or unknown (never published, unit unknown)"}},
       "SELECT s.product_id, p.domain, p.name, s.port, s.major, lower(s.property), "
       PLEXUS_SLA_SECONDS ", pub.published_at, "
       "(julianday(?1) - julianday(pub.published_at)) * 86400.0, "
       "CASE WHEN pub.published_at IS NULL OR " PLEXUS_SLA_SECONDS " IS NULL THEN 'unknown' "
       "WHEN (julianday(?1) - julianday(pub.published_at)) * 86400.0 <= " PLEXUS_SLA_SECONDS
       " THEN 'met' ELSE 'breached' END "
       "FROM port_slas s JOIN products p ON p.id = s.product_id "
       "LEFT JOIN publications pub ON pub.product_id = s.product_id AND pub.port = s.port "
       "AND pub.major = s.major WHERE lower(s.property) IN ('latency', 'freshness')"},
  };
  return kViews;
}

#undef PLEXUS_SLA_SECONDS

Status Catalog::CreateGovernanceTables() { return db_->Execute(kGovernanceSchema); }

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
  for (const GovernanceView& view : GovernanceViews()) {
    if (view.select == nullptr) continue;  // derived in DuckDB
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(view.select));
    if (std::string_view(view.select).find("?1") != std::string_view::npos) stmt->Bind(1, now);
    PLEXUS_RETURN_IF_ERROR(sink.BeginView(view));
    StatementRow row(*stmt);
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool more, stmt->Step());
      if (!more) break;
      PLEXUS_RETURN_IF_ERROR(sink.Row(row));
    }
    PLEXUS_RETURN_IF_ERROR(sink.EndView(view));
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
