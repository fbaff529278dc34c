// PostgreSQL-flavoured tokenizer, statement splitting and the catalog-query rewrite.
#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_metadata_internal.h"

namespace plexus::server::pg {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80) != 0;
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}
bool IsOperatorChar(char c) { return std::string_view("+-*/<>=~!@#%^&|`?").find(c) != std::string_view::npos; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Skips a comment starting at i (-- or nested /* */); returns the index after it, or i.
size_t SkipComment(std::string_view sql, size_t i, bool* unterminated) {
  if (sql.compare(i, 2, "--") == 0) {
    size_t end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (sql.compare(i, 2, "/*") == 0) {
    int depth = 0;
    size_t j = i;
    while (j < sql.size()) {
      if (sql.compare(j, 2, "/*") == 0) { ++depth; j += 2; continue; }
      if (sql.compare(j, 2, "*/") == 0) { j += 2; if (--depth == 0) return j; continue; }
      ++j;
    }
    *unterminated = true;
    return sql.size();
  }
  return i;
}

/// The end of a quoted run starting at `i` (the opening quote); doubled quotes stay inside.
/// `backslash`: E'' strings, where \ escapes the next character.
size_t QuotedEnd(std::string_view sql, size_t i, char quote, bool backslash, bool* unterminated) {
  size_t j = i + 1;
  while (j < sql.size()) {
    if (backslash && sql[j] == '\\') { j += 2; continue; }
    if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) { j += 2; continue; }
      return j + 1;
    }
    ++j;
  }
  *unterminated = true;
  return sql.size();
}

/// $tag$ ... $tag$ starting at i; returns npos when `sql[i..]` is not a dollar quote opening.
size_t DollarQuoteEnd(std::string_view sql, size_t i, bool* unterminated) {
  size_t j = i + 1;
  while (j < sql.size() && IsIdentChar(sql[j]) && sql[j] != '$') ++j;
  if (j >= sql.size() || sql[j] != '$') return std::string_view::npos;
  if (j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) return std::string_view::npos;
  std::string_view tag = sql.substr(i, j - i + 1);
  size_t close = sql.find(tag, j + 1);
  if (close == std::string_view::npos) { *unterminated = true; return sql.size(); }
  return close + tag.size();
}

}  // namespace

std::vector<Token> Tokenize(std::string_view sql, bool* unterminated) {
  bool dummy = false;
  bool* open = unterminated != nullptr ? unterminated : &dummy;
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    size_t after = SkipComment(sql, i, open);
    if (after != i) { i = after; continue; }
    Token t{TokenKind::kPunctuation, {}, {}, i};
    size_t end = i + 1;
    if ((c == 'e' || c == 'E') && i + 1 < sql.size() && sql[i + 1] == '\'') {
      t.kind = TokenKind::kString;
      end = QuotedEnd(sql, i + 1, '\'', true, open);
      t.lower = std::string(sql.substr(i + 2, end > i + 3 ? end - i - 3 : 0));
    } else if (c == '\'') {
      t.kind = TokenKind::kString;
      end = QuotedEnd(sql, i, '\'', false, open);
      t.lower = std::string(sql.substr(i + 1, end > i + 2 ? end - i - 2 : 0));
    } else if (c == '"') {
      t.kind = TokenKind::kQuoted;
      end = QuotedEnd(sql, i, '"', false, open);
      std::string name;
      for (size_t k = i + 1; k + 1 < end; ++k) {
        name += sql[k];
        if (sql[k] == '"') ++k;
      }
      t.lower = name;
    } else if (c == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      t.kind = TokenKind::kParameter;
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
    } else if (c == '$' && DollarQuoteEnd(sql, i, open) != std::string_view::npos) {
      t.kind = TokenKind::kString;
      end = DollarQuoteEnd(sql, i, open);
    } else if (IsIdentStart(c)) {
      t.kind = TokenKind::kWord;
      while (end < sql.size() && IsIdentChar(sql[end])) ++end;
      t.lower = Lower(sql.substr(i, end - i));
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
      t.kind = TokenKind::kNumber;
      while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '.' ||
                                  ((sql[end] == '+' || sql[end] == '-') &&
                                   (sql[end - 1] == 'e' || sql[end - 1] == 'E')))) {
        ++end;
      }
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      t.kind = TokenKind::kOperator;
      end = i + 2;
    } else if (IsOperatorChar(c)) {
      t.kind = TokenKind::kOperator;
      while (end < sql.size() && IsOperatorChar(sql[end]) && sql.compare(end, 2, "--") != 0 &&
             sql.compare(end, 2, "/*") != 0) {
        ++end;
      }
    }
    t.text = sql.substr(i, end - i);
    if (t.kind == TokenKind::kPunctuation || t.kind == TokenKind::kOperator ||
        t.kind == TokenKind::kNumber || t.kind == TokenKind::kParameter) {
      t.lower = std::string(t.text);
    }
    tokens.push_back(std::move(t));
    i = end;
  }
  return tokens;
}

