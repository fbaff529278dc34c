// Governance (issue 5): the documented, read-only views policy SQL reads (docs/governance.md).
// Each is a SQLite SELECT over the catalog's tables, exported row by row (joined with `products`
// as it is loaded when `by_product`), or computed in DuckDB from views exported before it (the
// governance module loads them). Internal views hold a table as stored, for the views computed
// from it: DuckDB joins them faster than SQLite's export would.
#include "plexus/catalog/governance_records.h"

namespace plexus::catalog {

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
      {"team_rows", "product_team as stored (feeds `team_members`).",
       {{"product_id", "VARCHAR", ""},
        {"username", "VARCHAR", ""},
        {"name", "VARCHAR", ""},
        {"role", "VARCHAR", ""}},
       "SELECT product_id, coalesce(username, ''), coalesce(name, ''), coalesce(role, '') "
       "FROM product_team",
       nullptr, true},
      {"team_members", "The members of a product's team (ODPS team.members).",
       {{"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"team_name", "VARCHAR", "team.name"},
        {"username", "VARCHAR", "the member's username"},
        {"name", "VARCHAR", "the member's name"},
        {"role", "VARCHAR", "owner, data steward, member..."}},
       nullptr,
       "SELECT p.id AS product_id, p.domain, p.name AS product, p.team_name, t.username, t.name, "
       "t.role FROM team_rows t JOIN products p ON p.id = t.product_id"},
      {"output_port_rows", "output_ports as stored (feeds `ports`, `input_ports`).",
       {{"product_id", "VARCHAR", ""},
        {"name", "VARCHAR", ""},
        {"major", "BIGINT", ""},
        {"version", "VARCHAR", ""},
        {"description", "VARCHAR", ""},
        {"contract_id", "VARCHAR", ""},
        {"contract_version", "VARCHAR", ""},
        {"status", "VARCHAR", ""},
        {"visibility", "VARCHAR", ""},
        {"row_filter", "VARCHAR", ""}},
       "SELECT product_id, name, major, version, description, contract_id, contract_version, "
       "status, visibility, row_filter FROM output_ports",
       nullptr, true},
      {"publication_rows", "publications as stored (feeds `ports`).",
       {{"product_id", "VARCHAR", ""},
        {"port", "VARCHAR", ""},
        {"major", "BIGINT", ""},
        {"rows", "BIGINT", ""},
        {"published_at", "VARCHAR", ""}},
       "SELECT product_id, port, major, rows, published_at FROM publications",
       nullptr, true},
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
       nullptr,
       "SELECT o.product_id, p.domain, p.name AS product, o.name, "
       "p.domain || '.' || p.name || '.' || o.name AS qualified_name, o.major, "
       "coalesce(o.version, '') AS version, coalesce(o.description, '') AS description, "
       "coalesce(o.contract_id, '') AS contract_id, "
       "EXISTS (SELECT 1 FROM contract_rows c WHERE c.id = o.contract_id) AS has_contract, "
       "coalesce(o.contract_version, '') AS contract_version, coalesce(o.status, '') AS status, "
       "coalesce(o.visibility, '') AS visibility, coalesce(o.row_filter, '') AS row_filter, "
       "pub.rows, pub.published_at, coalesce(v.end_of_support, '') AS end_of_support, "
       "coalesce(v.end_of_life, '') AS end_of_life FROM output_port_rows o "
       "JOIN products p ON p.id = o.product_id "
       "LEFT JOIN publication_rows pub ON pub.product_id = o.product_id AND pub.port = o.name "
       "AND pub.major = o.major "
       "LEFT JOIN version_rows v ON v.product_id = o.product_id AND v.port = o.name "
       "AND v.major = o.major"},
      {"version_rows", "port_versions as stored (feeds `versions`).",
       {{"product_id", "VARCHAR", ""},
        {"port", "VARCHAR", ""},
        {"major", "BIGINT", ""},
        {"version", "VARCHAR", ""},
        {"status", "VARCHAR", ""},
        {"contract_id", "VARCHAR", ""},
        {"contract_version", "VARCHAR", ""},
        {"contract_status", "VARCHAR", ""},
        {"end_of_support", "VARCHAR", ""},
        {"end_of_life", "VARCHAR", ""},
        {"applied_at", "VARCHAR", ""}},
       "SELECT product_id, port, major, coalesce(version, ''), coalesce(status, ''), "
       "coalesce(contract_id, ''), coalesce(contract_version, ''), coalesce(contract_status, ''), "
       "coalesce(end_of_support, ''), coalesce(end_of_life, ''), coalesce(applied_at, '') "
       "FROM port_versions",
       nullptr, true},
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
       nullptr,
       "SELECT v.product_id, p.domain, p.name AS product, v.port, v.major, v.version, v.status, "
       "v.contract_id, v.contract_version, v.contract_status, v.end_of_support, v.end_of_life, "
       "v.applied_at FROM version_rows v JOIN products p ON p.id = v.product_id"},
      {"contract_rows", "contracts as stored (feeds `contracts`).",
       {{"id", "VARCHAR", ""},
        {"product_id", "VARCHAR", ""},
        {"version", "VARCHAR", ""},
        {"status", "VARCHAR", ""},
        {"applied_at", "VARCHAR", ""}},
       "SELECT id, product_id, coalesce(version, ''), coalesce(status, ''), "
       "coalesce(applied_at, '') FROM contracts",
       nullptr, true},
      {"contracts", "Data contracts (ODCS), one row each.",
       {{"id", "VARCHAR", "the contract's id"},
        {"product_id", "VARCHAR", "the product"},
        {"domain", "VARCHAR", "its domain"},
        {"product", "VARCHAR", "its SQL name"},
        {"version", "VARCHAR", "the contract's version"},
        {"status", "VARCHAR", "the contract's status"},
        {"applied_at", "VARCHAR", "when applied"}},
       nullptr,
       "SELECT c.id, c.product_id, p.domain, p.name AS product, c.version, c.status, "
       "c.applied_at FROM contract_rows c JOIN products p ON p.id = c.product_id"},
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
       "SELECT product_id, NULL, NULL, port, major, coalesce(property, ''), coalesce(value, ''), "
       "coalesce(unit, ''), coalesce(element, '') FROM port_slas",
       nullptr, false, true},
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
       // 200,000 rows at 10,000 products: joined as loaded, never stored twice.
       "SELECT product_id, NULL, NULL, port, major, position, name, port || '.' || name, "
       "coalesce(logical_type, ''), coalesce(physical_type, ''), coalesce(required, 0), "
       "coalesce(primary_key, 0), coalesce(is_unique, 0), coalesce(classification, ''), "
       "coalesce(description, ''), coalesce(business_name, ''), coalesce(mask, '') FROM columns",
       nullptr, false, true},
      {"classifications", "Each classification in use: how many columns carry it, how many masked.",
       {{"name", "VARCHAR", "the classification, lower case"},
        {"columns", "BIGINT", "columns classified so"},
        {"masked_columns", "BIGINT", "of which consumers outside the domain see masked"}},
       nullptr,
       "SELECT lower(classification) AS name, count(*) AS columns, "
       "count(*) FILTER (WHERE mask <> '') AS masked_columns FROM columns "
       "WHERE classification <> '' GROUP BY 1"},
      {"input_port_rows", "input_ports as stored (feeds `input_ports`).",
       {{"product_id", "VARCHAR", ""},
        {"name", "VARCHAR", ""},
        {"version", "VARCHAR", ""},
        {"contract_id", "VARCHAR", ""}},
       "SELECT product_id, name, version, contract_id FROM input_ports",
       nullptr, true},
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
       nullptr,
       "SELECT i.product_id, p.domain, p.name AS product, i.name, "
       "coalesce(i.version, '') AS version, coalesce(i.contract_id, '') AS contract_id, "
       "o.product_id AS upstream_product_id, up.domain AS upstream_domain, "
       "up.name AS upstream_product, o.name AS upstream_port, o.major AS upstream_major, "
       "o.status AS upstream_status, o.visibility AS upstream_visibility, "
       "coalesce(v.end_of_support, '') AS upstream_end_of_support, "
       "coalesce(v.end_of_life, '') AS upstream_end_of_life "
       "FROM input_port_rows i JOIN products p ON p.id = i.product_id "
       "LEFT JOIN output_port_rows o ON o.contract_id = i.contract_id "
       "LEFT JOIN products up ON up.id = o.product_id "
       "LEFT JOIN version_rows v ON v.product_id = o.product_id AND v.port = o.name "
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
       "SELECT id, product_id, NULL, NULL, coalesce(started_at, ''), coalesce(finished_at, ''), "
       "coalesce(status, ''), coalesce(reason, ''), coalesce(rows, 0) FROM runs",
       nullptr, false, true},
      {"quality_rule_rows", "quality_rules as stored, the rule as JSON (feeds `quality_rules`).",
       {{"product_id", "VARCHAR", ""},
        {"port", "VARCHAR", ""},
        {"major", "BIGINT", ""},
        {"position", "BIGINT", ""},
        {"rule", "VARCHAR", ""}},
       "SELECT product_id, port, major, position, rule FROM quality_rules",
       nullptr, true},
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
       nullptr,
       // A rule on the table (column '') covers each of its properties, one row each (one row,
       // column NULL, when it lists none).
       "SELECT q.product_id, p.domain, p.name AS product, q.port, q.major, q.position, "
       "CASE WHEN q.col <> '' THEN q.col ELSE q.prop END AS column_name, "
       "coalesce(q.metric, '') AS metric, coalesce(nullif(q.type, ''), 'library') AS type, "
       "coalesce(nullif(q.severity, ''), 'error') AS severity, "
       "coalesce(q.dimension, '') AS dimension FROM ("
       "SELECT *, unnest(CASE WHEN col = '' AND len(props) > 0 THEN props "
       "ELSE [NULL::VARCHAR] END) AS prop FROM ("
       // The rule is parsed twice, not six times: one list of paths, and the properties.
       "SELECT product_id, port, major, position, f[1] AS col, f[2] AS metric, f[3] AS type, "
       "f[4] AS severity, f[5] AS dimension, "
       "coalesce(json_extract_string(rule, '$.properties[*]'), []) AS props FROM ("
       "SELECT *, json_extract_string(rule, ['$.column', '$.metric', '$.type', '$.severity', "
       "'$.dimension']) AS f FROM quality_rule_rows))) q JOIN products p ON p.id = q.product_id"},
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
       "SELECT id, run_id, product_id, NULL, NULL, port, major, rule_position, "
       "coalesce(column_name, ''), coalesce(check_name, ''), status, coalesce(severity, ''), "
       "measured, coalesce(checked_at, '') FROM quality_results",
       nullptr, false, true},
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

}  // namespace plexus::catalog
