// File: plexus/pipeline/run_metrics.cc
//
// Exact step counts with the fewest queries (run_metrics.h).
#include "plexus/pipeline/run_metrics.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "plexus/common/text.h"
#include "plexus/engine/sql_parse.h"

namespace plexus::pipeline {
namespace {

using nlohmann::json;

bool KindKeepsRows(const std::string& kind) {
  static const std::set<std::string> kOneToOne = {"project", "rename", "cast",
                                                  "mask",    "hash",   "lookup"};
  return kOneToOne.count(kind) > 0;
}

/// Collects the names of the FUNCTION expressions under `node`; false when it meets
/// something that may change the number of rows (a subquery, unnest).
bool CollectFunctions(const json& node, std::set<std::string>& names) {
  if (node.is_array()) {
    for (const auto& item : node) {
      if (!CollectFunctions(item, names)) return false;
    }
    return true;
  }
  if (!node.is_object()) return true;
  std::string cls = node.value("class", "");
  if (cls == "SUBQUERY") return false;
  if (cls == "FUNCTION") {
    std::string name = AsciiLower(node.value("function_name", ""));
    if (name == "unnest" || name == "unlist" || name.empty()) return false;
    names.insert(name);
  }
  for (const auto& [key, value] : node.items()) {
    if (!CollectFunctions(value, names)) return false;
  }
  return true;
}

bool IsNullOrEmpty(const json& node, const char* key) {
  auto it = node.find(key);
  return it == node.end() || it->is_null() || (it->is_array() && it->empty());
}

/// The plain shape: SELECT ... FROM input, nothing that filters, groups, limits or joins.
bool PlainSelectFromInput(const json& node) {
  if (node.value("type", "") != "SELECT_NODE") return false;
  for (const char* key : {"where_clause", "group_expressions", "group_sets", "having", "qualify",
                          "sample"}) {
    if (!IsNullOrEmpty(node, key)) return false;
  }
  if (node.value("aggregate_handling", "STANDARD_HANDLING") != "STANDARD_HANDLING") return false;
  auto ctes = node.find("cte_map");
  if (ctes != node.end() && ctes->is_object() && !IsNullOrEmpty(*ctes, "map")) return false;
  for (const auto& modifier : node.value("modifiers", json::array())) {
    if (modifier.value("type", "") != "ORDER_MODIFIER") return false;
  }
  const json from = node.value("from_table", json::object());
  return from.value("type", "") == "BASE_TABLE" &&
         AsciiLower(from.value("table_name", "")) == "input" &&
         from.value("schema_name", "").empty() && from.value("catalog_name", "").empty();
}

}  // namespace

Result<bool> SqlStepKeepsRows(engine::Connection& conn, const std::string& select) {
  auto serialized = engine::SerializeSql(select);
  if (!serialized.ok()) return false;
  json parsed = json::parse(*serialized, nullptr, false);
  if (!parsed.is_object() || parsed.value("error", false)) return false;
  const json statements = parsed.value("statements", json::array());
  if (statements.size() != 1 || !PlainSelectFromInput(statements[0].value("node", json()))) {
    return false;
  }
  std::set<std::string> functions;
  if (!CollectFunctions(statements[0]["node"].value("select_list", json::array()), functions)) {
    return false;
  }
  if (functions.empty()) return true;
  std::string list;
  for (const auto& name : functions) list += (list.empty() ? "" : ", ") + engine::QuoteLiteral(name);
  // Every function called must be scalar (an aggregate without GROUP BY makes one row).
  PLEXUS_ASSIGN_OR_RETURN(std::string scalar, conn.QueryScalar(
      "SELECT count(DISTINCT function_name) FROM duckdb_functions() WHERE function_type = "
      "'scalar' AND function_name IN (" + list + ") AND function_name NOT IN (SELECT "
      "function_name FROM duckdb_functions() WHERE function_type <> 'scalar')"));
  return std::stoll(scalar) == static_cast<int64_t>(functions.size());
}

ChainCounter::ChainCounter(const std::vector<spec::ProcessorStep>& written,
                           const std::vector<ChainStep>& expanded,
                           std::vector<std::string> prefixes, std::string start)
    : prefixes_(std::move(prefixes)), start_(std::move(start)) {
  for (const auto& step : written) {
    Position position;
    position.processor = step.kind == "use" ? step.value.text : step.kind;
    positions_.push_back(position);
  }
  for (size_t i = 0; i < expanded.size(); ++i) {
    int at = expanded[i].written;
    if (at >= 0 && at < static_cast<int>(positions_.size())) positions_[at].last = static_cast<int>(i);
  }
}

Status ChainCounter::Classify(engine::Connection& conn, const std::vector<ChainStep>& expanded) {
  for (auto& position : positions_) position.keeps_rows = true;
  for (const auto& step : expanded) {
    if (step.written < 0 || step.written >= static_cast<int>(positions_.size())) continue;
    Position& position = positions_[step.written];
    if (!position.keeps_rows) continue;
    if (step.step.kind == "sql") {
      auto keeps = SqlStepKeepsRows(conn, step.step.value.text);
      position.keeps_rows = keeps.ok() && *keeps;
    } else {
      position.keeps_rows = KindKeepsRows(step.step.kind);
    }
  }
  boundaries_.clear();
  for (int p = static_cast<int>(positions_.size()) - 1; p >= 0; --p) {
    if (!positions_[p].keeps_rows) boundaries_.push_back(p - 1);
  }
  return Status::OK();
}

std::string ChainCounter::BoundarySql(int position) const {
  if (position < 0) return start_;
  int last = positions_[position].last;
  if (last < 0 || last >= static_cast<int>(prefixes_.size())) return start_;
  return prefixes_[last];
}

std::string ChainCounter::CountSelect() const {
  if (boundaries_.empty()) return "";
  std::string sql = "SELECT ";
  for (size_t i = 0; i < boundaries_.size(); ++i) {
    sql += (i == 0 ? "" : ",\n") + std::string("(SELECT count(*) FROM (\n") +
           BoundarySql(boundaries_[i]) + "\n) AS boundary) AS c" + std::to_string(i);
  }
  return sql;
}

std::vector<int64_t> ChainCounter::Counts(int64_t rows_out) const {
  size_t n = positions_.size();
  std::vector<int64_t> after(n + 1, 0);  // after[p + 1]: rows after position p; after[0] start
  after[n] = rows_out;
  for (int p = static_cast<int>(n) - 1; p >= 0; --p) {
    if (positions_[p].keeps_rows) {
      after[p] = after[p + 1];
      continue;
    }
    auto it = std::find(boundaries_.begin(), boundaries_.end(), p - 1);
    size_t index = static_cast<size_t>(it - boundaries_.begin());
    after[p] = index < counts_.size() ? counts_[index] : 0;
  }
  return after;
}

int64_t ChainCounter::RowsIn(int64_t rows_out) const { return Counts(rows_out).front(); }

std::vector<catalog::RunMetricRecord> ChainCounter::Figures(int64_t rows_out) const {
  std::vector<int64_t> after = Counts(rows_out);
  std::vector<catalog::RunMetricRecord> out;
  for (size_t p = 0; p < positions_.size(); ++p) {
    catalog::RunMetricRecord record;
    record.position = static_cast<int>(p);
    record.processor = positions_[p].processor;
    record.rows_in = after[p];
    record.rows_out = after[p + 1];
    out.push_back(std::move(record));
  }
  return out;
}

Status CountChain(engine::Connection& conn, const access::SqlGuard& guard,
                  const access::RelationResolver& resolver, ChainCounter& counter) {
  std::string sql = counter.CountSelect();
  if (sql.empty()) return Status::OK();
  PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery guarded, guard.Check(sql, resolver));
  PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(guarded.sql));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
  if (!chunk || chunk->size() == 0) return Internal("the step counts returned no row");
  std::vector<int64_t> counts;
  for (size_t i = 0; i < chunk->column_count(); ++i) counts.push_back(chunk->GetInt64(i, 0));
  counter.SetCounts(std::move(counts));
  return Status::OK();
}