std::vector<std::string> SplitStatements(std::string_view sql) {
  std::vector<std::string> out;
  bool open = false;
  std::vector<Token> tokens = Tokenize(sql, &open);
  size_t start = 0;
  int depth = 0;
  auto flush = [&](size_t end) {
    std::string_view piece = sql.substr(start, end - start);
    if (!Tokenize(piece).empty()) out.emplace_back(piece);
  };
  for (const Token& t : tokens) {
    if (t.text == "(" || t.text == "[") ++depth;
    if ((t.text == ")" || t.text == "]") && depth > 0) --depth;
    if (t.text == ";" && depth == 0) {
      flush(t.begin);
      start = t.begin + 1;
    }
  }
  flush(sql.size());
  if (out.empty()) out.emplace_back();
  return out;
}

namespace {

/// A token's text as it should be written back, given the rewrite of the token stream.
struct Edit {
  size_t begin;
  size_t end;
  std::string text;
};

std::string ApplyEdits(std::string_view sql, const std::vector<Edit>& edits) {
  std::string out;
  size_t at = 0;
  for (const Edit& e : edits) {
    if (e.begin < at) continue;
    out.append(sql.substr(at, e.begin - at));
    out += e.text;
    at = e.end;
  }
  out.append(sql.substr(at));
  return out;
}

size_t EndOf(const Token& t) { return t.begin + t.text.size(); }

bool IsIdentifierToken(const Token& t) {
  return t.kind == TokenKind::kWord || t.kind == TokenKind::kQuoted;
}

/// A regex literal made partial (PostgreSQL's ~ matches anywhere; DuckDB's matches the whole).
std::string PartialPattern(const Token& literal) {
  std::string_view text = literal.text;
  bool escaped = !text.empty() && (text[0] == 'e' || text[0] == 'E');
  std::string body(text.substr(escaped ? 2 : 1, text.size() - (escaped ? 3 : 2)));
  return std::string(escaped ? "E'" : "'") + "(?s).*(?:" + body + ").*'";
}

}  // namespace

