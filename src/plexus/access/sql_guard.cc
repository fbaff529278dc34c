#include "plexus/access/sql_guard.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "plexus/access/function_allowlist.h"
#include "plexus/access/query_walker.h"
#include "plexus/access/secured_relation.h"
#include "plexus/engine/sql_parse.h"

namespace plexus::access {

/// Secured relations' SELECTs (ResolvedRelation::secured_select), parsed: their query node by
/// text. Bounded: emptied when full (there is one text per port and reader profile). A guard's
/// copies share it.
struct SqlGuard::ParsedSecuredSelects {
  std::unordered_map<std::string, nlohmann::json> secured_nodes;
  WalkedSecuredSelects walked;  ///< the same once walked, per relation and principal
  /// The same as SQL, per set of columns projected (SecuredSplice::RenderedKey).
  std::unordered_map<std::string, std::string> rendered;
};

namespace {

using Json = nlohmann::json;

// Words that start a query: when such a text does not serialize, another statement hides in it.
constexpr std::array<std::string_view, 7> kQueryKeywords = {"",      "FROM",   "PIVOT", "SELECT",
                                                            "TABLE", "VALUES", "WITH"};

size_t SkipBlockComment(std::string_view sql, size_t i) {
  int level = 0;  // PostgreSQL's grammar (and so DuckDB's) nests block comments
  while (i + 1 < sql.size()) {
    if (sql[i] == '/' && sql[i + 1] == '*') {
      ++level;
      i += 2;
    } else if (sql[i] == '*' && sql[i + 1] == '/') {
      i += 2;
      if (--level == 0) return i;
    } else {
      ++i;
    }
  }
  return sql.size();
}

// The first word of the text in upper case, after whitespace, comments and opening brackets.
// Used only to name the statement in a refusal; json_serialize_sql decides what is a SELECT.
std::string FirstKeyword(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    unsigned char c = static_cast<unsigned char>(sql[i]);
    bool two = i + 1 < sql.size();
    if (std::isspace(c) || c == '(') {
      ++i;
    } else if (c == '-' && two && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && two && sql[i + 1] == '*') {
      i = SkipBlockComment(sql, i);
    } else {
      break;
    }
  }
  std::string word;
  for (; i < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i])) || sql[i] == '_');
       ++i) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i]))));
  }
  return word;
}

Status NotASelect(std::string_view sql) {
  std::string keyword = FirstKeyword(sql);
  if (std::find(kQueryKeywords.begin(), kQueryKeywords.end(), keyword) != kQueryKeywords.end()) {
    return PermissionDenied(
        "only SELECT queries are accepted: the text holds a statement that is not a SELECT");
  }
  return PermissionDenied(keyword +
                          " statements are not allowed: only SELECT queries are accepted");
}

// Turns json_serialize_sql's verdict into a Status: OK when it holds exactly one statement.
Status CheckVerdict(const Json& document, std::string_view sql) {
  if (!document.is_object()) return Internal("json_serialize_sql returned no JSON object");
  auto error = document.find("error");
  if (error != document.end() && error->is_boolean() && error->get<bool>()) {
    std::string type = document.value("error_type", std::string());
    std::string message = document.value("error_message", std::string());
    if (type == "not implemented" && message.starts_with("Only SELECT statements")) {
      return NotASelect(sql);
    }
    if (type == "parser") return InvalidArgument(message);
    return InvalidArgument(type + ": " + message);
  }
  auto statements = document.find("statements");
  if (statements == document.end() || !statements->is_array()) {
    return Internal("json_serialize_sql returned no statements");
  }
  if (statements->empty()) return InvalidArgument("the text holds no SQL statement");
  if (statements->size() > 1) {
    return PermissionDenied("only one statement is accepted, the text holds " +
                            std::to_string(statements->size()));
  }
  return Status::OK();
}

constexpr size_t kMaxCachedSecuredSelects = 256;

