// The quality record: each port's ODCS quality rules as applied, and the
// results of checking them (by runs and by plexus test). Rules are stored as
// JSON, one row per rule, so a run reads exactly what apply validated.
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::Statement;
using nlohmann::json;

namespace {

json RuleToJson(const spec::QualityRule &r) {
  return json{{"id", r.id},
              {"name", r.name},
              {"description", r.description},
              {"dimension", r.dimension},
              {"type", r.type},
              {"metric", r.metric},
              {"validValues", r.valid_values},
              {"pattern", r.pattern},
              {"missingValues", r.missing_values},
              {"hasMissingValues", r.has_missing_values},
              {"properties", r.properties},
              {"op", r.op},
              {"operands", r.operands},
              {"operandText", r.operand_text},
              {"unit", r.unit},
              {"query", r.query},
              {"engine", r.engine},
              {"implementation", r.implementation},
              {"severity", r.severity},
              {"businessImpact", r.business_impact},
              {"column", r.column},
              {"file", r.location.file},
              {"line", r.location.line}};
}

spec::QualityRule RuleFromJson(const json &j) {
  spec::QualityRule r;
  auto text = [&j](const char *key) { return j.value(key, std::string()); };
  r.id = text("id");
  r.name = text("name");
  r.description = text("description");
  r.dimension = text("dimension");
  r.type = text("type");
  r.metric = text("metric");
  r.valid_values = j.value("validValues", std::vector<std::string>{});
  r.pattern = text("pattern");
  r.missing_values = j.value("missingValues", std::vector<std::string>{});
  r.has_missing_values = j.value("hasMissingValues", false);
  r.properties = j.value("properties", std::vector<std::string>{});
  r.op = text("op");
  r.operands = j.value("operands", std::vector<double>{});
  r.operand_text = text("operandText");
  r.unit = text("unit");
  r.query = text("query");
  r.engine = text("engine");
  r.implementation = text("implementation");
  r.severity = text("severity");
  r.business_impact = text("businessImpact");
  r.column = text("column");
  r.location.file = text("file");
  r.location.line = j.value("line", 0);
  return r;
}

constexpr const char *kResultColumns =
    "id, coalesce(run_id, 0), product_id, port, major, rule_position, "
    "coalesce(rule, ''), "
    "coalesce(column_name, ''), coalesce(check_name, ''), status, measured IS "
    "NOT NULL, "
    "coalesce(CAST(measured AS TEXT), ''), coalesce(unit, ''), "
    "coalesce(threshold, ''), "
    "coalesce(severity, ''), coalesce(samples, '[]'), coalesce(message, ''), "
    "coalesce(checked_at, '')";

QualityResultRecord ReadResult(const Statement &s) {
  QualityResultRecord r;
  r.id = s.Int(0);
  r.run_id = s.Int(1);
  r.product_id = s.Text(2);
  r.port = s.Text(3);
  r.major = static_cast<int>(s.Int(4));
  r.rule_position = static_cast<int>(s.Int(5));
  r.rule = s.Text(6);
  r.column = s.Text(7);
  r.check = s.Text(8);
  r.status = s.Text(9);
  r.has_measured = s.Int(10) != 0;
  r.measured = r.has_measured ? std::strtod(s.Text(11).c_str(), nullptr) : 0;
  r.unit = s.Text(12);
  r.threshold = s.Text(13);
  r.severity = s.Text(14);
  r.samples = s.Text(15);
  r.message = s.Text(16);
  r.checked_at = s.Text(17);
  return r;
}

/// The text SQLite turns back into the same double (REAL keeps 17 significant
/// digits).
std::string RealText(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  return buf;
}

} // namespace

