#include "plexus/access/query_walker.h"

#include <algorithm>
#include <array>

#include "plexus/access/function_allowlist.h"
#include "plexus/access/secured_relation.h"

namespace plexus::access {
namespace {

using Json = nlohmann::json;

// Deeper JSON than this is refused before it can exhaust the stack. DuckDB's parser already
// stops at 1000 nested expressions (max_expression_depth), about 2000 levels of JSON; each
// level costs the walker well under 200 bytes of stack.
constexpr int kMaxDepth = 4000;

// The table reference types of DuckDB 1.4 (TableReferenceType). An object of one of these types
// without a "class" member is a table reference wherever it appears.
// clang-format off
constexpr std::array<std::string_view, 13> kTableRefTypes = {
    "BASE_TABLE", "BOUND_TABLE_REF", "COLUMN_DATA", "CTE", "DELIM_GET", "EMPTY",
    "EXPRESSION_LIST", "INVALID", "JOIN", "PIVOT", "SHOW_REF", "SUBQUERY", "TABLE_FUNCTION"};

// Expression classes a SELECT may hold. FUNCTION and WINDOW are checked against the allowlist;
// the others call nothing (casts, CASE, comparisons, IN, COALESCE, lambdas, subqueries...).
constexpr std::array<std::string_view, 17> kExpressionClasses = {
    "BETWEEN", "CASE", "CAST", "COLLATE", "COLUMN_REF", "COMPARISON", "CONJUNCTION", "CONSTANT",
    "FUNCTION", "LAMBDA", "LAMBDA_REF", "OPERATOR", "PARAMETER", "POSITIONAL_REFERENCE", "STAR",
    "SUBQUERY", "WINDOW"};
// clang-format on

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The string member `key` of `object`; "" when it is absent or null. Sets `ok` to false when
// the member has another type (a shape the walker does not know).
std::string_view StringMember(const Json& object, std::string_view key, bool& ok) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) {
    ok = false;
    return {};
  }
  return it->get_ref<const std::string&>();
}

const std::string* TypeOf(const Json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status Unrecognised(std::string_view what) {
  return PermissionDenied("query holds " + std::string(what) + " that the guard does not know");
}

// Checks where a function lives and its name. `kind` is "function" or "table function".
Status CheckFunctionName(const Json& function, std::string_view kind, bool table_function) {
  bool ok = true;
  std::string name = ToLower(StringMember(function, "function_name", ok));
  std::string_view catalog = StringMember(function, "catalog", ok);
  std::string_view schema = StringMember(function, "schema", ok);
  if (!ok || name.empty()) return Unrecognised("a function call");
  if (!catalog.empty() || (!schema.empty() && schema != "main" && schema != "pg_catalog")) {
    std::string qualified =
        catalog.empty() ? std::string(schema) : std::string(catalog) + "." + std::string(schema);
    return PermissionDenied(std::string(kind) + " " + qualified + "." + name + " is not allowed");
  }
  bool allowed = table_function ? IsAllowedTableFunction(name) : IsAllowedScalarFunction(name);
  if (!allowed) return PermissionDenied(std::string(kind) + " " + name + " is not allowed");
  return Status::OK();
}

}  // namespace

Status QueryWalker::Walk(Json& statement) {
  if (!statement.is_object() || !statement.contains("node")) return Unrecognised("a statement");
  reachable_ = FindReachableColumns(statement);  // before the walk rewrites it
  return WalkValue(statement, 0);
}

Status QueryWalker::WalkValue(Json& value, int depth) {
  if (depth > kMaxDepth) return InvalidArgument("query nests too deeply");
  if (value.is_array()) {
    for (Json& element : value) PLEXUS_RETURN_IF_ERROR(WalkValue(element, depth + 1));
    return Status::OK();
  }
  if (!value.is_object()) return Status::OK();
  if (value.contains("class")) return WalkExpression(value, depth);
  const std::string* type = TypeOf(value, "type");
  if (type != nullptr && type->ends_with("_NODE")) return WalkNode(value, depth);
  if (type != nullptr && OneOf(kTableRefTypes, *type)) return WalkTableRef(value, depth);
  return WalkMembers(value, depth);
}