std::string RewriteCatalogQuery(std::string_view sql) {
  std::vector<Token> t = Tokenize(sql);
  std::vector<Edit> edits;
  for (size_t i = 0; i < t.size(); ++i) {
    const Token& tok = t[i];
    bool dotted = i + 1 < t.size() && t[i + 1].text == ".";
    if (tok.kind == TokenKind::kWord && tok.lower == "operator" && i + 4 < t.size() &&
        t[i + 1].text == "(" && t[i + 2].lower == "pg_catalog" && t[i + 3].text == "." &&
        t[i + 5].text == ")") {
      // OPERATOR(pg_catalog.~) -> ~
      edits.push_back({tok.begin, EndOf(t[i + 5]), " " + std::string(t[i + 4].text) + " "});
      i += 5;
      continue;
    }
    if (tok.kind == TokenKind::kWord && tok.lower == "collate" && i + 1 < t.size()) {
      size_t last = i + 1;
      if (last + 2 < t.size() && t[last + 1].text == ".") last += 2;
      edits.push_back({tok.begin, EndOf(t[last]), ""});
      i = last;
      continue;
    }
    if ((tok.kind == TokenKind::kWord || tok.kind == TokenKind::kQuoted) && dotted &&
        (i == 0 || t[i - 1].text != ".")) {
      if (tok.lower == "pg_catalog") {
        // A function or a type: unqualified, so the search path finds the shadow's macro or
        // DuckDB's built-in. A relation: the shadow's table.
        bool call = i + 3 < t.size() && t[i + 3].text == "(";
        bool type = i > 0 && t[i - 1].text == "::";
        if (call || type) {
          edits.push_back({tok.begin, EndOf(t[i + 1]), ""});
        } else {
          edits.push_back({tok.begin, EndOf(tok), "plexus_pg"});
        }
      }
      if (tok.lower == "information_schema") edits.push_back({tok.begin, EndOf(tok), "plexus_is"});
      continue;
    }
    if (tok.kind == TokenKind::kOperator && (tok.text == "~" || tok.text == "!~") &&
        i + 1 < t.size() && t[i + 1].kind == TokenKind::kString && t[i + 1].text[0] != '$') {
      edits.push_back({t[i + 1].begin, EndOf(t[i + 1]), PartialPattern(t[i + 1])});
      ++i;
      continue;
    }
    if (tok.kind == TokenKind::kWord && (tok.lower == "generate_series" || tok.lower == "unnest") &&
        i + 1 < t.size() && t[i + 1].text == "(") {
      // FROM generate_series(...) s: in PostgreSQL `s` also names the column; in DuckDB it
      // would be the row. s -> s(s).
      size_t close = i + 1;
      for (int depth = 0; close < t.size(); ++close) {
        if (t[close].text == "(") ++depth;
        if (t[close].text == ")" && --depth == 0) break;
      }
      size_t alias = close + 1;
      if (alias < t.size() && t[alias].lower == "as") ++alias;
      static const char* kNotAlias[] = {"where", "join", "left", "right", "inner", "cross", "on",
                                        "order", "group", "limit", "union", "with", "full"};
      if (alias < t.size() && IsIdentifierToken(t[alias]) &&
          std::none_of(std::begin(kNotAlias), std::end(kNotAlias),
                       [&](const char* w) { return t[alias].lower == w; }) &&
          (alias + 1 >= t.size() || t[alias + 1].text != "(")) {
        edits.push_back({EndOf(t[alias]), EndOf(t[alias]), "(" + std::string(t[alias].text) + ")"});
      }
      continue;
    }
    if (tok.text == "::" && i + 1 < t.size()) {
      size_t type = i + 1;
      if (type + 2 < t.size() && t[type].lower == "pg_catalog" && t[type + 1].text == ".") type += 2;
      const std::string& name = t[type].lower;
      if (name != "regclass" && name != "regtype" && name != "regnamespace" && name != "regproc") {
        continue;
      }
      // x::regclass -> plexus_regclass(x): an oid's name, or a name's oid (a string literal).
      bool literal = i > 0 && t[i - 1].kind == TokenKind::kString;
      std::string fn = "plexus_" + name + (literal ? "_oid" : "_name");
      size_t operand = i - 1;
      if (!literal && i > 0 && t[i - 1].text == ")") {
        int depth = 0;
        for (size_t k = i - 1;; --k) {
          if (t[k].text == ")") ++depth;
          if (t[k].text == "(" && --depth == 0) { operand = k; break; }
          if (k == 0) break;
        }
      } else if (!literal) {
        while (operand >= 2 && t[operand - 1].text == ".") operand -= 2;
      }
      if (i == 0) continue;
      edits.push_back({t[operand].begin, t[operand].begin, fn + "("});
      edits.push_back({tok.begin, EndOf(t[type]), ")"});
      i = type;
    }
  }
  // By position; an insertion before the replacement that starts at the same place.
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return (a.end == a.begin) > (b.end == b.begin);
  });
  return ApplyEdits(sql, edits);
}

}  // namespace plexus::server::pg
