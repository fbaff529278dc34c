#include "plexus/pipeline/quality_check.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "plexus/catalog/home.h"
#include "plexus/common/text.h"

namespace plexus::pipeline {
namespace {

using catalog::QualityResultRecord;
using engine::QuoteIdentifier;
using engine::QuoteLiteral;

constexpr int kSampleRows = 5;

/// What a library rule needs measured: a count over the table (and the
/// predicate of its failing rows, for samples), or why it cannot be evaluated.
struct Measure {
  std::string count;   ///< SQL aggregate giving the bad rows (or the row count)
  std::string failing; ///< SQL predicate of a failing row; empty: no samples
  bool is_count_metric = true; ///< false for rowCount: percent and the mustBe-0
                               ///< default do not apply
  std::string problem;         ///< not empty: not evaluated, and why
};

const catalog::ColumnRecord *FindColumn(const catalog::OutputPortRecord &port,
                                        const std::string &name) {
  for (const auto &column : port.columns) {
    if (AsciiLower(column.name) == AsciiLower(name))
      return &column;
  }
  return nullptr;
}

std::string TextList(const std::vector<std::string> &values) {
  std::string out;
  for (const auto &v : values)
    out += (out.empty() ? "" : ", ") + QuoteLiteral(v);
  return out;
}

Measure PropertyMeasure(const spec::QualityRule &rule,
                        const catalog::ColumnRecord &column,
                        const std::string &table) {
  std::string c = QuoteIdentifier(column.name);
  std::string text = "CAST(" + c + " AS VARCHAR)";
  Measure m;
  if (rule.metric == "nullValues") {
    m.failing = c + " IS NULL";
  } else if (rule.metric == "missingValues") {
    std::vector<std::string> missing = rule.has_missing_values
                                           ? rule.missing_values
                                           : std::vector<std::string>{""};
    m.failing = c + " IS NULL";
    if (!missing.empty())
      m.failing += " OR " + text + " IN (" + TextList(missing) + ")";
  } else if (rule.metric == "invalidValues") {
    if (rule.valid_values.empty() && rule.pattern.empty()) {
      m.problem =
          "invalidValues needs arguments.validValues or arguments.pattern";
      return m;
    }
    std::vector<std::string> invalid;
    if (!rule.valid_values.empty()) {
      std::string list;
      for (const auto &v : rule.valid_values) {
        list += (list.empty() ? "" : ", ") + std::string("TRY_CAST(") +
                QuoteLiteral(v) + " AS " + column.engine_type + ")";
      }
      invalid.push_back("NOT list_contains([" + list + "], " + c + ")");
    }
    if (!rule.pattern.empty()) {
      invalid.push_back("NOT regexp_matches(" + text + ", " +
                        QuoteLiteral(rule.pattern) + ")");
    }
    m.failing = c + " IS NOT NULL AND (" + invalid.front() +
                (invalid.size() > 1 ? " OR " + invalid.back() : "") + ")";
  } else if (rule.metric == "duplicateValues") {
    m.count = "count(" + c + ") - count(DISTINCT " + c + ")";
    m.failing = c + " IN (SELECT " + c + " FROM " + table +
                " GROUP BY 1 HAVING count(*) > 1)";
    return m;
  } else if (rule.metric == "rowCount") {
    m.count = "count(*)";
    m.is_count_metric = false;
    return m;
  } else {
    m.problem = "unknown metric '" + rule.metric + "'";
    return m;
  }
  m.count = "count_if(" + m.failing + ")";
  return m;
}

Measure SchemaMeasure(const spec::QualityRule &rule,
                      const catalog::OutputPortRecord &port,
                      const std::string &table) {
  Measure m;
  if (rule.metric == "rowCount") {
    m.count = "count(*)";
    m.is_count_metric = false;
  } else if (rule.metric == "duplicateValues") {
    std::vector<std::string> names = rule.properties;
    if (names.empty()) {
      for (const auto &column : port.columns)
        names.push_back(column.name);
    }
    std::string key;
    for (const auto &name : names) {
      const catalog::ColumnRecord *column = FindColumn(port, name);
      if (column == nullptr) {
        m.problem = "arguments.properties names " + name +
                    ", which is not a column of " + port.SqlName();
        return m;
      }
      key += (key.empty() ? "" : ", ") + QuoteIdentifier(column->name);
    }
    if (names.size() > 1)
      key = "(" + key + ")";
    m.count = "count(" + key + ") - count(DISTINCT " + key + ")";
    m.failing = key + " IN (SELECT " + key + " FROM " + table +
                " GROUP BY 1 HAVING count(*) > 1)";
  } else if (rule.metric.empty()) {
    m.problem = "a library rule needs a metric";
  } else {
    m.problem = "metric " + rule.metric +
                " applies to a property, not to a whole table";
  }
  return m;
}

Measure MeasureFor(const spec::QualityRule &rule,
                   const catalog::OutputPortRecord &port,
                   const std::string &table) {
  if (rule.column.empty())
    return SchemaMeasure(rule, port, table);
  const catalog::ColumnRecord *column = FindColumn(port, rule.column);
  if (column == nullptr) {
    Measure m;
    m.problem = "no column " + rule.column + " in " + port.SqlName();
    return m;
  }
  if (rule.metric == "rowCount")
    return SchemaMeasure(rule, port, table);
  return PropertyMeasure(rule, *column, table);
}

std::string Number(double value) {
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", value);
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", value);
  }
  return buf;
}

/// Compares `measured` to the rule's operator; nullopt (and `problem`) when it
/// cannot.
std::optional<bool> Compare(const spec::QualityRule &rule, double measured,
                            bool count_metric, std::string *problem) {
  std::string op = rule.op;
  std::vector<double> operands = rule.operands;
  if (op.empty()) {
    if (!count_metric) {
      *problem = "no comparison operator (mustBe, mustBeGreaterThan, ...)";
      return std::nullopt;
    }
    op = "mustBe";
    operands = {0};
  }
  bool between = op == "mustBeBetween" || op == "mustNotBeBetween";
  if (operands.size() != (between ? 2u : 1u)) {
    *problem = op + " needs " + (between ? "two numbers" : "a number") +
               ", found " + rule.operand_text;
    return std::nullopt;
  }
  double a = operands[0];
  if (op == "mustBe")
    return measured == a;
  if (op == "mustNotBe")
    return measured != a;
  if (op == "mustBeGreaterThan")
    return measured > a;
  if (op == "mustBeGreaterOrEqualTo")
    return measured >= a;
  if (op == "mustBeLessThan")
    return measured < a;
  if (op == "mustBeLessOrEqualTo")
    return measured <= a;
  double low = std::min(a, operands[1]);
  double high = std::max(a, operands[1]);
  if (op == "mustBeBetween")
    return measured > low && measured < high;
  if (op == "mustNotBeBetween")
    return measured <= low || measured >= high;
  *problem = "unknown operator " + op;
  return std::nullopt;
}

std::string Threshold(const spec::QualityRule &rule, bool count_metric) {
  if (rule.op.empty())
    return count_metric ? "mustBe 0" : "";
  return rule.op + " " + rule.operand_text;
}

bool IsPercent(const spec::QualityRule &rule) {
  return AsciiLower(rule.unit) == "percent";
}

/// Fills status and message from the measured value.
void Judge(const spec::QualityRule &rule, bool count_metric,
           QualityResultRecord &r) {
  std::string problem;
  std::optional<bool> ok = Compare(rule, r.measured, count_metric, &problem);
  if (!ok) {
    r.status = "not_evaluated";
    r.message = problem;
  } else {
    r.status = *ok ? "passed" : "failed";
  }
}

/// The failing rows of a rule: up to kSampleRows, the sampleable columns only,
/// as JSON.
Result<std::string> Samples(engine::Connection &conn,
                            const catalog::OutputPortRecord &port,
                            const std::string &table,
                            const std::string &failing) {
  std::string columns;
  for (const auto &column : port.columns) {
    if (!IsSampleable(column.classification))
      continue;
    columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(column.name);
  }
  if (columns.empty())
    return std::string("[]");
  std::string sql = "SELECT CAST(to_json(list(s)) AS VARCHAR) FROM (SELECT " +
                    columns + " FROM " + table + " WHERE " + failing +
                    " LIMIT " + std::to_string(kSampleRows) + ") AS s";
  PLEXUS_ASSIGN_OR_RETURN(std::string json, conn.QueryScalar(sql));
  return json.empty() ? std::string("[]") : json;
}

/// One aggregate query for every library rule in `indexes`. On an error (a bad
/// pattern, a type that does not cast), each rule is run alone so only the
/// faulty one fails.
void EvaluateLibrary(engine::Connection &conn, const std::string &table,
                     const std::vector<Measure> &measures,
                     const std::vector<size_t> &indexes,
                     const std::vector<spec::QualityRule> &rules,
                     std::vector<QualityResultRecord> &results) {
  if (indexes.empty())
    return;
  std::string sql = "SELECT count(*)";
  for (size_t i : indexes)
    sql += ", " + measures[i].count;
  auto query = conn.Query(sql + " FROM " + table);
  Result<std::unique_ptr<engine::DataChunk>> chunk =
      query.ok() ? (*query)->Fetch()
                 : Result<std::unique_ptr<engine::DataChunk>>(query.status());
  if (!chunk.ok() || !*chunk || (*chunk)->size() != 1) {
    std::string error = chunk.ok() ? "no row" : chunk.status().message();
    if (indexes.size() == 1) {
      results[indexes[0]].status = "failed";
      results[indexes[0]].message = "the check could not run: " + error;
      return;
    }
    for (size_t i : indexes)
      EvaluateLibrary(conn, table, measures, {i}, rules, results);
    return;
  }
  double total = (*chunk)->GetDouble(0, 0);
  for (size_t k = 0; k < indexes.size(); k++) {
    size_t i = indexes[k];
    QualityResultRecord &r = results[i];
    double count = (*chunk)->GetDouble(k + 1, 0);
    bool percent = IsPercent(rules[i]) && measures[i].is_count_metric;
    r.has_measured = true;
    r.measured = percent ? (total > 0 ? 100.0 * count / total : 0.0) : count;
    r.unit = percent ? "percent" : "rows";
    Judge(rules[i], measures[i].is_count_metric, r);
  }
}

/// Resolves only the port's own table (under its port name or its SQL name):
/// what a sql rule may read.
class OwnTableResolver : public access::RelationResolver {
public:
  OwnTableResolver(const catalog::OutputPortRecord &port,
                   access::ResolvedRelation table)
      : port_(port), table_(std::move(table)) {}