Status QueryWalker::WalkMembers(Json& object, int depth,
                                std::initializer_list<std::string_view> table_ref_keys,
                                std::string_view skip_key) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (key == skip_key) continue;
    bool is_table_ref =
        std::find(table_ref_keys.begin(), table_ref_keys.end(), key) != table_ref_keys.end();
    PLEXUS_RETURN_IF_ERROR(is_table_ref ? WalkTableRef(it.value(), depth + 1)
                                        : WalkValue(it.value(), depth + 1));
  }
  return Status::OK();
}

// ---- Query nodes and CTE scope ------------------------------------------------------------

Status QueryWalker::WalkNode(Json& node, int depth) {
  const std::string& type = *TypeOf(node, "type");
  bool recursive = type == "RECURSIVE_CTE_NODE";
  if (type != "SELECT_NODE" && type != "SET_OPERATION_NODE" && !recursive) {
    return PermissionDenied("query node " + type + " is not allowed");
  }
  // CTEs defined here are visible in this node and below it, not beside it.
  size_t scope_mark = cte_scope_.size();
  Status status = WalkNodeMembers(node, depth, recursive);
  cte_scope_.resize(scope_mark);
  return status;
}

Status QueryWalker::WalkNodeMembers(Json& node, int depth, bool recursive) {
  // Predicates are copied within one SELECT node only: its FROM's secured relations, its WHERE.
  std::vector<CopyTarget>* outer_targets = copy_targets_;
  std::vector<CopyTarget> targets;
  copy_targets_ = nullptr;
  Status status = WalkNodeMembersIn(node, depth, recursive, targets);
  copy_targets_ = outer_targets;
  PLEXUS_RETURN_IF_ERROR(status);
  // A node's USING SAMPLE draws from the FROM before the WHERE: copying would change the draw.
  auto sample = node.find("sample");
  auto where = node.find("where_clause");
  if (!targets.empty() && (sample == node.end() || sample->is_null()) && where != node.end()) {
    auto from = node.find("from_table");
    bool lone = targets.size() == 1 && from != node.end() && &*from == targets[0].ref;
    CopySimplePredicates(*where, targets, lone);
  }
  return Status::OK();
}

Status QueryWalker::WalkNodeMembersIn(Json& node, int depth, bool recursive,
                                      std::vector<CopyTarget>& targets) {
  if (auto ctes = node.find("cte_map"); ctes != node.end()) {
    PLEXUS_RETURN_IF_ERROR(WalkCtes(*ctes, depth + 1));
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    if (key == "cte_map") continue;
    if (key == "from_table") {
      if (secured_source_ == nullptr) copy_targets_ = &targets;
      Status status = WalkTableRef(it.value(), depth + 1);
      copy_targets_ = nullptr;
      PLEXUS_RETURN_IF_ERROR(status);
    } else if (recursive && key == "right") {
      // The recursive term (and only it) reads the CTE being defined.
      bool ok = true;
      cte_scope_.push_back(ToLower(StringMember(node, "cte_name", ok)));
      if (!ok) return Unrecognised("a recursive CTE");
      Status status = WalkValue(it.value(), depth + 1);
      cte_scope_.pop_back();
      PLEXUS_RETURN_IF_ERROR(status);
    } else {
      PLEXUS_RETURN_IF_ERROR(WalkValue(it.value(), depth + 1));
    }
  }
  return Status::OK();
}

