#include "plexus/common/text.h"
#include "plexus/pipeline/contract_check.h"

#include <regex>
#include <set>

namespace plexus::pipeline {
namespace {

using engine::QuoteIdentifier;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

bool IsPlainTypeName(const std::string& type) {
  static const std::regex kType(
      R"(^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\d*\])*$)");
  return std::regex_match(type, kType);
}

Result<std::string> ConformingSelect(engine::Connection& conn, const std::string& sql,
                                     const catalog::OutputPortRecord& port) {
  if (port.columns.empty()) {
    return FailedPrecondition("the contract of " + port.SqlName() + " declares no columns");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto probe, conn.Query("SELECT * FROM (" + sql + ") AS src LIMIT 0"));
  std::set<std::string> produced;
  for (const auto& column : probe->columns()) produced.insert(AsciiLower(column.name));
  std::vector<std::string> missing, extra;
  std::set<std::string> declared;
  std::string select = "SELECT ";
  for (size_t i = 0; i < port.columns.size(); i++) {
    const auto& column = port.columns[i];
    declared.insert(AsciiLower(column.name));
    if (!produced.count(AsciiLower(column.name))) missing.push_back(column.name);
    if (!IsPlainTypeName(column.engine_type)) {
      return InvalidArgument("column " + column.name + ": '" + column.engine_type +
                             "' is not a type name");
    }
    if (i > 0) select += ", ";
    select += "CAST(src." + QuoteIdentifier(column.name) + " AS " + column.engine_type + ") AS " +
              QuoteIdentifier(column.name);
  }
  for (const auto& column : probe->columns()) {
    if (!declared.count(AsciiLower(column.name))) extra.push_back(column.name);
  }
  if (!missing.empty()) {
    return FailedPrecondition("the result lacks column(s) the contract declares: " +
                              JoinNames(missing));
  }
  if (!extra.empty()) {
    return FailedPrecondition("the result has column(s) the contract does not declare: " +
                              JoinNames(extra));
  }
  return select + " FROM (" + sql + ") AS src";
}

Result<int64_t> CheckContract(engine::Connection& conn, const std::string& staging,
                              const catalog::OutputPortRecord& port) {
  struct Rule {
    std::string text;  // what a violation is called
    std::string expr;  // how many rows break it
  };
  std::vector<Rule> rules;
  std::vector<std::string> key;
  for (const auto& column : port.columns) {
    std::string c = QuoteIdentifier(column.name);
    if (column.required) {
      rules.push_back({"column " + column.name + " is required but has NULL in", "count(*) - count(" + c + ")"});
    }
    if (column.unique) {
      rules.push_back({"column " + column.name + " is unique but repeats a value in",
                       "count(" + c + ") - count(DISTINCT " + c + ")"});
    }
    if (column.primary_key) key.push_back(c);
  }
  if (!key.empty()) {
    std::string tuple = key.size() == 1 ? key.front() : "(" + JoinNames(key) + ")";
    rules.push_back({"the primary key repeats a value in", "count(*) - count(DISTINCT " + tuple + ")"});
  }
  std::string sql = "SELECT count(*)";
  for (const auto& rule : rules) sql += ", " + rule.expr;
  PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(sql + " FROM " + staging));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
  if (!chunk || chunk->size() != 1) return Internal("contract check returned no row");
  std::vector<std::string> violations;
  for (size_t i = 0; i < rules.size(); i++) {
    int64_t bad = chunk->GetInt64(i + 1, 0);
    if (bad > 0) violations.push_back(rules[i].text + " " + std::to_string(bad) + " row(s)");
  }
  if (!violations.empty()) {
    std::string message = "contract check failed: ";
    for (size_t i = 0; i < violations.size(); i++) message += (i ? "; " : "") + violations[i];
    return FailedPrecondition(message);
  }
  return chunk->GetInt64(0, 0);
}

}  // namespace plexus::pipeline