// The query node of a platform-written SELECT, parsed once per guard. Its text holds secrets
// (a mask's salt): no message of this function quotes it.
Result<Json> ParseSecuredSelect(std::unordered_map<std::string, Json>& cache,
                                const std::string& sql) {
  if (auto it = cache.find(sql); it != cache.end()) return it->second;
  if (sql.find('\0') != std::string::npos) return InvalidArgument("the access rules hold a NUL");
  PLEXUS_ASSIGN_OR_RETURN(std::string serialized, engine::SerializeSql(sql));
  Json document = Json::parse(serialized, nullptr, /*allow_exceptions=*/false);
  Status verdict = CheckVerdict(document, sql);
  if (!verdict.ok()) {
    return InvalidArgument("the access rules do not form one SELECT: " + verdict.message());
  }
  const Json& statement = document["statements"][0];
  auto node = statement.find("node");
  if (node == statement.end() || !node->is_object()) {
    return Internal("json_serialize_sql returned no query node");
  }
  if (cache.size() >= kMaxCachedSecuredSelects) cache.clear();
  return cache.emplace(sql, std::move(*node)).first->second;
}

// The SQL of each splice's derived table; a guard keeps those without copied predicates.
Result<std::vector<std::string>> RenderSecuredSelects(
    std::unordered_map<std::string, std::string>& cache, const std::deque<SecuredSplice>& splices) {
  std::vector<std::string> rendered;
  for (const SecuredSplice& splice : splices) {
    std::string key = splice.RenderedKey();
    if (auto hit = cache.find(key); !key.empty() && hit != cache.end()) {
      rendered.push_back(hit->second);
      continue;
    }
    PLEXUS_ASSIGN_OR_RETURN(std::string sql, RenderSecuredSelect(splice));
    if (!key.empty()) {
      if (cache.size() >= kMaxCachedSecuredSelects) cache.clear();
      cache.emplace(std::move(key), sql);
    }
    rendered.push_back(std::move(sql));
  }
  return rendered;
}

}  // namespace

std::string ConsumerErrorMessage(std::string_view engine_message) {
  // DuckDB adds context after the first line: candidate bindings, "LINE 1: <the SQL>" with a
  // caret. The SQL is the rewritten one (physical names, a mask's salt): none of it is shown.
  std::string_view first = engine_message.substr(0, engine_message.find('\n'));
  while (!first.empty() && (first.back() == ' ' || first.back() == '\r')) first.remove_suffix(1);
  return std::string(first);
}

std::string TableName::ToString() const {
  std::string out;
  for (const std::string* part : {&catalog, &schema, &table}) {
    if (part->empty()) continue;
    if (!out.empty()) out.push_back('.');
    out.append(*part);
  }
  return out;
}

bool SqlGuard::IsAllowedFunction(std::string_view name) { return IsAllowedScalarFunction(name); }

Result<GuardedQuery> SqlGuard::Check(std::string_view sql, const RelationResolver& resolver) const {
  // DuckDB's parser reads up to a NUL byte; the guard would check less than the caller sent.
  if (sql.find('\0') != std::string_view::npos) {
    return InvalidArgument("the SQL text holds a NUL byte");
  }
  // DuckDB's parser in process: the JSON json_serialize_sql would give (sql_parse.h).
  PLEXUS_ASSIGN_OR_RETURN(std::string serialized, engine::SerializeSql(sql));
  Json document = Json::parse(serialized, nullptr, /*allow_exceptions=*/false);
  PLEXUS_RETURN_IF_ERROR(CheckVerdict(document, sql));

  if (!secured_selects_) secured_selects_ = std::make_shared<ParsedSecuredSelects>();
  ParsedSecuredSelects& statements = *secured_selects_;
  QueryWalker walker(
      resolver,
      [&statements](const std::string& secured_sql) {
        return ParseSecuredSelect(statements.secured_nodes, secured_sql);
      },
      &statements.walked);
  std::string rewritten;
  try {
    PLEXUS_RETURN_IF_ERROR(walker.Walk(document["statements"][0]));
    rewritten = document.dump();
  } catch (const Json::exception& e) {  // a shape the walker did not expect: fail closed
    return Internal(std::string("cannot walk the parsed query: ") + e.what());
  }
  PLEXUS_ASSIGN_OR_RETURN(std::string guarded_sql, engine::DeserializeSql(rewritten));
  std::deque<SecuredSplice> splices = walker.TakeSplices();
  if (!splices.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(std::vector<std::string> rendered,
                            RenderSecuredSelects(statements.rendered, splices));
    PLEXUS_ASSIGN_OR_RETURN(guarded_sql, SpliceSecuredSelects(guarded_sql, splices, rendered));
  }
  return GuardedQuery{std::move(guarded_sql), walker.TakeRelations(), walker.TakeWarnings()};
}

}  // namespace plexus::access