Status QueryWalker::WalkCtes(Json& cte_map, int depth) {
  if (cte_map.is_null()) return Status::OK();
  auto map = cte_map.find("map");
  if (!cte_map.is_object() || map == cte_map.end() || !map->is_array()) {
    return Unrecognised("a WITH clause");
  }
  // A CTE sees the CTEs listed before it (DuckDB: not itself, not the ones after it).
  for (Json& entry : *map) {
    bool ok = entry.is_object();
    std::string name = ok ? ToLower(StringMember(entry, "key", ok)) : std::string();
    auto value = ok ? entry.find("value") : entry.end();
    if (!ok || name.empty() || value == entry.end()) return Unrecognised("a WITH clause");
    PLEXUS_RETURN_IF_ERROR(WalkValue(*value, depth + 1));
    cte_scope_.push_back(std::move(name));
  }
  return Status::OK();
}

bool QueryWalker::IsCteInScope(std::string_view lower_name) const {
  return std::find(cte_scope_.begin(), cte_scope_.end(), lower_name) != cte_scope_.end();
}

// ---- Table references ---------------------------------------------------------------------

bool QueryWalker::KeepsCopyTargets(const Json& ref, const std::string& type) {
  if (type == "BASE_TABLE") return true;
  // Only an inner or cross join's sides: a WHERE on an outer join's nullable side does not
  // filter that side's rows (c.id IS NULL keeps the unmatched ones). A sample of the join
  // draws before the WHERE.
  bool ok = true;
  auto sample = ref.find("sample");
  if (sample != ref.end() && !sample->is_null()) return false;
  return type == "JOIN" && StringMember(ref, "join_type", ok) == "INNER" &&
         (StringMember(ref, "ref_type", ok) == "REGULAR" ||
          StringMember(ref, "ref_type", ok) == "CROSS") &&
         ok;
}

Status QueryWalker::WalkTableRef(Json& ref, int depth) {
  if (ref.is_null()) return Status::OK();
  const std::string* type = ref.is_object() ? TypeOf(ref, "type") : nullptr;
  if (type == nullptr) return Unrecognised("a table reference");
  std::vector<CopyTarget>* targets = copy_targets_;
  if (!KeepsCopyTargets(ref, *type)) copy_targets_ = nullptr;
  Status status = WalkTableRefOfType(ref, *type, depth);
  copy_targets_ = targets;
  return status;
}

Status QueryWalker::WalkTableRefOfType(Json& ref, const std::string& type_name, int depth) {
  const std::string* type = &type_name;  // as the checks below were written
  if (auto at = ref.find("at_clause"); at != ref.end() && !at->is_null()) {
    return PermissionDenied("time travel (AT clause) is not allowed");
  }
  if (*type == "BASE_TABLE") return WalkBaseTable(ref, depth);
  if (*type == "TABLE_FUNCTION") return WalkTableFunction(ref, depth);
  if (*type == "JOIN") return WalkMembers(ref, depth, {"left", "right"});
  if (*type == "PIVOT") return WalkMembers(ref, depth, {"source"});
  if (*type == "SUBQUERY" || *type == "EXPRESSION_LIST" || *type == "EMPTY") {
    return WalkMembers(ref, depth);
  }
  if (*type == "SHOW_REF") {
    return PermissionDenied(
        "DESCRIBE, SHOW and SUMMARIZE are not allowed: only SELECT queries are accepted");
  }
  return PermissionDenied("table reference of type " + *type + " is not allowed");
}