  Result<access::ResolvedRelation>
  Resolve(const access::TableName &name) const override {
    bool bare = name.catalog.empty() && name.schema.empty() &&
                AsciiLower(name.table) == AsciiLower(port_.name);
    bool qualified = AsciiLower(name.catalog) == AsciiLower(port_.domain) &&
                     AsciiLower(name.schema) == AsciiLower(port_.product) &&
                     AsciiLower(name.table) == AsciiLower(port_.name);
    if (bare || qualified) {
      access::ResolvedRelation out = table_;
      out.logical_name = port_.SqlName();
      return out;
    }
    return PermissionDenied("a quality rule of " + port_.SqlName() +
                            " may read only its own table ({object}, " +
                            port_.name + " or " + port_.SqlName() + "); " +
                            name.ToString() + " is not it");
  }

private:
  const catalog::OutputPortRecord &port_;
  access::ResolvedRelation table_;
};

/// The measure of a sql rule: the first column of the first row, as a number.
void EvaluateSql(engine::Connection &conn, const access::SqlGuard &guard,
                 const catalog::OutputPortRecord &port,
                 const access::ResolvedRelation &table,
                 const spec::QualityRule &rule, QualityResultRecord &r) {
  std::string property =
      rule.column.empty() ? "" : QuoteIdentifier(rule.column);
  std::string sql =
      ExpandPlaceholders(rule.query, QuoteIdentifier(port.name), property);
  OwnTableResolver resolver(port, table);
  auto guarded = guard.Check(sql, resolver);
  if (!guarded.ok()) {
    r.status = "failed";
    r.message = "refused by the SQL guard: " + guarded.status().message();
    return;
  }
  auto fail = [&r](const std::string &why) {
    r.status = "failed";
    r.message = why;
  };
  auto result = conn.Query(guarded->sql);
  if (!result.ok())
    return fail("the query failed: " + result.status().message());
  auto chunk = (*result)->Fetch();
  if (!chunk.ok())
    return fail("the query failed: " + chunk.status().message());
  if (!*chunk || (*chunk)->size() == 0 || (*chunk)->column_count() == 0 ||
      (*chunk)->IsNull(0, 0)) {
    return fail("the query returned no value");
  }
  const engine::ColumnInfo &column = (*result)->columns().front();
  if (column.type_name == "BOOLEAN") {
    r.measured = static_cast<double>((*chunk)->GetInt64(0, 0));
  } else if (column.json_kind == engine::JsonKind::kNumber) {
    r.measured = (*chunk)->GetDouble(0, 0);
  } else {
    std::string text = (*chunk)->Text(0, 0);
    char *end = nullptr;
    r.measured = std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0') {
      return fail("the query returned '" + text + "', not a number");
    }
  }
  r.has_measured = true;
  r.unit = "";
  Judge(rule, /*count_metric=*/false, r);
}

} // namespace

