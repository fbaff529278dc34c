// File: plexus/access/query_walker.h (internal to the access module)
//
// Walks one statement of json_serialize_sql's output, checks it against the guard's rules and
// rewrites its table references in place. SqlGuard::Check makes one walker per call.
//
//   QueryWalker walker(resolver);
//   PLEXUS_RETURN_IF_ERROR(walker.Walk(document["statements"][0]));
//   std::vector<std::string> relations = walker.TakeRelations();
//
// Fail closed: a query node, table reference or expression class the walker does not know is
// refused. Thread safety: one walker per thread.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/common/status.h"

namespace plexus::access {

class QueryWalker {
 public:
  /// `resolver` must outlive the walker.
  explicit QueryWalker(const RelationResolver& resolver) : resolver_(resolver) {}

  /// Checks `statement` ({"node": {...}}) and rewrites its table references in place.
  Status Walk(nlohmann::json& statement);

  /// The logical names of the relations read, each once, in first-seen order.
  std::vector<std::string> TakeRelations() { return std::move(relations_); }
  /// The resolver's warnings about the relations read, each once.
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }

 private:
  Status WalkValue(nlohmann::json& value, int depth);
  /// Walks every member; members named in `table_ref_keys` must be table references, the
  /// member named `skip_key` is left out.
  Status WalkMembers(nlohmann::json& object, int depth,
                     std::initializer_list<std::string_view> table_ref_keys = {},
                     std::string_view skip_key = {});
  Status WalkNode(nlohmann::json& node, int depth);
  Status WalkNodeMembers(nlohmann::json& node, int depth, bool recursive);
  Status WalkCtes(nlohmann::json& cte_map, int depth);
  Status WalkTableRef(nlohmann::json& ref, int depth);
  Status WalkBaseTable(nlohmann::json& ref, int depth);
  Status WalkTableFunction(nlohmann::json& ref, int depth);
  Status WalkExpression(nlohmann::json& expression, int depth);
  bool IsCteInScope(std::string_view lower_name) const;
  void AddRelation(std::string logical_name);

  const RelationResolver& resolver_;
  std::vector<std::string> cte_scope_;  ///< lower-case CTE names visible here, innermost last
  std::vector<std::string> relations_;
  std::vector<std::string> warnings_;
};

}  // namespace plexus::access