Status QueryWalker::WalkBaseTable(Json& ref, int depth) {
  bool ok = true;
  TableName name{std::string(StringMember(ref, "catalog_name", ok)),
                 std::string(StringMember(ref, "schema_name", ok)),
                 std::string(StringMember(ref, "table_name", ok))};
  if (!ok || name.table.empty()) return Unrecognised("a table name");
  if (secured_source_ != nullptr) return CheckSecuredSource(ref, name, depth);
  // Only an unqualified name can bind to a CTE (DuckDB's binder looks for CTEs first).
  if (name.catalog.empty() && name.schema.empty() && IsCteInScope(ToLower(name.table))) {
    return WalkMembers(ref, depth);
  }
  PLEXUS_ASSIGN_OR_RETURN(ResolvedRelation relation, resolver_.Resolve(name));
  PLEXUS_RETURN_IF_ERROR(WalkMembers(ref, depth));  // e.g. TABLESAMPLE
  // Keep the name the user wrote visible, so `SELECT orders.x FROM a.b.orders` still binds.
  if (StringMember(ref, "alias", ok).empty()) ref["alias"] = name.table;
  if (relation.secured_select.empty()) {
    ref["catalog_name"] = relation.catalog;
    ref["schema_name"] = relation.schema;
    ref["table_name"] = relation.table;
  } else {
    PLEXUS_RETURN_IF_ERROR(SpliceSecuredSelect(ref, relation, depth));
  }
  AddRelation(std::move(relation.logical_name));
  if (!relation.warning.empty() &&
      std::find(warnings_.begin(), warnings_.end(), relation.warning) == warnings_.end()) {
    warnings_.push_back(std::move(relation.warning));
  }
  return Status::OK();
}

namespace {

// What the walk of a secured SELECT depends on: the table it may read, the principal its
// functions become, its text. Each part is length-prefixed, so no two readers share a key.
std::string WalkedKey(const ResolvedRelation& relation) {
  std::string key;
  auto add = [&key](std::string_view part) {
    key += std::to_string(part.size());
    key += ':';
    key += part;
  };
  const PrincipalContext& principal = *relation.principal;
  for (const std::string* part : {&relation.catalog, &relation.schema, &relation.table,
                                  &principal.name, &relation.secured_select}) {
    add(*part);
  }
  add(std::to_string(principal.attributes.size()));
  for (const auto& [name, value] : principal.attributes) {
    add(name);
    add(value);
  }
  for (const auto& group : principal.groups) add(group);  // last: no count needed
  return key;
}

}  // namespace

Status QueryWalker::SpliceSecuredSelect(Json& ref, ResolvedRelation& relation, int depth) {
  if (relation.principal == nullptr || !parse_secured_) {
    return Internal("the secured relation " + relation.logical_name + " has no principal");
  }
  SecuredSplice splice;
  PLEXUS_ASSIGN_OR_RETURN(splice.placeholder, SplicePlaceholder(splices_.size()));
  splice.walked_key = WalkedKey(relation);
  PLEXUS_ASSIGN_OR_RETURN(splice.walked, WalkSecuredSelect(relation, splice.walked_key, depth));
  splice.entries = ReachableEntries(*splice.walked, reachable_, ref);
  ref = PlaceholderRef(std::move(ref), splice.placeholder);
  SecuredSplice& added = splices_.emplace_back(std::move(splice));
  AddCopyTarget(ref, std::move(relation.clear_columns), added.copied);
  return Status::OK();
}

Result<std::shared_ptr<const Json>> QueryWalker::WalkSecuredSelect(
    const ResolvedRelation& relation, const std::string& key, int depth) {
  constexpr size_t kMaxWalked = 256;
  if (walked_ != nullptr) {
    if (auto hit = walked_->find(key); hit != walked_->end()) return hit->second;
  }
  PLEXUS_ASSIGN_OR_RETURN(Json node, parse_secured_(relation.secured_select));
  PLEXUS_RETURN_IF_ERROR(SubstitutePrincipal(node, *relation.principal));
  // Walked for its functions and its one table; the user's CTEs are not visible to it.
  std::vector<std::string> user_scope = std::move(cte_scope_);
  cte_scope_.clear();
  secured_source_ = &relation;
  secured_source_reads_ = 0;
  secured_columns_ = SecuredColumnNames(node);
  Status status = WalkValue(node, depth + 1);
  secured_source_ = nullptr;
  cte_scope_ = std::move(user_scope);
  if (!status.ok()) {
    return status.WithPrefix("the access rules of " + relation.logical_name);
  }
  auto walked = std::make_shared<const Json>(std::move(node));
  if (walked_ == nullptr) return walked;
  if (walked_->size() >= kMaxWalked) walked_->clear();
  walked_->emplace(key, walked);
  return walked;
}

