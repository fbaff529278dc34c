// Classify: SQL-level prepared statements (PREPARE, EXECUTE, DEALLOCATE; see pg_metadata.h).
// EXECUTE's arguments are read here as constants and nothing else, so the connection can
// decode them like Bind parameters: no argument text ever reaches an SQL string.
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_metadata_internal.h"
#include "plexus/server/pg_types.h"

namespace plexus::server::pg {
namespace {



/// A statement's name as PostgreSQL folds it: lower case unless quoted.
std::string NameOf(const Token& t) { return t.lower; }

/// The type written in tokens [begin, end): words joined by one space, `pg_catalog.` and
/// modifiers such as (10) or (10, 2) dropped, `[]` making it an array. -1 when unknown.
int32_t TypeOidOfTokens(const std::vector<Token>& t, size_t begin, size_t end) {
  std::string name;
  int arrays = 0;
  for (size_t i = begin; i < end; ++i) {
    if (t[i].text == "(") {  // a modifier: skip to its bracket
      while (i < end && t[i].text != ")") ++i;
      continue;
    }
    if (t[i].text == "[" && i + 1 < end && t[i + 1].text == "]") {
      ++arrays;
      ++i;
      continue;
    }
    if (t[i].kind != TokenKind::kWord) return -1;
    if (t[i].lower == "pg_catalog" && i + 1 < end && t[i + 1].text == ".") {
      ++i;
      continue;
    }
    if (!name.empty()) name += " ";
    name += t[i].lower;
  }
  static const std::map<std::string, int32_t, std::less<>> kTypes = {
      {"bigint", oid::kInt8}, {"bool", oid::kBool}, {"boolean", oid::kBool},
      {"bpchar", oid::kBpchar}, {"bytea", oid::kBytea}, {"char", oid::kBpchar},
      {"character", oid::kBpchar}, {"character varying", oid::kVarchar}, {"date", oid::kDate},
      {"decimal", oid::kNumeric}, {"double precision", oid::kFloat8}, {"float", oid::kFloat8},
      {"float4", oid::kFloat4}, {"float8", oid::kFloat8}, {"int", oid::kInt4},
      {"int2", oid::kInt2}, {"int4", oid::kInt4}, {"int8", oid::kInt8}, {"integer", oid::kInt4},
      {"interval", oid::kInterval}, {"json", oid::kJson}, {"jsonb", oid::kJsonb},
      {"numeric", oid::kNumeric}, {"oid", oid::kOid}, {"real", oid::kFloat4},
      {"smallint", oid::kInt2}, {"text", oid::kText}, {"time", oid::kTime},
      {"time with time zone", oid::kTimeTz}, {"time without time zone", oid::kTime},
      {"timestamp", oid::kTimestamp}, {"timestamp with time zone", oid::kTimestampTz},
      {"timestamp without time zone", oid::kTimestamp}, {"timestamptz", oid::kTimestampTz},
      {"timetz", oid::kTimeTz}, {"unknown", oid::kUnspecified}, {"uuid", oid::kUuid},
      {"varchar", oid::kVarchar}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return -1;
  if (arrays == 0) return it->second;
  int32_t array = arrays == 1 ? ArrayOid(it->second) : 0;
  return array != 0 ? array : -1;
}

std::string TypeText(std::string_view sql, const std::vector<Token>& t, size_t begin, size_t end) {
  if (begin >= end) return "";
  return std::string(sql.substr(t[begin].begin, t[end - 1].begin + t[end - 1].text.size() -
                                                    t[begin].begin));
}

/// Index of the bracket closing the one at `open` (or t.size()).
size_t Closing(const std::vector<Token>& t, size_t open) {
  int depth = 0;
  for (size_t i = open; i < t.size(); ++i) {
    if (t[i].text == "(") ++depth;
    if (t[i].text == ")" && --depth == 0) return i;
  }
  return t.size();
}

/// The items of a bracketed list (open, close): [begin, end) token ranges split on commas at
/// depth 0 (modifiers like numeric(10, 2) stay in one item).
std::vector<std::pair<size_t, size_t>> ListItems(const std::vector<Token>& t, size_t open,
                                                 size_t close) {
  std::vector<std::pair<size_t, size_t>> items;
  size_t start = open + 1;
  int depth = 0;
  for (size_t i = open + 1; i < close; ++i) {
    if (t[i].text == "(" || t[i].text == "[") ++depth;
    if (t[i].text == ")" || t[i].text == "]") --depth;
    if (t[i].text == "," && depth == 0) {
      items.emplace_back(start, i);
      start = i + 1;
    }
  }
  if (start < close || !items.empty()) items.emplace_back(start, close);
  return items;
}

/// The value of a string token: '..' ('' undone), E'..' (backslash escapes of one character
/// undone; octal, hex and Unicode escapes refused), $tag$..$tag$. False when refused.
bool StringValue(const Token& t, std::string* out) {
  std::string_view text = t.text;
  out->clear();
  if (text[0] == '$') {
    size_t tag = text.find('$', 1);
    if (tag == std::string_view::npos || text.size() < 2 * (tag + 1)) return false;
    *out = std::string(text.substr(tag + 1, text.size() - 2 * (tag + 1)));
    return true;
  }
  bool escapes = text[0] == 'e' || text[0] == 'E';
  std::string_view body = text.substr(escapes ? 2 : 1);
  if (body.empty()) return false;
  body.remove_suffix(1);  // the closing quote
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\'' && i + 1 < body.size() && body[i + 1] == '\'') {
      out->push_back('\'');
      ++i;
    } else if (escapes && c == '\\' && i + 1 < body.size()) {
      char e = body[++i];
      static const std::string_view kFrom = "bfnrt", kTo = "\b\f\n\r\t";
      if (std::isdigit(static_cast<unsigned char>(e)) || e == 'x' || e == 'u' || e == 'U') {
        return false;
      }
      size_t k = kFrom.find(e);
      out->push_back(k == std::string_view::npos ? e : kTo[k]);
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::optional<WireError> UnknownType(std::string_view sql, const std::vector<Token>& t,
                                     size_t begin, size_t end) {
  return WireError{"42704", "type \"" + TypeText(sql, t, begin, end) + "\" does not exist"};
}

/// One EXECUTE argument, tokens [begin, end): `constant [::type]...`, `type 'text'` or
/// `CAST(constant AS type)` (one level: no recursion a client could drive deep). An error when
/// it is anything else (0A000) or names an unknown type (42704).
std::optional<WireError> ReadArgument(std::string_view sql, const std::vector<Token>& t,
                                      size_t begin, size_t end, LiteralArgument* arg,
                                      bool cast_allowed = true) {
  auto refuse = [&] {
    return std::optional<WireError>(WireError{
        "0A000", "EXECUTE arguments must be constants (a number, a string, NULL, TRUE or FALSE, "
                 "optionally cast): got " + TypeText(sql, t, begin, end).substr(0, 80)});
  };
  if (begin >= end) return refuse();
  // CAST(constant AS type)
  if (cast_allowed && t[begin].lower == "cast" && begin + 1 < end && t[begin + 1].text == "(" &&
      Closing(t, begin + 1) == end - 1) {
    size_t as = begin + 2;
    while (as < end - 1 && t[as].lower != "as") ++as;
    if (as >= end - 1) return refuse();
    if (auto error = ReadArgument(sql, t, begin + 2, as, arg, false)) return error;
    int32_t type = TypeOidOfTokens(t, as + 1, end - 1);
    if (type < 0) return UnknownType(sql, t, as + 1, end - 1);
    arg->type_oid = type;
    return std::nullopt;
  }
  // The constant: its first token (after a sign), then casts.
  size_t i = begin;
  std::string sign;
  if (t[i].kind == TokenKind::kOperator && (t[i].text == "-" || t[i].text == "+") &&
      i + 1 < end && t[i + 1].kind == TokenKind::kNumber) {
    sign = t[i].text == "-" ? "-" : "";
    ++i;
  }
  const Token& value = t[i];
  size_t string_at = i;
  if (value.kind == TokenKind::kWord && value.lower != "null" && value.lower != "true" &&
      value.lower != "false") {  // a typed literal: DATE '2024-01-01'
    while (string_at < end && t[string_at].kind == TokenKind::kWord) ++string_at;
    if (string_at >= end || t[string_at].kind != TokenKind::kString) return refuse();
    int32_t type = TypeOidOfTokens(t, i, string_at);
    if (type < 0) return UnknownType(sql, t, i, string_at);
    arg->type_oid = type;
  }
  const Token& constant = t[string_at];
  if (constant.kind == TokenKind::kNumber) {
    arg->text = sign + std::string(constant.text);
  } else if (constant.kind == TokenKind::kString) {
    if (!StringValue(constant, &arg->text)) return refuse();
  } else if (constant.kind == TokenKind::kWord && constant.lower == "null" && string_at == i) {
    arg->is_null = true;
  } else if (constant.kind == TokenKind::kWord &&
             (constant.lower == "true" || constant.lower == "false") && string_at == i) {
    arg->text = constant.lower;
    if (arg->type_oid == 0) arg->type_oid = oid::kBool;
  } else {
    return refuse();
  }
  for (i = string_at + 1; i < end;) {  // ::type, repeated: the last one counts
    if (t[i].text != "::") return refuse();
    size_t type_end = i + 1;
    while (type_end < end && t[type_end].text != "::") ++type_end;
    int32_t type = TypeOidOfTokens(t, i + 1, type_end);
    if (type < 0) return UnknownType(sql, t, i + 1, type_end);
    arg->type_oid = type;
    i = type_end;
  }
  return std::nullopt;
}

}  // namespace

int32_t TypeOidOfName(std::string_view name) {
  std::vector<Token> t = Tokenize(name);
  return t.empty() ? -1 : TypeOidOfTokens(t, 0, t.size());
}

Statement ClassifyPrepare(std::string_view sql, const std::vector<Token>& t) {
  if (t.size() > 2 && t[1].lower == "transaction" && t[2].kind == TokenKind::kString) {
    return Refused(sql, "0A000", "prepared transactions are not supported");
  }
  if (t.size() < 2 || !IsObjectName(t[1])) return Refused(sql, "42601", "syntax error in PREPARE: expected a name");
  Statement st = MakeStatement(sql, StatementKind::kPrepare, "PREPARE", NameOf(t[1]));
  size_t as = 2;
  if (as < t.size() && t[as].text == "(") {
    size_t close = Closing(t, as);
    if (close >= t.size()) return Refused(sql, "42601", "syntax error in PREPARE: unclosed (");
    for (auto [begin, end] : ListItems(t, as, close)) {
      int32_t type = TypeOidOfTokens(t, begin, end);
      if (type < 0) {
        return Refused(sql, "42704", "type \"" + TypeText(sql, t, begin, end) + "\" does not exist");
      }
      st.parameter_oids.push_back(type);
    }
    as = close + 1;
  }
  if (as >= t.size() || t[as].lower != "as") {
    return Refused(sql, "42601", "syntax error in PREPARE: expected AS after " + st.name);
  }
  if (as + 1 >= t.size()) return Refused(sql, "42601", "syntax error at end of input");
  st.sql = std::string(sql.substr(t[as + 1].begin));
  return st;
}

Statement ClassifyExecute(std::string_view sql, const std::vector<Token>& t) {
  if (t.size() < 2 || !IsObjectName(t[1])) return Refused(sql, "42601", "syntax error in EXECUTE: expected a name");
  Statement st = MakeStatement(sql, StatementKind::kExecute, "EXECUTE", NameOf(t[1]));
  if (t.size() == 2) return st;
  size_t close = t[2].text == "(" ? Closing(t, 2) : t.size();
  if (close + 1 != t.size()) {
    return Refused(sql, "42601", "syntax error in EXECUTE: expected (arguments) after " + st.name);
  }
  auto items = ListItems(t, 2, close);
  for (auto [begin, end] : items) {
    LiteralArgument arg;
    if (auto error = ReadArgument(sql, t, begin, end, &arg)) {
      return Refused(sql, error->sqlstate, error->message);
    }
    st.arguments.push_back(std::move(arg));
  }
  return st;
}

Statement ClassifyDeallocate(std::string_view sql, const std::vector<Token>& t) {
  size_t at = t.size() > 2 && t[1].lower == "prepare" ? 2 : 1;
  if (at + 1 != t.size() || !IsObjectName(t[at])) {
    return Refused(sql, "42601", "syntax error in DEALLOCATE: expected a name or ALL");
  }
  if (t[at].kind == TokenKind::kWord && t[at].lower == "all") {
    return MakeStatement(sql, StatementKind::kDeallocate, "DEALLOCATE ALL", "");
  }
  return MakeStatement(sql, StatementKind::kDeallocate, "DEALLOCATE", NameOf(t[at]));
}

}  // namespace plexus::server::pg
