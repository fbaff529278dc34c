#include "plexus/access/predicate_copy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace plexus::access {
namespace {

using Json = nlohmann::json;

// An IN list longer than this is left where it is: copying it would cost more than it saves.
constexpr size_t kMaxInList = 1000;

/// The kinds of column a constant may be compared with without DuckDB casting the column.
enum class ColumnKind { kOther, kInteger, kText, kDate };

// clang-format off
constexpr std::array<std::string_view, 5> kIntegerTypes = {
    "BIGINT", "HUGEINT", "INTEGER", "SMALLINT", "TINYINT"};
// clang-format on

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The member `key` of `e`, or null when `e` is not an object or lacks it.
const Json& Member(const Json& e, const char* key) {
  static const Json kNull;
  if (!e.is_object()) return kNull;
  auto it = e.find(key);
  return it == e.end() ? kNull : *it;
}

bool IsClass(const Json& e, std::string_view expression_class) {
  const Json& name = Member(e, "class");
  return name.is_string() && name.get_ref<const std::string&>() == expression_class;
}

ColumnKind KindOf(std::string_view engine_type) {
  std::string type = Upper(engine_type);
  if (std::find(kIntegerTypes.begin(), kIntegerTypes.end(), type) != kIntegerTypes.end()) {
    return ColumnKind::kInteger;
  }
  if (type == "VARCHAR") return ColumnKind::kText;
  if (type == "DATE") return ColumnKind::kDate;
  return ColumnKind::kOther;
}

// 'YYYY-MM-DD' naming a real day of the years 1 to 9999: a text DuckDB always casts to DATE.
bool IsPlainDate(const Json& text) {
  if (!text.is_string()) return false;
  const std::string& s = text.get_ref<const std::string&>();
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  int year = std::stoi(s.substr(0, 4)), month = std::stoi(s.substr(5, 2)),
      day = std::stoi(s.substr(8, 2));
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

// The type id of a non-NULL constant's value; "" for anything else.
std::string ConstantType(const Json& e) {
  if (!IsClass(e, "CONSTANT")) return {};
  const Json& value = Member(e, "value");
  const Json& type = Member(value, "type");
  const Json& id = Member(type, "id");
  if (Member(value, "is_null") != false || !id.is_string()) return {};
  return id.get<std::string>();
}

// True when `e` is a constant that compares with a column of `kind` without DuckDB casting the
// column, and whose own cast (a DATE literal) cannot fail.
bool FitsColumn(const Json& e, ColumnKind kind) {
  std::string type = ConstantType(e);
  switch (kind) {
    case ColumnKind::kInteger:
      return std::find(kIntegerTypes.begin(), kIntegerTypes.end(), type) != kIntegerTypes.end();
    case ColumnKind::kText:
      return type == "VARCHAR";
    case ColumnKind::kDate:
      if (type == "VARCHAR") return IsPlainDate(Member(Member(e, "value"), "value"));
      if (!IsClass(e, "CAST") || Member(e, "try_cast") != false) return false;
      return Member(Member(e, "cast_type"), "id") == "DATE" &&
             ConstantType(Member(e, "child")) == "VARCHAR" &&
             IsPlainDate(Member(Member(Member(e, "child"), "value"), "value"));
    case ColumnKind::kOther:
      return false;
  }
  return false;
}

/// Which target's clear column a COLUMN_REF names.
struct ColumnMatch {
  CopyTarget* target = nullptr;
  const PlainColumn* column = nullptr;
};

ColumnMatch FindColumn(const Json& e, std::vector<CopyTarget>& targets, bool lone) {
  if (!IsClass(e, "COLUMN_REF")) return {};
  const Json& parts = Member(e, "column_names");
  if (!parts.is_array() || parts.empty() || parts.size() > 2) return {};
  for (const Json& part : parts) {
    if (!part.is_string()) return {};
  }
  if (parts.size() == 1 && !(lone && targets.size() == 1)) return {};
  std::string name = Lower(parts.back().get<std::string>());
  for (CopyTarget& target : targets) {
    if (parts.size() == 2 && Lower(parts[0].get<std::string>()) != target.alias) continue;
    for (const PlainColumn& column : target.columns) {
      if (Lower(column.name) == name) return {&target, &column};
    }
  }
  return {};
}

// The column a copyable conjunct compares, or no match. The conjunct's other operands must be
// constants that fit the column (see FitsColumn).
ColumnMatch CopyableColumn(const Json& e, std::vector<CopyTarget>& targets, bool lone) {
  const Json& type_member = Member(e, "type");
  std::string type = type_member.is_string() ? type_member.get<std::string>() : std::string();
  auto fits = [](const ColumnMatch& m, const Json& constant) {
    return m.column != nullptr && FitsColumn(constant, KindOf(m.column->engine_type));
  };
  if (IsClass(e, "COMPARISON") &&
      (type == "COMPARE_EQUAL" || type == "COMPARE_LESSTHAN" || type == "COMPARE_GREATERTHAN" ||
       type == "COMPARE_LESSTHANOREQUALTO" || type == "COMPARE_GREATERTHANOREQUALTO")) {
    const Json& left = Member(e, "left");
    const Json& right = Member(e, "right");
    ColumnMatch m = FindColumn(left, targets, lone);
    if (fits(m, right)) return m;
    m = FindColumn(right, targets, lone);
    return fits(m, left) ? m : ColumnMatch{};
  }
  if (IsClass(e, "BETWEEN") && type == "COMPARE_BETWEEN") {
    ColumnMatch m = FindColumn(Member(e, "input"), targets, lone);
    bool ok = fits(m, Member(e, "lower")) && fits(m, Member(e, "upper"));
    return ok ? m : ColumnMatch{};
  }
  const Json& children = Member(e, "children");
  if (!IsClass(e, "OPERATOR") || !children.is_array() || children.empty()) return {};
  ColumnMatch m = FindColumn(children[0], targets, lone);
  if (type == "OPERATOR_IS_NULL" || type == "OPERATOR_IS_NOT_NULL") {
    return children.size() == 1 ? m : ColumnMatch{};
  }
  if (type != "COMPARE_IN" || children.size() < 2 || children.size() > kMaxInList + 1) return {};
  for (size_t i = 1; i < children.size(); ++i) {
    if (!fits(m, children[i])) return {};
  }
  return m;
}

// `e` with the column reference(s) it compares replaced by the raw column, unqualified: inside
// the derived table the only FROM item is the physical table.
Json OnRawColumn(const Json& e, const PlainColumn& column) {
  Json copy = e;
  auto replace = [&column](Json& operand) {
    if (IsClass(operand, "COLUMN_REF")) operand["column_names"] = Json::array({column.name});
  };
  for (const char* key : {"left", "right", "input"}) {
    if (auto it = copy.find(key); it != copy.end()) replace(*it);
  }
  if (auto it = copy.find("children"); it != copy.end() && it->is_array() && !it->empty()) {
    replace((*it)[0]);
  }
  return copy;
}

void CopyConjuncts(const Json& e, std::vector<CopyTarget>& targets, bool lone, int depth) {
  if (depth > 64) return;  // only what is left of deeper ANDs stays where it is
  if (IsClass(e, "CONJUNCTION") && Member(e, "type") == "CONJUNCTION_AND") {
    const Json& children = Member(e, "children");
    if (!children.is_array()) return;
    for (const Json& child : children) CopyConjuncts(child, targets, lone, depth + 1);
    return;
  }
  ColumnMatch m = CopyableColumn(e, targets, lone);
  if (m.column != nullptr) m.target->copied->push_back(OnRawColumn(e, *m.column));
}

}  // namespace

void AndInto(Json& where, Json predicate) {
  if (where.is_null()) {
    where = std::move(predicate);
    return;
  }
  where = {{"class", "CONJUNCTION"},
           {"type", "CONJUNCTION_AND"},
           {"alias", ""},
           {"query_location", Member(where, "query_location")},
           {"children", Json::array({std::move(where), std::move(predicate)})}};
}

void CopySimplePredicates(const Json& where, std::vector<CopyTarget>& targets, bool lone) {
  if (where.is_null() || targets.empty()) return;
  CopyConjuncts(where, targets, lone, 0);
}

}  // namespace plexus::access
