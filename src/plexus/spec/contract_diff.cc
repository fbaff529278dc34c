#include "plexus/spec/contract_diff.h"

#include <algorithm>
#include <array>
#include <set>

#include "plexus/common/text.h"

namespace plexus::spec {
namespace {

// ---- Types --------------------------------------------------------------------------------

/// A DuckDB type, normalised: the base name in upper case without spaces, and its arguments.
struct EngineType {
  std::string base;
  std::vector<int> args;  ///< DECIMAL(p,s), VARCHAR(n)
};

std::string Canonical(std::string base) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"INT", "INTEGER"},     {"INT4", "INTEGER"},     {"SIGNED", "INTEGER"},
      {"INT8", "BIGINT"},     {"LONG", "BIGINT"},      {"INT2", "SMALLINT"},
      {"SHORT", "SMALLINT"},  {"INT1", "TINYINT"},     {"STRING", "VARCHAR"},
      {"TEXT", "VARCHAR"},    {"BPCHAR", "VARCHAR"},   {"CHAR", "VARCHAR"},
      {"FLOAT4", "FLOAT"},    {"REAL", "FLOAT"},       {"FLOAT8", "DOUBLE"},
      {"DOUBLEPRECISION", "DOUBLE"}, {"NUMERIC", "DECIMAL"}, {"BOOL", "BOOLEAN"},
      {"LOGICAL", "BOOLEAN"}, {"DATETIME", "TIMESTAMP"}, {"INT16", "HUGEINT"},
      {"INT64", "BIGINT"},    {"INT32", "INTEGER"},    {"TIMESTAMPTZ", "TIMESTAMPWITHTIMEZONE"},
  };
  for (const auto& [alias, name] : kAliases) {
    if (base == alias) return name;
  }
  return base;
}