Status Catalog::ApplyQualityRules(const std::string &product_id,
                                  const std::string &port, int major,
                                  const spec::SchemaObject *table) {
  PLEXUS_ASSIGN_OR_RETURN(
      auto clear, db_->Prepare("DELETE FROM quality_rules WHERE product_id = ? "
                               "AND port = ? AND major = ?"));
  PLEXUS_RETURN_IF_ERROR(
      clear->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major}).Run());
  if (table == nullptr)
    return Status::OK();
  std::vector<const spec::QualityRule *> rules;
  for (const auto &rule : table->quality)
    rules.push_back(&rule);
  for (const auto &property : table->properties) {
    for (const auto &rule : property.quality)
      rules.push_back(&rule);
  }
  int64_t position = 0;
  for (const auto *rule : rules) {
    PLEXUS_ASSIGN_OR_RETURN(
        auto put,
        db_->Prepare("INSERT INTO quality_rules VALUES (?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(put->Bind(1, product_id)
                               .Bind(2, port)
                               .Bind(3, int64_t{major})
                               .Bind(4, position++)
                               .Bind(5, RuleToJson(*rule).dump())
                               .Run());
  }
  return Status::OK();
}

Result<std::vector<spec::QualityRule>>
Catalog::ListQualityRules(const OutputPortRecord &port) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("SELECT rule FROM quality_rules WHERE product_id "
                              "= ? AND port = ? AND major = ? "
                              "ORDER BY position"));
  stmt->Bind(1, port.product_id)
      .Bind(2, port.name)
      .Bind(3, int64_t{port.major});
  std::vector<spec::QualityRule> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row)
      break;
    json parsed = json::parse(stmt->Text(0), nullptr, false);
    if (!parsed.is_object()) {
      return Internal("catalog: a quality rule of " + port.SqlName() +
                      " is not readable");
    }
    out.push_back(RuleFromJson(parsed));
  }
  return out;
}

Status
Catalog::RecordQualityResults(const std::vector<QualityResultRecord> &results) {
  if (results.empty())
    return Status::OK();
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  std::string now = NowUtc();
  for (const auto &r : results) {
    PLEXUS_ASSIGN_OR_RETURN(
        auto put, db_->Prepare("INSERT INTO quality_results (run_id, "
                               "product_id, port, major, rule_position, rule, "
                               "column_name, check_name, status, measured, "
                               "unit, threshold, severity, samples, message, "
                               "checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "CAST(? AS REAL), ?, ?, ?, ?, ?, ?)"));
    if (r.run_id > 0) {
      put->Bind(1, r.run_id);
    } else {
      put->BindNull(1);
    }
    put->Bind(2, r.product_id)
        .Bind(3, r.port)
        .Bind(4, int64_t{r.major})
        .Bind(5, int64_t{r.rule_position})
        .Bind(6, r.rule)
        .Bind(7, r.column)
        .Bind(8, r.check)
        .Bind(9, r.status);
    if (r.has_measured) {
      put->Bind(10, RealText(r.measured));
    } else {
      put->BindNull(10);
    }
    PLEXUS_RETURN_IF_ERROR(
        put->Bind(11, r.unit)
            .Bind(12, r.threshold)
            .Bind(13, r.severity)
            .Bind(14, r.samples.empty() ? "[]" : r.samples)
            .Bind(15, r.message)
            .Bind(16, r.checked_at.empty() ? now : r.checked_at)
            .Run());
  }
  return tx.Commit();
}

Result<std::vector<QualityResultRecord>>
Catalog::ListQualityResults(const std::string &product_id,
                            int64_t run_id) const {
  std::lock_guard lock(mu_);
  // One evaluation of a port records all its rules with the same checked_at.
  std::string sql = std::string("SELECT ") + kResultColumns +
                    " FROM quality_results q WHERE ";
  sql += run_id > 0 ? "product_id = ?1 AND run_id = ?2"
                    : "product_id = ?1 AND ?2 = 0 AND checked_at = (SELECT "
                      "max(checked_at) FROM "
                      "quality_results l WHERE l.product_id = q.product_id AND "
                      "l.port = q.port AND "
                      "l.major = q.major)";
  sql += " ORDER BY port, major, rule_position";
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  stmt->Bind(1, product_id).Bind(2, run_id);
  std::vector<QualityResultRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row)
      break;
    out.push_back(ReadResult(*stmt));
  }
  return out;
}

} // namespace plexus::catalog