std::string ExpandPlaceholders(const std::string &query,
                               const std::string &object,
                               const std::string &property) {
  static const std::pair<const char *, bool> kPlaceholders[] = {
      {"${object}", true},   {"${table}", true},     {"{object}", true},
      {"{table}", true},     {"${property}", false}, {"${column}", false},
      {"{property}", false}, {"{column}", false},
  };
  std::string out = query;
  for (const auto &[placeholder, is_object] : kPlaceholders) {
    std::string key = placeholder;
    const std::string &value = is_object ? object : property;
    for (size_t at = out.find(key); at != std::string::npos;
         at = out.find(key, at + value.size())) {
      out.replace(at, key.size(), value);
    }
  }
  return out;
}

bool IsSampleable(const std::string &classification) {
  std::string c = AsciiLower(classification);
  return c == "public" || c == "internal";
}

std::string RuleLabel(const spec::QualityRule &rule) {
  if (!rule.name.empty())
    return rule.name;
  if (!rule.id.empty())
    return rule.id;
  if (!rule.description.empty())
    return rule.description;
  std::string what = rule.type == "library" ? rule.metric : rule.type;
  return rule.column.empty() ? what : what + " on " + rule.column;
}

Result<std::vector<QualityResultRecord>>
EvaluateQuality(engine::Connection &conn, const access::SqlGuard &guard,
                const catalog::OutputPortRecord &port,
                const access::ResolvedRelation &table,
                const std::vector<spec::QualityRule> &rules) {
  std::string qualified = QuoteIdentifier(table.catalog) + "." +
                          QuoteIdentifier(table.schema) + "." +
                          QuoteIdentifier(table.table);
  std::vector<QualityResultRecord> results(rules.size());
  std::vector<Measure> measures(rules.size());
  std::vector<size_t> library;
  for (size_t i = 0; i < rules.size(); i++) {
    const spec::QualityRule &rule = rules[i];
    QualityResultRecord &r = results[i];
    r.product_id = port.product_id;
    r.port = port.name;
    r.major = port.major;
    r.rule_position = static_cast<int>(i);
    r.rule = RuleLabel(rule);
    r.column = rule.column;
    r.check = rule.type == "library" ? rule.metric : rule.type;
    r.severity = AsciiLower(rule.severity.empty() ? "error" : rule.severity);
    r.samples = "[]";
    if (rule.type == "library") {
      measures[i] = MeasureFor(rule, port, qualified);
      r.threshold = Threshold(rule, measures[i].is_count_metric);
      if (measures[i].problem.empty()) {
        library.push_back(i);
      } else {
        r.status = "not_evaluated";
        r.message = measures[i].problem;
      }
    } else if (rule.type == "sql") {
      r.threshold = Threshold(rule, false);
    } else {
      r.status = "not_evaluated";
      r.message =
          rule.type == "custom"
              ? "custom rule (engine " + rule.engine + ") is not run by plexus"
              : "a text rule describes quality in words: nothing to run";
    }
  }
  EvaluateLibrary(conn, qualified, measures, library, rules, results);
  for (size_t i = 0; i < rules.size(); i++) {
    if (rules[i].type == "sql")
      EvaluateSql(conn, guard, port, table, rules[i], results[i]);
  }
  for (size_t i : library) {
    QualityResultRecord &r = results[i];
    if (r.status != "failed" || measures[i].failing.empty() || !r.has_measured)
      continue;
    auto samples = Samples(conn, port, qualified, measures[i].failing);
    if (samples.ok())
      r.samples = *samples;
  }
  return results;
}