EngineType ParseEngineType(const std::string& text) {
  EngineType type;
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\t') compact.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  size_t open = compact.find('(');
  type.base = Canonical(compact.substr(0, open));
  if (open != std::string::npos) {
    std::string args = compact.substr(open + 1, compact.find(')', open) - open - 1);
    size_t start = 0;
    while (start <= args.size()) {
      size_t comma = args.find(',', start);
      std::string arg = args.substr(start, comma - start);
      if (!arg.empty() && std::all_of(arg.begin(), arg.end(), ::isdigit) && arg.size() < 6) {
        type.args.push_back(std::stoi(arg));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (type.base == "DECIMAL") {  // DuckDB's defaults: DECIMAL = (18,3), DECIMAL(p) = (p,0)
    if (type.args.empty()) type.args = {18, 3};
    if (type.args.size() == 1) type.args.push_back(0);
  }
  return type;
}

constexpr std::array<std::string_view, 5> kSigned = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT",
                                                     "HUGEINT"};
constexpr std::array<std::string_view, 5> kUnsigned = {"UTINYINT", "USMALLINT", "UINTEGER",
                                                       "UBIGINT", "UHUGEINT"};
constexpr std::array<int, 5> kSignedDigits = {3, 5, 10, 19, 39};
constexpr std::array<int, 5> kUnsignedDigits = {3, 5, 10, 20, 39};

template <size_t N>
int RankIn(const std::array<std::string_view, N>& family, const std::string& base) {
  for (size_t i = 0; i < N; ++i) {
    if (family[i] == base) return static_cast<int>(i);
  }
  return -1;
}

/// Decimal digits an integer type needs; -1 when not an integer type.
int IntegerDigits(const std::string& base) {
  if (int r = RankIn(kSigned, base); r >= 0) return kSignedDigits[r];
  if (int r = RankIn(kUnsigned, base); r >= 0) return kUnsignedDigits[r];
  return -1;
}

/// True when every value of `from` is a value of `to`.
bool Widens(const EngineType& from, const EngineType& to) {
  const std::string& a = from.base;
  const std::string& b = to.base;
  int sa = RankIn(kSigned, a), sb = RankIn(kSigned, b);
  int ua = RankIn(kUnsigned, a), ub = RankIn(kUnsigned, b);
  if (sa >= 0 && sb >= 0) return sb > sa;
  if (ua >= 0 && ub >= 0) return ub > ua;
  if (ua >= 0 && sb >= 0) return sb > ua;
  int digits = IntegerDigits(a);
  if (digits > 0 && b == "DECIMAL") return to.args[0] - to.args[1] >= digits;
  if (digits > 0 && b == "FLOAT") return digits <= 5;    // 24-bit mantissa
  if (digits > 0 && b == "DOUBLE") return digits <= 10;  // 53-bit mantissa
  if (a == "DECIMAL" && b == "DECIMAL") {
    return to.args[1] >= from.args[1] && to.args[0] - to.args[1] >= from.args[0] - from.args[1];
  }
  if (a == "DECIMAL" && b == "DOUBLE") return from.args[0] <= 15;
  if (a == "FLOAT" && b == "DOUBLE") return true;
  if (a == "VARCHAR" && b == "VARCHAR") {
    return to.args.empty() || (!from.args.empty() && to.args[0] >= from.args[0]);
  }
  if (a == "DATE" && (b == "TIMESTAMP" || b == "TIMESTAMP_NS")) return true;
  if (a == "TIMESTAMP_S" && (b == "TIMESTAMP_MS" || b == "TIMESTAMP")) return true;
  if (a == "TIMESTAMP_MS" && b == "TIMESTAMP") return true;
  return false;
}

// ---- Columns ------------------------------------------------------------------------------

bool IsRequired(const Property& p) { return p.required || p.primary_key; }

/// The valid values a column's invalidValues rules allow (empty: no such rule).
std::set<std::string> ValidValues(const Property& p) {
  std::set<std::string> values;
  for (const auto& rule : p.quality) {
    values.insert(rule.valid_values.begin(), rule.valid_values.end());
  }
  return values;
}

/// Everything about a rule except its valid values (those are diffed one by one).
std::string RuleSignature(const QualityRule& r) {
  std::string text = r.type + '\x1f' + r.metric + '\x1f' + r.pattern + '\x1f' + r.op + '\x1f' +
                     r.operand_text + '\x1f' + r.unit + '\x1f' + r.query + '\x1f' + r.severity +
                     '\x1f' + r.implementation;
  for (const auto& v : r.missing_values) text += '\x1e' + v;
  for (const auto& v : r.properties) text += '\x1d' + v;
  return text;
}

std::multiset<std::string> RuleSignatures(const std::vector<QualityRule>& rules) {
  std::multiset<std::string> out;
  for (const auto& rule : rules) out.insert(RuleSignature(rule));
  return out;
}

class Differ {
 public:
  explicit Differ(ContractDiff& diff) : diff_(diff) {}

  void Add(ChangeKind kind, bool breaking, const std::string& object, const std::string& column,
           std::string detail) {
    diff_.changes.push_back(ContractChange{kind, breaking, object, column, std::move(detail)});
  }

  void Object(const SchemaObject& a, const SchemaObject& b) {
    if (a.description != b.description || a.physical_name != b.physical_name) {
      Add(ChangeKind::kDocumentation, false, a.name, "", "table description changed");
    }
    if (RuleSignatures(a.quality) != RuleSignatures(b.quality)) {
      Add(ChangeKind::kQualityChanged, false, a.name, "", "table quality rules changed");
    }
    auto find = [](const SchemaObject& o, const std::string& name) -> const Property* {
      for (const auto& p : o.properties) {
        if (p.name == name) return &p;
      }
      return nullptr;
    };
    std::set<std::string> renamed_to;
    for (size_t i = 0; i < a.properties.size(); ++i) {
      const Property& old = a.properties[i];
      if (const Property* now = find(b, old.name)) {
        Column(a.name, old, *now);
        continue;
      }
      // A column gone, and another new one in its place with the same type: a rename.
      if (i < b.properties.size() && find(a, b.properties[i].name) == nullptr &&
          ColumnEngineType(b.properties[i]) == ColumnEngineType(old)) {
        renamed_to.insert(b.properties[i].name);
        Add(ChangeKind::kColumnRenamed, true, a.name, old.name,
            "column renamed to " + b.properties[i].name);
        continue;
      }
      Add(ChangeKind::kColumnRemoved, true, a.name, old.name, "column removed");
    }
    for (const auto& now : b.properties) {
      if (find(a, now.name) != nullptr || renamed_to.count(now.name)) continue;
      bool required = IsRequired(now);
      Add(ChangeKind::kColumnAdded, required, a.name, now.name,
          required ? "new required column (data under the old contract has none)"
                   : "new optional column");
    }
  }

  void Column(const std::string& object, const Property& a, const Property& b) {
    std::string from = ColumnEngineType(a), to = ColumnEngineType(b);
    switch (ClassifyTypeChange(from, to)) {
      case TypeChange::kSame: break;
      case TypeChange::kWidening:
        Add(ChangeKind::kTypeWidened, false, object, a.name, "type " + from + " -> " + to + " (widening)");
        break;
      case TypeChange::kNarrowing:
        Add(ChangeKind::kTypeNarrowed, true, object, a.name, "type " + from + " -> " + to + " (narrowing)");
        break;
      case TypeChange::kIncompatible:
        Add(ChangeKind::kTypeChanged, true, object, a.name, "type " + from + " -> " + to);
        break;
    }
    bool pk_changed = a.primary_key != b.primary_key ||
                      (a.primary_key && a.primary_key_position != b.primary_key_position);
    if (pk_changed) {
      Add(ChangeKind::kPrimaryKeyChanged, true, object, a.name,
          b.primary_key ? (a.primary_key ? "primary key position changed" : "now part of the primary key")
                        : "no longer part of the primary key");
    }
    if (!IsRequired(a) && IsRequired(b)) {
      Add(ChangeKind::kNowRequired, true, object, a.name, "optional -> required");
    } else if (IsRequired(a) && !IsRequired(b)) {
      Add(ChangeKind::kNowOptional, false, object, a.name, "required -> optional (may now be NULL)");
    }
    if (!pk_changed && !a.unique && b.unique) {
      Add(ChangeKind::kUniqueAdded, true, object, a.name, "now unique");
    } else if (!pk_changed && a.unique && !b.unique) {
      Add(ChangeKind::kUniqueRemoved, false, object, a.name, "no longer unique");
    }
    std::set<std::string> va = ValidValues(a), vb = ValidValues(b);
    for (const auto& v : va) {
      if (!vb.empty() && !vb.count(v)) {
        Add(ChangeKind::kValidValueRemoved, true, object, a.name, "valid value '" + v + "' removed");
      }
    }
    for (const auto& v : vb) {
      if (!va.empty() && !va.count(v)) {
        Add(ChangeKind::kValidValueAdded, false, object, a.name, "valid value '" + v + "' added");
      }
    }
    if (RuleSignatures(a.quality) != RuleSignatures(b.quality) || (va.empty() != vb.empty())) {
      Add(ChangeKind::kQualityChanged, false, object, a.name, "quality rules changed");
    }
    if (AsciiLower(a.classification) != AsciiLower(b.classification)) {
      Add(ChangeKind::kClassificationChanged, false, object, a.name,
          "classification " + (a.classification.empty() ? "(none)" : a.classification) + " -> " +
              (b.classification.empty() ? "(none)" : b.classification));
    }
    if (a.description != b.description || a.business_name != b.business_name || a.tags != b.tags) {
      Add(ChangeKind::kDocumentation, false, object, a.name, "description, business name or tags changed");
    }
  }

 private:
  ContractDiff& diff_;
};

}  // namespace

std::string ColumnEngineType(const Property& property) {
  if (!property.physical_type.empty()) {
    EngineType t = ParseEngineType(property.physical_type);
    std::string out = t.base;
    for (size_t i = 0; i < t.args.size(); ++i) {
      out += (i == 0 ? "(" : ",") + std::to_string(t.args[i]);
    }
    return t.args.empty() ? out : out + ")";
  }
  return EngineTypeForLogical(property.logical_type);
}

std::string EngineTypeForLogical(std::string_view logical_type) {
  static const std::pair<const char*, const char*> kLogical[] = {
      {"string", "VARCHAR"},   {"integer", "BIGINT"}, {"number", "DOUBLE"},
      {"boolean", "BOOLEAN"},  {"date", "DATE"},      {"timestamp", "TIMESTAMP"},
      {"time", "TIME"},        {"object", "JSON"},    {"array", "JSON"},
  };
  std::string logical = AsciiLower(logical_type);
  for (const auto& [name, type] : kLogical) {
    if (logical == name) return type;
  }
  return "VARCHAR";
}

TypeChange ClassifyTypeChange(const std::string& from, const std::string& to) {
  EngineType a = ParseEngineType(from), b = ParseEngineType(to);
  if (a.base == b.base && a.args == b.args) return TypeChange::kSame;
  if (Widens(a, b)) return TypeChange::kWidening;
  if (Widens(b, a)) return TypeChange::kNarrowing;
  return TypeChange::kIncompatible;
}

std::string ContractChange::ToString() const {
  std::string where = object;
  if (!column.empty()) where += (where.empty() ? "" : ".") + column;
  std::string label = breaking ? "breaking" : "compatible";
  return label + std::string(12 - label.size(), ' ') + (where.empty() ? "" : where + ": ") + detail;
}

bool ContractDiff::breaking() const {
  return std::any_of(changes.begin(), changes.end(), [](const auto& c) { return c.breaking; });
}

ContractDiff DiffContracts(const Contract& before, const Contract& after) {
  ContractDiff diff;
  Differ differ(diff);
  if (before.description != after.description || before.tags != after.tags) {
    differ.Add(ChangeKind::kDocumentation, false, "", "", "contract description or tags changed");
  }
  for (const auto& a : before.schema) {
    auto it = std::find_if(after.schema.begin(), after.schema.end(),
                           [&](const SchemaObject& b) { return b.name == a.name; });
    if (it == after.schema.end()) {
      differ.Add(ChangeKind::kObjectRemoved, true, a.name, "", "table removed");
    } else {
      differ.Object(a, *it);
    }
  }
  for (const auto& b : after.schema) {
    bool existed = std::any_of(before.schema.begin(), before.schema.end(),
                               [&](const SchemaObject& a) { return a.name == b.name; });
    if (!existed) differ.Add(ChangeKind::kObjectAdded, false, b.name, "", "new table");
  }
  std::stable_partition(diff.changes.begin(), diff.changes.end(),
                        [](const ContractChange& c) { return c.breaking; });
  return diff;
}

}  // namespace plexus::spec