int64_t EstimatedBytes(const catalog::OutputPortRecord& port, int64_t rows) {
  int64_t width = 0;
  for (const auto& column : port.columns) {
    std::string type = AsciiLower(column.engine_type);
    auto starts = [&type](const char* prefix) { return type.rfind(prefix, 0) == 0; };
    if (starts("bool") || starts("tinyint") || starts("utinyint")) {
      width += 1;
    } else if (starts("smallint") || starts("usmallint")) {
      width += 2;
    } else if (starts("integer") || starts("int4") || starts("uinteger") || type == "int" ||
               starts("float") || starts("real") || type == "date") {
      width += 4;
    } else if (starts("decimal") || starts("numeric")) {
      int precision = 18;
      size_t open = type.find('(');
      if (open != std::string::npos) precision = std::atoi(type.c_str() + open + 1);
      width += precision <= 4 ? 2 : precision <= 9 ? 4 : precision <= 18 ? 8 : 16;
    } else if (starts("hugeint") || starts("uhugeint") || starts("uuid") || starts("interval")) {
      width += 16;
    } else if (starts("bigint") || starts("int8") || starts("ubigint") || starts("double") ||
               starts("timestamp") || starts("time")) {
      width += 8;
    } else {
      width += 16;  // varchar, blob, nested: the inline size of a string
    }
  }
  return width * rows;
}

}  // namespace plexus::pipeline
