#include "plexus/access/masks.h"

#include <array>
#include <cctype>

#include "plexus/engine/engine.h"

namespace plexus::access {
namespace {

enum class MaskKind { kRedact, kHash, kPartial, kNull, kYear, kSql };

struct MaskSpec {
  MaskKind kind = MaskKind::kRedact;
  int keep = 0;          ///< partial(N)
  std::string sql_text;  ///< sql(EXPR): EXPR as written
};

constexpr int kMaxPartialKeep = 64;

// clang-format off
constexpr std::array<std::string_view, 6> kTextTypes = {
    "BPCHAR", "CHAR", "NVARCHAR", "STRING", "TEXT", "VARCHAR"};
constexpr std::array<std::string_view, 8> kDateTypes = {
    "DATE", "DATETIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_MS",
    "TIMESTAMP_NS", "TIMESTAMP_S"};
// clang-format on

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The type's name without its arguments, in upper case, single-spaced:
// "varchar(10)" -> "VARCHAR", "timestamp  with time zone" -> "TIMESTAMP WITH
// TIME ZONE".
std::string BaseType(std::string_view engine_type) {
  std::string out;
  for (char c : Trim(engine_type.substr(0, engine_type.find('(')))) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

template <size_t N>
bool OneOf(const std::array<std::string_view, N> &names, std::string_view name) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

bool IsTextType(std::string_view engine_type) { return OneOf(kTextTypes, BaseType(engine_type)); }

// Reads "partial(N)": N from 0 to kMaxPartialKeep.
Result<int> PartialKeep(std::string_view argument) {
  argument = Trim(argument);
  if (argument.empty() || argument.size() > 2) {
    return InvalidArgument("partial(N) needs N from 0 to " + std::to_string(kMaxPartialKeep));
  }
  int keep = 0;
  for (char c : argument) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument("partial(N) needs a whole number N, not '" + std::string(argument) +
                             "'");
    }
    keep = keep * 10 + (c - '0');
  }
  if (keep > kMaxPartialKeep) {
    return InvalidArgument("partial(N) keeps at most " + std::to_string(kMaxPartialKeep) +
                           " characters");
  }
  return keep;
}

Result<MaskSpec> ParseMaskSpec(std::string_view mask) {
  mask = Trim(mask);
  size_t open = mask.find('(');
  std::string kind = Upper(Trim(mask.substr(0, open)));
  if (open == std::string_view::npos) {
    if (kind == "REDACT") return MaskSpec{MaskKind::kRedact, 0, ""};
    if (kind == "HASH") return MaskSpec{MaskKind::kHash, 0, ""};
    if (kind == "NULL") return MaskSpec{MaskKind::kNull, 0, ""};
    if (kind == "YEAR") return MaskSpec{MaskKind::kYear, 0, ""};
  } else if (mask.back() == ')' && (kind == "PARTIAL" || kind == "SQL")) {
    std::string_view argument = mask.substr(open + 1, mask.size() - open - 2);
    if (kind == "SQL") {
      if (Trim(argument).empty()) return InvalidArgument("sql(EXPR) needs an expression");
      PLEXUS_RETURN_IF_ERROR(CheckSqlFragment(argument, "the sql(...) mask"));
      return MaskSpec{MaskKind::kSql, 0, std::string(Trim(argument))};
    }
    PLEXUS_ASSIGN_OR_RETURN(int keep, PartialKeep(argument));
    return MaskSpec{MaskKind::kPartial, keep, ""};
  }
  return InvalidArgument("unknown mask '" + std::string(mask) +
                         "': use redact, hash, partial(N), null, year or sql(EXPR)");
}

std::string ReplaceColumn(std::string_view expression, std::string_view quoted_column) {
  constexpr std::string_view kPlaceholder = "{column}";
  std::string out;
  size_t from = 0;
  for (size_t at = expression.find(kPlaceholder); at != std::string_view::npos;
       at = expression.find(kPlaceholder, from)) {
    out.append(expression.substr(from, at - from)).append(quoted_column);
    from = at + kPlaceholder.size();
  }
  out.append(expression.substr(from));
  return out;
}

std::string TypedNull(std::string_view engine_type) {
  return "CAST(NULL AS " + std::string(Trim(engine_type)) + ")";
}

}  // namespace

Status CheckSqlFragment(std::string_view text, std::string_view what) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth < 0) {
      break;
    } else if (c == ';' || (c == '-' && next == '-') || (c == '/' && next == '*') || c == '\0') {
      return InvalidArgument(std::string(what) + " may not hold ';', a comment or a NUL byte");
    }
  }
  if (quote != 0 || depth != 0) {
    return InvalidArgument(std::string(what) + " has unbalanced quotes or brackets");
  }
  return Status::OK();
}

