#include "plexus/access/secured_relation.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "plexus/access/predicate_copy.h"
#include "plexus/engine/sql_parse.h"

namespace plexus::access {
namespace {

using Json = nlohmann::json;

// As the walker's limit (query_walker.cc): the platform's SELECT is small, a
// user's filter inside it is bounded by DuckDB's parser.
constexpr int kMaxDepth = 4000;

Json ValueOf(std::string_view type_id, const Json &value) {
  Json out = {{"type", {{"id", type_id}, {"type_info", nullptr}}}, {"is_null", value.is_null()}};
  if (!value.is_null()) out["value"] = value;
  return out;
}

Json Constant(std::string_view type_id, const Json &value, const Json &function) {
  Json constant = {{"class", "CONSTANT"},
                   {"type", "VALUE_CONSTANT"},
                   {"alias", ""},
                   {"query_location", function.value("query_location", Json(0))},
                   {"value", ValueOf(type_id, value)}};
  if (!value.is_null()) {
    constant["alias"] = function.value("alias", std::string());
    return constant;
  }
  // A typed NULL, so `col = principal_attr('x')` binds as it would with a
  // value.
  return {{"class", "CAST"},
          {"type", "OPERATOR_CAST"},
          {"alias", function.value("alias", std::string())},
          {"query_location", constant["query_location"]},
          {"child", std::move(constant)},
          {"cast_type", {{"id", type_id}, {"type_info", nullptr}}},
          {"try_cast", false}};
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string LowerName(const Json &function) {
  return Lower(function.value("function_name", std::string()));
}

// The one string-constant argument of a principal function.
Result<std::string> ConstantArgument(const Json &function, std::string_view name) {
  auto children = function.find("children");
  bool one = children != function.end() && children->is_array() && children->size() == 1;
  const Json *argument = one ? &(*children)[0] : nullptr;
  if (argument != nullptr && argument->value("class", std::string()) == "CONSTANT") {
    const Json &value = argument->value("value", Json::object());
    bool text = value.contains("type") && value["type"].value("id", std::string()) == "VARCHAR";
    if (text && !value.value("is_null", true) && value.contains("value") &&
        value["value"].is_string()) {
      return value["value"].get<std::string>();
    }
  }
  return PermissionDenied(std::string(name) + " takes one string constant, e.g. " +
                          std::string(name) + "('region')");
}

// The constant that replaces `function` when it is a principal function; null
// otherwise.
Result<Json> PrincipalValue(const Json &function, const PrincipalContext &principal) {
  bool plain = function.value("catalog", std::string()).empty() &&
               function.value("schema", std::string()).empty();
  std::string name = plain ? LowerName(function) : std::string();
  if (name == "principal_name") {
    auto children = function.find("children");
    if (children != function.end() && children->is_array() && !children->empty()) {
      return PermissionDenied("principal_name takes no argument");
    }
    return Constant("VARCHAR", principal.name, function);
  }
  if (name == "principal_attr") {
    PLEXUS_ASSIGN_OR_RETURN(std::string key, ConstantArgument(function, name));
    auto it = principal.attributes.find(key);
    return Constant("VARCHAR", it == principal.attributes.end() ? Json() : Json(it->second),
                    function);
  }
  if (name == "principal_in_group") {
    PLEXUS_ASSIGN_OR_RETURN(std::string group, ConstantArgument(function, name));
    bool member = std::binary_search(principal.groups.begin(), principal.groups.end(), group);
    return Constant("BOOLEAN", member, function);
  }
  return Json();
}

Status Substitute(Json &value, const PrincipalContext &principal, int depth) {
  if (depth > kMaxDepth) return InvalidArgument("the access rules nest too deeply");
  if (value.is_object() && value.value("class", std::string()) == "FUNCTION") {
    PLEXUS_ASSIGN_OR_RETURN(Json constant, PrincipalValue(value, principal));
    if (!constant.is_null()) {
      value = std::move(constant);
      return Status::OK();
    }
  }
  if (value.is_object() || value.is_array()) {
    for (Json &child : value) PLEXUS_RETURN_IF_ERROR(Substitute(child, principal, depth + 1));
  }
  return Status::OK();
}

void AddColumnNames(const Json &value, std::vector<std::string> &names) {
  if (value.is_object() && value.value("class", std::string()) == "COLUMN_REF") {
    auto parts = value.find("column_names");
    if (parts != value.end() && parts->is_array() && parts->size() == 1 &&
        (*parts)[0].is_string()) {
      names.push_back(Lower((*parts)[0].get<std::string>()));
    }
    return;
  }
  if (value.is_object() || value.is_array()) {
    for (const Json &child : value) AddColumnNames(child, names);
  }
}

void AddLambdaParameters(const Json &value, std::vector<std::string> &names, int depth) {
  if (depth > kMaxDepth || !(value.is_object() || value.is_array())) return;
  if (value.is_object() && value.value("class", std::string()) == "LAMBDA") {
    if (auto lhs = value.find("lhs"); lhs != value.end()) AddColumnNames(*lhs, names);
  }
  for (const Json &child : value) AddLambdaParameters(child, names, depth + 1);
}

bool Contains(const std::vector<std::string> &sorted, const std::string &name) {
  return std::binary_search(sorted.begin(), sorted.end(), name);
}

void SortUnique(std::vector<std::string> &names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
}

void AddStrings(const Json &list, std::vector<std::string> &names) {
  if (!list.is_array()) return;
  for (const Json &part : list) {
    if (part.is_string()) names.push_back(Lower(part.get<std::string>()));
  }
}

// The string member `key` of an object; "" when absent or not a string (a value's "type" is an
// object).
std::string StringAt(const Json &object, const char *key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// FindReachableColumns' walk: every object and array of the tree, so no member is missed.
void FindColumns(const Json &value, ReachableColumns &out, int depth) {
  if (out.all) return;
  if (depth > kMaxDepth) {
    out.all = true;
    return;
  }
  if (value.is_object()) {
    std::string kind = StringAt(value, "class");
    if (kind.empty()) kind = StringAt(value, "type");
    if (kind == "STAR" || kind == "POSITIONAL_REFERENCE" || kind == "PIVOT" ||
        StringAt(value, "ref_type") == "NATURAL") {
      out.all = true;
      return;
    }
    if (kind == "COLUMN_REF") {
      auto parts = value.find("column_names");
      if (parts != value.end() && parts->is_array() && !parts->empty() &&
          parts->back().is_string()) {
        out.last_parts.push_back(Lower(parts->back().get<std::string>()));
      }
      if (parts != value.end()) AddStrings(*parts, out.names);
    }
    if (auto using_columns = value.find("using_columns"); using_columns != value.end()) {
      AddStrings(*using_columns, out.names);
    }
  }
  if (value.is_object() || value.is_array()) {
    for (const Json &child : value) FindColumns(child, out, depth + 1);
  }
}

// The name a secured SELECT's list entry is read by: its alias, else its bare column.
std::string ProjectedName(const Json &expression) {
  std::string alias = StringAt(expression, "alias");
  if (!alias.empty()) return Lower(alias);
  std::vector<std::string> names;
  AddColumnNames(expression, names);
  return names.size() == 1 ? names[0] : std::string();
}

// A SELECT whose list can be trimmed without changing its rows: no DISTINCT, no grouping.
bool IsPlainSelectList(const Json &node) {
  auto empty = [&node](const char *key) {
    auto it = node.find(key);
    return it == node.end() || it->is_null() || (it->is_array() && it->empty());
  };
  return StringAt(node, "type") == "SELECT_NODE" && empty("modifiers") &&
         empty("group_expressions") && empty("group_sets") && empty("having") && empty("qualify") &&
         StringAt(node, "aggregate_handling") == "STANDARD_HANDLING";
}

// The SELECT node a secured SELECT reads FROM when it has a row filter (masks.h: its columns and
// the filter's verdict); null otherwise.
const Json *InnerSelect(const Json &node) {
  auto from = node.find("from_table");
  if (from == node.end() || !from->is_object() || StringAt(*from, "type") != "SUBQUERY") {
    return nullptr;
  }
  auto subquery = from->find("subquery");
  if (subquery == from->end() || !subquery->is_object()) return nullptr;
  auto inner = subquery->find("node");
  if (inner == subquery->end() || StringAt(*inner, "type") != "SELECT_NODE") return nullptr;
  return &*inner;
}

Json *InnerSelect(Json &node) { return const_cast<Json *>(InnerSelect(std::as_const(node))); }

// Drops from `node`'s inner projection the columns nothing of `node` names. Never one that is
// named: a name missing there would bind to the user's query.
void TrimInnerSelect(Json &node) {
  Json *inner = InnerSelect(node);
  if (inner == nullptr || !IsPlainSelectList(*inner)) return;
  std::vector<std::string> named;
  AddColumnNames(node["select_list"], named);
  if (auto where = node.find("where_clause"); where != node.end()) AddColumnNames(*where, named);
  SortUnique(named);
  Json &list = (*inner)["select_list"];
  if (!list.is_array()) return;
  Json kept = Json::array();
  for (Json &expression : list) {
    std::string name = ProjectedName(expression);
    if (name.empty() || Contains(named, name)) kept.push_back(std::move(expression));
  }
  if (!kept.empty()) list = std::move(kept);
}

}  // namespace

ReachableColumns FindReachableColumns(const Json &statement) {
  ReachableColumns out;
  FindColumns(statement, out, 0);
  SortUnique(out.names);
  SortUnique(out.last_parts);
  return out;
}

std::vector<size_t> ReachableEntries(const Json &node, const ReachableColumns &reachable,
                                     const Json &ref) {
  auto renamed = ref.find("column_name_alias");
  bool renames = renamed != ref.end() && !(renamed->is_array() && renamed->empty());
  std::string alias = Lower(StringAt(ref, "alias"));
  auto list = node.find("select_list");
  size_t size = list != node.end() && list->is_array() ? list->size() : 0;
  std::vector<size_t> kept;
  if (reachable.all || renames || alias.empty() || Contains(reachable.last_parts, alias) ||
      size < 2 || !IsPlainSelectList(node)) {
    for (size_t i = 0; i < size; ++i) kept.push_back(i);
    return kept;
  }
  for (size_t i = 0; i < size; ++i) {
    std::string name = ProjectedName((*list)[i]);
    if (name.empty() || Contains(reachable.names, name)) kept.push_back(i);
  }
  if (kept.empty()) kept.push_back(0);
  return kept;
}

std::vector<std::string> SecuredColumnNames(const Json &node) {
  std::vector<std::string> names;
  auto add_list = [&names](const Json &select) {
    auto select_list = select.find("select_list");
    if (StringAt(select, "type") != "SELECT_NODE" || select_list == select.end() ||
        !select_list->is_array()) {
      return false;
    }
    for (const Json &expression : *select_list) {
      std::string alias = expression.value("alias", std::string());
      if (!alias.empty()) {
        names.push_back(Lower(alias));
      } else {
        AddColumnNames(expression, names);  // a bare column: SELECT "id"
      }
    }
    return true;
  };
  if (!add_list(node)) return names;
  if (const Json *inner = InnerSelect(node); inner != nullptr) add_list(*inner);
  AddLambdaParameters(node, names, 0);
  return names;
}

Status SubstitutePrincipal(Json &value, const PrincipalContext &principal) {
  return Substitute(value, principal, 0);
}

std::string SecuredSplice::RenderedKey() const {
  if (!copied.empty()) return {};
  std::string key = walked_key;
  for (size_t entry : entries) key += "|" + std::to_string(entry);
  return key;
}

Json PlaceholderRef(Json base_ref, const std::string &placeholder) {
  base_ref["catalog_name"] = "";
  base_ref["schema_name"] = "";
  base_ref["table_name"] = placeholder;
  return base_ref;
}

Result<std::string> RenderSecuredSelect(const SecuredSplice &splice) {
  const Json &node = *splice.walked;
  auto list = node.find("select_list");
  if (list == node.end() || !list->is_array()) return Internal("a secured SELECT without a list");
  // Copies only what is kept: the node is cached and shared by every statement that reads it.
  Json copy = Json::object();
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() != "select_list") copy[it.key()] = it.value();
  }
  Json kept = Json::array();
  for (size_t entry : splice.entries) {
    if (entry >= list->size()) return Internal("a secured SELECT's list changed while it was read");
    kept.push_back((*list)[entry]);
  }
  copy["select_list"] = std::move(kept);
  for (const Json &predicate : splice.copied) AndInto(copy["where_clause"], predicate);
  TrimInnerSelect(copy);
  Json statements = Json::array({{{"node", std::move(copy)}, {"named_param_map", Json::array()}}});
  Json document = {{"error", false}, {"statements", std::move(statements)}};
  return engine::DeserializeSql(document.dump());
}

namespace {

constexpr size_t kPlaceholderDigits = 6;

// The random part of every placeholder of this process, made once.
const std::string &PlaceholderPrefix() {
  static const std::string prefix = [] {
    std::random_device device;
    std::string out = "plx_secured_";
    for (int i = 0; i < 4; ++i) {
      char part[9];
      std::snprintf(part, sizeof(part), "%08x", static_cast<unsigned>(device()));
      out += part;
    }
    return out + "_";
  }();
  return prefix;
}

}  // namespace

Result<std::string> SplicePlaceholder(size_t index) {
  std::string digits = std::to_string(index);
  if (digits.size() > kPlaceholderDigits) {
    return PermissionDenied("a query may read at most 999999 secured relations");
  }
  return PlaceholderPrefix() + std::string(kPlaceholderDigits - digits.size(), '0') + digits;
}

Result<std::string> SpliceSecuredSelects(std::string_view sql,
                                         const std::deque<SecuredSplice> &splices,
                                         const std::vector<std::string> &rendered) {
  const std::string &prefix = PlaceholderPrefix();
  std::string out;
  std::vector<bool> seen(splices.size(), false);
  size_t at = 0;
  for (size_t hit = sql.find(prefix); hit != std::string_view::npos;
       hit = sql.find(prefix, at)) {
    size_t index = splices.size();
    std::string_view rest = sql.substr(hit);
    for (size_t i = 0; i < splices.size(); ++i) {
      if (rest.starts_with(splices[i].placeholder)) index = i;
    }
    // Anything else holding the prefix (a user's name or string) is not taken for a placeholder.
    if (index == splices.size() || seen[index] || rendered.size() != splices.size()) {
      return Internal("cannot place the secured relations in the query");
    }
    seen[index] = true;
    out.append(sql.substr(at, hit - at)).append("(").append(rendered[index]).append(")");
    at = hit + splices[index].placeholder.size();
  }
  if (std::find(seen.begin(), seen.end(), false) != seen.end()) {
    return Internal("cannot place the secured relations in the query");
  }
  out.append(sql.substr(at));
  return out;
}

}  // namespace plexus::access
