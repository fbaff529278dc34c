// Classify: SQL-level cursors (DECLARE, FETCH / MOVE, CLOSE; see pg_metadata.h). psql's
// FETCH_COUNT and psycopg2's named cursors read a big answer through them, a page at a time.
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_metadata_internal.h"

namespace plexus::server::pg {
namespace {

Statement ForwardOnly(std::string_view sql) {
  return Refused(sql, "55000",
                 "cursor can only scan forward: Plexus cursors are NO SCROLL (FETCH NEXT, "
                 "FORWARD n, n or ALL)");
}

/// A row count as written: digits, optionally after a sign. False when it is not one.
bool ReadCount(const std::vector<Token>& t, size_t* at, int64_t* count) {
  bool negative = false;
  size_t i = *at;
  if (i < t.size() && (t[i].text == "-" || t[i].text == "+")) {
    negative = t[i].text == "-";
    ++i;
  }
  if (i >= t.size() || t[i].kind != TokenKind::kNumber) return false;
  std::string_view digits = t[i].text;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  *count = negative ? -value : value;
  *at = i + 1;
  return true;
}

}  // namespace

Statement ClassifyDeclare(std::string_view sql, const std::vector<Token>& t) {
  if (t.size() < 2 || !IsObjectName(t[1])) {
    return Refused(sql, "42601", "syntax error in DECLARE: expected a cursor name");
  }
  Statement st = MakeStatement(sql, StatementKind::kDeclare, "DECLARE CURSOR");
  st.name = t[1].lower;
  size_t i = 2;
  for (; i < t.size() && t[i].kind == TokenKind::kWord && t[i].lower != "cursor"; ++i) {
    const std::string& word = t[i].lower;
    if (word == "binary") {
      st.binary = true;
    } else if (word == "no" && i + 1 < t.size() && t[i + 1].lower == "scroll") {
      ++i;
    } else if (word == "scroll") {
      return Refused(sql, "0A000", "SCROLL cursors are not supported: Plexus cursors scan "
                                   "forward only (declare NO SCROLL, the default)");
    } else if (word != "asensitive" && word != "insensitive") {
      return Refused(sql, "42601", "syntax error in DECLARE at or near \"" +
                                       std::string(t[i].text) + "\"");
    }
  }
  if (i >= t.size() || t[i].lower != "cursor") {
    return Refused(sql, "42601", "syntax error in DECLARE: expected CURSOR");
  }
  ++i;
  if (i + 1 < t.size() && (t[i].lower == "with" || t[i].lower == "without") &&
      t[i + 1].lower == "hold") {
    st.hold = t[i].lower == "with";
    i += 2;
  }
  if (i >= t.size() || t[i].lower != "for") {
    return Refused(sql, "42601", "syntax error in DECLARE: expected FOR query");
  }
  if (i + 1 >= t.size()) return Refused(sql, "42601", "syntax error at end of input");
  st.sql = std::string(sql.substr(t[i + 1].begin));
  return st;
}

Statement ClassifyFetch(std::string_view sql, const std::vector<Token>& t) {
  std::string command = t[0].lower == "move" ? "MOVE" : "FETCH";
  Statement st = MakeStatement(sql, StatementKind::kFetch, command);
  st.count = 1;
  bool all = false;
  size_t i = 1;
  if (t.size() > 2) {  // a direction, unless the only word left is the cursor's name
    const std::string& word = t[i].kind == TokenKind::kWord ? t[i].lower : std::string();
    bool counted = word.empty() && (t[i].kind == TokenKind::kNumber || t[i].text == "-" ||
                                    t[i].text == "+");
    if (word == "prior" || word == "first" || word == "last" || word == "backward" ||
        word == "absolute" || word == "relative") {
      return ForwardOnly(sql);
    }
    if (word == "next" || word == "all" || word == "forward") ++i;
    all = word == "all";
    if (word == "forward" && i < t.size() && t[i].lower == "all") {
      all = true;
      ++i;
    } else if (word == "forward" && i < t.size() &&
               (t[i].kind == TokenKind::kNumber || t[i].text == "-" || t[i].text == "+")) {
      counted = true;
    }
    if (counted && !ReadCount(t, &i, &st.count)) {
      return Refused(sql, "42601", "syntax error in " + command + ": bad row count");
    }
    if (st.count < 0) return ForwardOnly(sql);
    if (st.count == 0) {
      return Refused(sql, "0A000", command + " 0 (the current row again) is not supported");
    }
    if (all) st.count = -1;
    if (i < t.size() && (t[i].lower == "from" || t[i].lower == "in")) ++i;
  }
  if (i + 1 != t.size() || !IsObjectName(t[i])) {
    return Refused(sql, "42601", "syntax error in " + command + ": expected a cursor name");
  }
  st.name = t[i].lower;
  return st;
}

Statement ClassifyClose(std::string_view sql, const std::vector<Token>& t) {
  if (t.size() != 2 || !IsObjectName(t[1])) {
    return Refused(sql, "42601", "syntax error in CLOSE: expected a cursor name or ALL");
  }
  if (t[1].kind == TokenKind::kWord && t[1].lower == "all") {
    return MakeStatement(sql, StatementKind::kCloseCursor, "CLOSE CURSOR ALL");
  }
  Statement st = MakeStatement(sql, StatementKind::kCloseCursor, "CLOSE CURSOR");
  st.name = t[1].lower;
  return st;
}

}  // namespace plexus::server::pg