Status QualityVerdict(const std::vector<QualityResultRecord> &results) {
  std::string failures;
  for (const auto &r : results) {
    if (r.status != "failed" || r.severity == "warning" ||
        r.severity == "warn" || r.severity == "info") {
      continue;
    }
    std::string what = r.check + (r.column.empty() ? "" : " on " + r.column);
    std::string detail;
    if (r.has_measured) {
      detail = "measured " + Number(r.measured) +
               (r.unit.empty() ? "" : " " + r.unit) + ", expected " +
               r.threshold;
    } else {
      detail = r.message;
    }
    failures += (failures.empty() ? "" : "; ") + std::string("quality rule '") +
                r.rule + "' (" + what + ", severity " + r.severity +
                ") failed: " + detail;
  }
  return failures.empty() ? Status::OK() : FailedPrecondition(failures);
}

access::ResolvedRelation PublishedTable(const catalog::OutputPortRecord &port) {
  access::ResolvedRelation table;
  table.catalog = catalog::Home::AttachName(port.domain);
  table.schema = "main";
  table.table = port.PhysicalTable();
  table.logical_name = port.SqlName();
  return table;
}

Result<std::vector<QualityResultRecord>>
EvaluatePortQuality(engine::Connection &conn, const access::SqlGuard &guard,
                    const catalog::Catalog &catalog,
                    const catalog::OutputPortRecord &port,
                    const access::ResolvedRelation &table) {
  PLEXUS_ASSIGN_OR_RETURN(auto rules, catalog.ListQualityRules(port));
  if (rules.empty())
    return std::vector<QualityResultRecord>{};
  return EvaluateQuality(conn, guard, port, table, rules);
}

Status CheckQuality(engine::Connection &conn, const access::SqlGuard &guard,
                    const catalog::Catalog &catalog,
                    const catalog::OutputPortRecord &port,
                    const access::ResolvedRelation &table,
                    std::vector<QualityResultRecord> *out) {
  PLEXUS_ASSIGN_OR_RETURN(auto results,
                          EvaluatePortQuality(conn, guard, catalog, port, table));
  Status verdict = QualityVerdict(results);
  out->insert(out->end(), results.begin(), results.end());
  return verdict;
}

} // namespace plexus::pipeline