void QueryWalker::AddCopyTarget(Json& ref, std::vector<PlainColumn> clear_columns,
                                Json& copied) {
  if (copy_targets_ == nullptr || clear_columns.empty()) return;
  // A sample draws from the rows the reader may see; renamed columns are not the port's names.
  auto sample = ref.find("sample");
  auto renamed = ref.find("column_name_alias");
  if ((sample != ref.end() && !sample->is_null()) ||
      (renamed != ref.end() && !(renamed->is_array() && renamed->empty()))) {
    return;
  }
  bool ok = true;
  std::string alias = ToLower(StringMember(ref, "alias", ok));
  if (!ok || alias.empty()) return;
  copy_targets_->push_back({std::move(alias), std::move(clear_columns), &ref, &copied});
}

Status QueryWalker::CheckSecuredSource(Json& ref, const TableName& name, int depth) {
  const ResolvedRelation& source = *secured_source_;
  bool own =
      name.catalog == source.catalog && name.schema == source.schema && name.table == source.table;
  if (!own || secured_source_reads_++ > 0) {
    return PermissionDenied("a row filter or mask may not read a table" +
                            (own ? std::string() : " (it reads " + name.ToString() + ")"));
  }
  return WalkMembers(ref, depth);
}

Status QueryWalker::WalkTableFunction(Json& ref, int depth) {
  auto function = ref.find("function");
  if (function == ref.end() || !function->is_object()) return Unrecognised("a table function");
  const std::string* expression_class = TypeOf(*function, "class");
  if (expression_class == nullptr || *expression_class != "FUNCTION") {
    return Unrecognised("a table function");
  }
  PLEXUS_RETURN_IF_ERROR(CheckFunctionName(*function, "table function", true));
  PLEXUS_RETURN_IF_ERROR(WalkMembers(*function, depth + 1));  // the arguments
  return WalkMembers(ref, depth, {}, "function");
}

void QueryWalker::AddRelation(std::string logical_name) {
  if (std::find(relations_.begin(), relations_.end(), logical_name) == relations_.end()) {
    relations_.push_back(std::move(logical_name));
  }
}

// ---- Expressions --------------------------------------------------------------------------

Status QueryWalker::WalkExpression(Json& expression, int depth) {
  const std::string* expression_class = TypeOf(expression, "class");
  if (expression_class == nullptr) return Unrecognised("an expression");
  if (!OneOf(kExpressionClasses, *expression_class)) {
    return PermissionDenied("expression " + *expression_class + " is not allowed");
  }
  if (*expression_class == "FUNCTION" || *expression_class == "WINDOW") {
    PLEXUS_RETURN_IF_ERROR(CheckFunctionName(expression, "function", false));
  }
  if (secured_source_ != nullptr && *expression_class == "COLUMN_REF") {
    PLEXUS_RETURN_IF_ERROR(CheckSecuredColumn(expression));
  }
  return WalkMembers(expression, depth);
}

Status QueryWalker::CheckSecuredColumn(const Json& column_ref) const {
  auto parts = column_ref.find("column_names");
  if (parts == column_ref.end() || !parts->is_array()) return Unrecognised("a column reference");
  std::string written;
  for (const Json& part : *parts) {
    if (!part.is_string()) return Unrecognised("a column reference");
    written += (written.empty() ? "" : ".") + part.get<std::string>();
  }
  bool known = parts->size() == 1 && std::find(secured_columns_.begin(), secured_columns_.end(),
                                               ToLower(written)) != secured_columns_.end();
  if (known) return Status::OK();
  return PermissionDenied("a row filter or mask may name only the port's own columns, not " +
                          written);
}

}  // namespace plexus::access
