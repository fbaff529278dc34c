// File: plexus/access/query_walker.h (internal to the access module)
//
// Walks one statement of json_serialize_sql's output, checks it against the guard's rules and
// rewrites its table references in place. SqlGuard::Check makes one walker per call.
// A secured relation (ResolvedRelation::secured_select) becomes a derived table: its SELECT is
// parsed (through `parse_secured`), its principal functions become constants, and it is walked
// like the user's query except that its one table reference must be the relation's own
// physical table (never the resolver, never a CTE). The reference then names a placeholder
// (TakeSplices, secured_relation.h): the caller puts the SELECT there once the tree is SQL.
//
//   QueryWalker walker(resolver, parse_secured);
//   PLEXUS_RETURN_IF_ERROR(walker.Walk(document["statements"][0]));
//   std::vector<std::string> relations = walker.TakeRelations();
//
// Fail closed: a query node, table reference or expression class the walker does not know is
// refused. Thread safety: one walker per thread.
#pragma once

#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plexus/access/predicate_copy.h"
#include "plexus/access/secured_relation.h"
#include "plexus/access/sql_guard.h"
#include "plexus/common/status.h"

namespace plexus::access {

/// Parses a platform-written SELECT (ResolvedRelation::secured_select) into its query node
/// (json_serialize_sql's statements[0].node); the walker gets its own copy.
using SecuredSelectParser = std::function<Result<nlohmann::json>(const std::string& sql)>;

/// Secured relations' SELECTs once walked (principal functions replaced, every check passed), by
/// relation, principal and text: walking one gives the same node every time, so a guard keeps
/// them (bounded, emptied when full) and each statement projects only the columns it reaches.
using WalkedSecuredSelects =
    std::unordered_map<std::string, std::shared_ptr<const nlohmann::json>>;

class QueryWalker {
 public:
  /// `resolver` must outlive the walker, and `walked` (may be null: nothing is kept) too.
  QueryWalker(const RelationResolver& resolver, SecuredSelectParser parse_secured,
              WalkedSecuredSelects* walked = nullptr)
      : resolver_(resolver), parse_secured_(std::move(parse_secured)), walked_(walked) {}

  /// Checks `statement` ({"node": {...}}) and rewrites its table references in place.
  Status Walk(nlohmann::json& statement);

  /// The logical names of the relations read, each once, in first-seen order.
  std::vector<std::string> TakeRelations() { return std::move(relations_); }
  /// The resolver's warnings about the relations read, each once.
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }
  /// The secured relations' derived tables: the walked statement names their placeholders.
  std::deque<SecuredSplice> TakeSplices() { return std::move(splices_); }

 private:
  Status WalkValue(nlohmann::json& value, int depth);
  /// Walks every member; members named in `table_ref_keys` must be table references, the
  /// member named `skip_key` is left out.
  Status WalkMembers(nlohmann::json& object, int depth,
                     std::initializer_list<std::string_view> table_ref_keys = {},
                     std::string_view skip_key = {});
  Status WalkNode(nlohmann::json& node, int depth);
  Status WalkNodeMembers(nlohmann::json& node, int depth, bool recursive);
  /// WalkNodeMembers' walk, collecting the node's copy targets from its FROM.
  Status WalkNodeMembersIn(nlohmann::json& node, int depth, bool recursive,
                           std::vector<CopyTarget>& targets);
  Status WalkCtes(nlohmann::json& cte_map, int depth);
  Status WalkTableRef(nlohmann::json& ref, int depth);
  Status WalkTableRefOfType(nlohmann::json& ref, const std::string& type, int depth);
  /// True when the secured relations under `ref` (of `type`) may take copied predicates.
  static bool KeepsCopyTargets(const nlohmann::json& ref, const std::string& type);
  /// Offers a spliced secured relation to the current SELECT node's predicate copy.
  void AddCopyTarget(nlohmann::json& ref, std::vector<PlainColumn> clear_columns,
                     nlohmann::json& copied);
  Status WalkBaseTable(nlohmann::json& ref, int depth);
  /// Points `ref` at a placeholder for the derived table of a secured relation, walked, and
  /// offers it to the node's predicate copy.
  Status SpliceSecuredSelect(nlohmann::json& ref, ResolvedRelation& relation, int depth);
  /// A secured relation's SELECT, parsed, its principal functions replaced, walked; from
  /// `walked_` when it holds it (under `key`).
  Result<std::shared_ptr<const nlohmann::json>> WalkSecuredSelect(
      const ResolvedRelation& relation, const std::string& key, int depth);
  /// Inside a secured relation's SELECT: `name` must be its physical table, read once.
  Status CheckSecuredSource(nlohmann::json& ref, const TableName& name, int depth);
  Status WalkTableFunction(nlohmann::json& ref, int depth);
  Status WalkExpression(nlohmann::json& expression, int depth);
  /// Inside a secured relation's SELECT: a column reference must name one of its columns.
  Status CheckSecuredColumn(const nlohmann::json& column_ref) const;
  bool IsCteInScope(std::string_view lower_name) const;
  void AddRelation(std::string logical_name);

  const RelationResolver& resolver_;
  SecuredSelectParser parse_secured_;
  WalkedSecuredSelects* walked_;
  /// Set while walking a secured relation's SELECT: the one table it may read.
  const ResolvedRelation* secured_source_ = nullptr;
  int secured_source_reads_ = 0;
  std::vector<std::string> secured_columns_;  ///< names its expressions may use (lower case)
  /// The columns of secured relations the statement can read: the derived tables project these.
  ReachableColumns reachable_;
  /// Set while walking a SELECT node's FROM: where its secured relations that predicates of
  /// its WHERE may be copied into are collected (only through INNER and CROSS joins).
  std::vector<CopyTarget>* copy_targets_ = nullptr;
  std::vector<std::string> cte_scope_;  ///< lower-case CTE names visible here, innermost last
  std::vector<std::string> relations_;
  std::vector<std::string> warnings_;
  std::deque<SecuredSplice> splices_;  ///< a deque: CopyTarget::copied points into it
};

}  // namespace plexus::access