Status ValidateMaskSpec(std::string_view mask, std::string_view engine_type) {
  PLEXUS_ASSIGN_OR_RETURN(MaskSpec spec, ParseMaskSpec(mask));
  if (Trim(engine_type).empty()) return Status::OK();  // form only (a mesh-wide rule)
  PLEXUS_RETURN_IF_ERROR(CheckSqlFragment(engine_type, "a column type"));
  if (spec.kind == MaskKind::kYear && !OneOf(kDateTypes, BaseType(engine_type))) {
    return InvalidArgument("mask 'year' needs a DATE or TIMESTAMP column, not " +
                           std::string(Trim(engine_type)));
  }
  return Status::OK();
}

Result<std::string> MaskExpression(std::string_view mask, std::string_view column,
                                   std::string_view engine_type, std::string_view salt) {
  if (Trim(engine_type).empty()) {
    return InvalidArgument("the type of column " + std::string(column) + " is needed to mask it");
  }
  PLEXUS_RETURN_IF_ERROR(ValidateMaskSpec(mask, engine_type));
  PLEXUS_ASSIGN_OR_RETURN(MaskSpec spec, ParseMaskSpec(mask));
  std::string quoted = engine::QuoteIdentifier(column);
  std::string text = "CAST(" + quoted + " AS VARCHAR)";
  switch (spec.kind) {
    case MaskKind::kRedact:
      if (!IsTextType(engine_type)) return TypedNull(engine_type);
      return "CASE WHEN " + quoted + " IS NULL THEN NULL ELSE '****' END";
    case MaskKind::kHash:
      return "sha256(" + engine::QuoteLiteral(salt) + " || " + text + ")";
    case MaskKind::kPartial: {
      std::string keep = std::to_string(spec.keep);
      return "(repeat('*', greatest(length(" + text + ") - " + keep + ", 0)) || right(" + text +
             ", " + keep + "))";
    }
    case MaskKind::kNull:
      return TypedNull(engine_type);
    case MaskKind::kYear:
      return "CAST(date_trunc('year', " + quoted + ") AS " + std::string(Trim(engine_type)) + ")";
    case MaskKind::kSql:
      return "(" + ReplaceColumn(spec.sql_text, quoted) + ")";
  }
  return Internal("unknown mask kind");
}

Result<std::string> SecuredSelect(std::string_view catalog, std::string_view schema,
                                  std::string_view table, const std::vector<ColumnView> &columns,
                                  std::string_view row_filter, std::string_view salt) {
  if (columns.empty()) return InvalidArgument("a secured relation needs at least one column");
  std::string filter(Trim(row_filter));
  if (!filter.empty()) PLEXUS_RETURN_IF_ERROR(CheckSqlFragment(filter, "the row filter"));
  std::string table_sql = engine::QuoteIdentifier(catalog) + "." +
                          engine::QuoteIdentifier(schema) + "." + engine::QuoteIdentifier(table);
  std::string sql = "SELECT ";
  std::string raw_columns;  // the inner projection's list, with a row filter
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnView &column = columns[i];
    std::string name = engine::QuoteIdentifier(column.name);
    if (!filter.empty() && Upper(column.name) == Upper(kRowVisibleColumn)) {
      return InvalidArgument("a column of a port with a row filter may not be named " +
                             std::string(kRowVisibleColumn) + " (the filter's guard uses it)");
    }
    std::string value = name;
    if (!Trim(column.mask).empty()) {
      PLEXUS_ASSIGN_OR_RETURN(value,
                              MaskExpression(column.mask, column.name, column.engine_type, salt));
    }
    // Guarded per column: a hidden row reaches no expression of the query,
    // however the optimizer orders the filters.
    if (!filter.empty()) {
      value = "CASE WHEN " + std::string(kRowVisibleColumn) + " THEN " + value + " END";
    }
    sql += (i == 0 ? "" : ", ") + value + " AS " + name;
    raw_columns += name + ", ";
  }
  if (filter.empty()) return sql + " FROM " + table_sql;
  // The filter is written once, as a column of an inner projection that every guard and the
  // WHERE read: DuckDB binds and optimizes each copy of an expression again.
  return sql + " FROM (SELECT " + raw_columns + "(" + filter + ") AS " +
         std::string(kRowVisibleColumn) + " FROM " + table_sql + ") WHERE " +
         std::string(kRowVisibleColumn);
}

}  // namespace plexus::access
