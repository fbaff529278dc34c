// Classify: where each statement of a client goes (see pg_metadata.h).
#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_metadata_internal.h"

namespace plexus::server::pg {

Statement Refused(std::string_view sql, std::string sqlstate, std::string message) {
  Statement st;
  st.kind = StatementKind::kRefused;
  st.sql = std::string(sql);
  st.error = {std::move(sqlstate), std::move(message)};
  return st;
}

Statement MakeStatement(std::string_view sql, StatementKind kind, std::string tag,
                        std::string name) {
  Statement st;
  st.kind = kind;
  st.sql = std::string(sql);
  st.tag = std::move(tag);
  st.name = std::move(name);
  return st;
}

bool IsObjectName(const Token& t) {
  return t.kind == TokenKind::kWord || (t.kind == TokenKind::kQuoted && !t.lower.empty());
}

namespace {

Statement Simple(std::string_view sql, StatementKind kind, std::string tag) {
  return MakeStatement(sql, kind, std::move(tag));
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool IsNameToken(const Token& t) { return t.kind == TokenKind::kWord || t.kind == TokenKind::kQuoted; }

/// Relations of the catalog the shadow answers for when named without a schema.
bool IsCatalogRelation(const std::string& name) {
  static const std::set<std::string> kNames = {
      "pg_am", "pg_attrdef", "pg_attribute", "pg_class", "pg_collation", "pg_constraint",
      "pg_database", "pg_description", "pg_enum", "pg_index", "pg_inherits", "pg_namespace",
      "pg_proc", "pg_range", "pg_roles", "pg_settings", "pg_tables", "pg_type", "pg_user",
      "pg_views", "pg_matviews", "pg_policy", "pg_statistic_ext", "pg_publication",
      "pg_publication_rel", "pg_publication_namespace", "pg_extension", "pg_trigger",
      "pg_rewrite", "pg_depend", "pg_shdescription", "pg_tablespace", "pg_authid",
      "pg_auth_members", "pg_stat_activity", "pg_indexes", "pg_sequence", "pg_foreign_table",
      "pg_partitioned_table", "pg_operator", "pg_language", "pg_event_trigger"};
  return kNames.count(name) != 0;
}

bool IsCatalogTableFunction(const std::string& name) {
  return name == "generate_series" || name == "unnest" || name == "generate_subscripts";
}

/// Names defined by WITH: `name [(cols)] AS [NOT] [MATERIALIZED] (`.
std::set<std::string> CteNames(const std::vector<Token>& t) {
  std::set<std::string> names;
  for (size_t i = 0; i + 2 < t.size(); ++i) {
    if (!IsNameToken(t[i])) continue;
    size_t j = i + 1;
    if (t[j].text == "(") {
      while (j < t.size() && t[j].text != ")") ++j;
      ++j;
    }
    if (j >= t.size() || t[j].lower != "as") continue;
    ++j;
    if (j < t.size() && t[j].lower == "not") ++j;
    if (j < t.size() && t[j].lower == "materialized") ++j;
    if (j < t.size() && t[j].text == "(") names.insert(t[i].lower);
  }
  return names;
}

/// True when a read query reads nothing but the catalog (or no table at all). Any relation
/// it cannot place, a name with three or more parts outside the catalog schemas, or a quoted
/// schema holding a dot ("domain.product") makes it a data query.
bool ReadsOnlyCatalog(const std::vector<Token>& t) {
  std::set<std::string> ctes = CteNames(t);
  static const std::set<std::string> kEndFrom = {
      "where", "group", "having", "order", "limit", "offset", "union", "intersect", "except",
      "window", "qualify", "fetch", "select", "on", "using", "returning", "for"};
  std::vector<bool> in_from{false};  // per bracket depth
  bool expect_relation = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const Token& tok = t[i];
    if (tok.text == "(") { in_from.push_back(false); expect_relation = false; continue; }
    if (tok.text == ")") { if (in_from.size() > 1) in_from.pop_back(); continue; }
    if (tok.kind == TokenKind::kWord && (tok.lower == "from" || tok.lower == "join")) {
      in_from.back() = true;
      expect_relation = true;
      continue;
    }
    if (tok.kind == TokenKind::kWord && kEndFrom.count(tok.lower) != 0) in_from.back() = false;
    if (tok.text == "," && in_from.back()) { expect_relation = true; continue; }
    if (tok.kind == TokenKind::kWord && tok.lower == "lateral") continue;
    // A dotted name anywhere: collect its parts.
    if (!IsNameToken(tok) || (i > 0 && t[i - 1].text == ".")) { expect_relation = false; continue; }
    std::vector<const Token*> parts{&tok};
    size_t j = i;
    while (j + 2 < t.size() && t[j + 1].text == "." && IsNameToken(t[j + 2])) {
      parts.push_back(&t[j + 2]);
      j += 2;
    }
    bool catalog_schema = parts.size() > 1 && (parts[0]->lower == "pg_catalog" ||
                                               parts[0]->lower == "information_schema");
    for (const Token* p : parts) {
      if (p->kind == TokenKind::kQuoted && p->lower.find('.') != std::string::npos &&
          !catalog_schema) {
        return false;
      }
    }
    if (parts.size() >= 3 && !catalog_schema) return false;
    bool function = j + 1 < t.size() && t[j + 1].text == "(";
    if (expect_relation) {
      const std::string& last = parts.back()->lower;
      if (function) {
        if (!IsCatalogTableFunction(last)) return false;
      } else if (parts.size() == 1) {
        if (ctes.count(last) == 0 && !IsCatalogRelation(last)) return false;
      } else if (!catalog_schema) {
        return false;
      }
    }
    expect_relation = false;
    i = j;
  }
  return true;
}

Statement ClassifySet(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyShow(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyTransaction(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyCopy(std::string_view sql, const std::vector<Token>& t);

Statement ClassifyRead(std::string_view sql, const std::vector<Token>& t) {
  if (ReadsOnlyCatalog(t)) {
    Statement st = Simple(sql, StatementKind::kCatalog, "SELECT");
    st.sql = RewriteCatalogQuery(sql);
    return st;
  }
  return Simple(sql, StatementKind::kData, "SELECT");
}

/// Statements that change data or schema: what PostgreSQL answers in a read-only transaction.
bool IsWrite(const std::string& word) {
  static const std::set<std::string> kWrites = {
      "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "comment",
      "vacuum", "analyze", "analyse", "cluster", "reindex", "refresh", "lock", "import",
      "export", "checkpoint", "upsert", "replace", "security", "reassign", "select_into"};
  return kWrites.count(word) != 0;
}

/// Commands a consumer may never run, whatever the transaction.
bool IsForbidden(const std::string& word) {
  static const std::set<std::string> kForbidden = {
      "grant", "revoke", "attach", "detach", "install", "load", "pragma", "call", "do", "use",
      "notify", "copy_from"};
  return kForbidden.count(word) != 0;
}

}  // namespace

bool IsQuery(const Statement& statement) {
  return (statement.kind == StatementKind::kData && statement.tag == "SELECT") ||
         statement.kind == StatementKind::kCatalog;
}

Statement Classify(std::string_view sql) {
  bool unterminated = false;
  std::vector<Token> t = Tokenize(sql, &unterminated);
  if (t.empty()) return Simple(sql, StatementKind::kEmpty, "");
  if (unterminated) {
    return Refused(sql, "42601", "syntax error: unterminated quoted string or comment");
  }
  const std::string& first = t[0].lower;
  if (first == "select" || first == "with" || first == "values" || first == "table" ||
      t[0].text == "(") {
    // SELECT ... INTO creates a table.
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      if (t[i].lower == "into" && first == "select") {
        return Refused(sql, "25006", "cannot execute SELECT INTO in a read-only transaction");
      }
    }
    return ClassifyRead(sql, t);
  }
  if (first == "set") return ClassifySet(sql, t);
  if (first == "reset") {
    Statement st = Simple(sql, StatementKind::kReset, "RESET");
    st.name = t.size() > 1 ? t[1].lower : "";
    if (st.name.empty()) return Refused(sql, "42601", "syntax error at end of input");
    return st;
  }
  if (first == "show") return ClassifyShow(sql, t);
  if (first == "begin" || first == "start" || first == "commit" || first == "end" ||
      first == "rollback" || first == "abort" || first == "savepoint" || first == "release") {
    return ClassifyTransaction(sql, t);
  }
  if (first == "discard") {
    return Simple(sql, StatementKind::kNoOp, "DISCARD " + (t.size() > 1 ? Upper(t[1].lower) : "ALL"));
  }
  if (first == "prepare") return ClassifyPrepare(sql, t);
  if (first == "execute") return ClassifyExecute(sql, t);
  if (first == "deallocate") return ClassifyDeallocate(sql, t);
  if (first == "listen" || first == "unlisten") {
    return Simple(sql, StatementKind::kNoOp, Upper(first));
  }
  if (first == "declare") return ClassifyDeclare(sql, t);
  if (first == "fetch" || first == "move") return ClassifyFetch(sql, t);
  if (first == "close") return ClassifyClose(sql, t);
  if (first == "copy") return ClassifyCopy(sql, t);
  if (IsWrite(first)) {
    return Refused(sql, "25006",
                   "cannot execute " + Upper(first) + " in a read-only transaction: Plexus serves "
                   "data products read-only (change them with plexus apply and pipelines)");
  }
  if (IsForbidden(first)) {
    return Refused(sql, "42501", "permission denied: " + Upper(first) + " is not allowed");
  }
  // Fail closed: whatever else it is, the SQL guard decides (and refuses what it does not know).
  return Simple(sql, StatementKind::kData, Upper(first));
}

namespace {

/// The value of SET from token `from` on, as written, quotes removed: "a, b", "-1", "5s".
std::string ValueText(const std::vector<Token>& t, size_t from) {
  std::string out;
  for (size_t i = from; i < t.size(); ++i) {
    if (t[i].text == ",") {
      out += ", ";
      continue;
    }
    bool glue = i == from || t[i - 1].text == "," || t[i - 1].kind == TokenKind::kOperator;
    if (!glue) out += " ";
    bool quoted = t[i].kind == TokenKind::kString || t[i].kind == TokenKind::kQuoted;
    out += quoted ? t[i].lower : std::string(t[i].text);
  }
  return out;
}

Statement ClassifySet(std::string_view sql, const std::vector<Token>& t) {
  size_t i = 1;
  if (i < t.size() && (t[i].lower == "session" || t[i].lower == "local")) {
    if (t[i].lower == "session" && i + 1 < t.size() &&
        (t[i + 1].lower == "authorization" || t[i + 1].lower == "characteristics")) {
      if (t[i + 1].lower == "characteristics") return Simple(sql, StatementKind::kNoOp, "SET");
      return Refused(sql, "42501", "permission denied: SET SESSION AUTHORIZATION is not allowed");
    }
    ++i;
  }
  if (i >= t.size()) return Refused(sql, "42601", "syntax error at end of input");
  const std::string& word = t[i].lower;
  if (word == "role") return Refused(sql, "42501", "permission denied: SET ROLE is not allowed");
  if (word == "transaction" || word == "constraints") return Simple(sql, StatementKind::kNoOp, "SET");
  Statement st = Simple(sql, StatementKind::kSet, "SET");
  size_t value_at = i + 1;
  if (word == "time" && i + 1 < t.size() && t[i + 1].lower == "zone") {
    st.name = "timezone";
    value_at = i + 2;
  } else if (word == "names") {
    st.name = "client_encoding";
  } else {
    st.name = t[i].lower;
    // custom parameters: prefix.name
    while (value_at + 1 < t.size() && t[value_at].text == "." ) {
      st.name += "." + t[value_at + 1].lower;
      value_at += 2;
    }
    if (value_at < t.size() && (t[value_at].text == "=" || t[value_at].lower == "to")) {
      ++value_at;
    } else {
      return Refused(sql, "42601", "syntax error in SET: expected = or TO after " + st.name);
    }
  }
  st.value = ValueText(t, value_at);
  if (value_at < t.size() && value_at + 1 == t.size() && t[value_at].kind == TokenKind::kWord &&
      (t[value_at].lower == "default" || (st.name == "timezone" && t[value_at].lower == "local"))) {
    st.kind = StatementKind::kReset;
    st.tag = "SET";
    st.value.clear();
  }
  return st;
}

Statement ClassifyShow(std::string_view sql, const std::vector<Token>& t) {
  Statement st = Simple(sql, StatementKind::kShow, "SHOW");
  if (t.size() < 2) return Refused(sql, "42601", "syntax error at end of input");
  if (t[1].lower == "time" && t.size() > 2 && t[2].lower == "zone") {
    st.name = "timezone";
  } else if (t[1].lower == "transaction" && t.size() > 3) {
    st.name = "transaction_isolation";
  } else if (t[1].lower == "session" && t.size() > 2 && t[2].lower == "authorization") {
    st.name = "session_authorization";
  } else if (IsNameToken(t[1])) {
    st.name = t[1].lower;
    for (size_t i = 2; i + 1 < t.size() && t[i].text == "."; i += 2) st.name += "." + t[i + 1].lower;
  } else {
    return Refused(sql, "42601", "syntax error at or near \"" + std::string(t[1].text) + "\"");
  }
  return st;
}

Statement ClassifyTransaction(std::string_view sql, const std::vector<Token>& t) {
  const std::string& first = t[0].lower;
  auto has = [&](const char* word) {
    return std::any_of(t.begin(), t.end(), [&](const Token& x) { return x.lower == word; });
  };
  Statement st = Simple(sql, StatementKind::kTransaction, "");
  if (first == "begin" || first == "start") {
    if (first == "start" && (t.size() < 2 || t[1].lower != "transaction")) {
      return Refused(sql, "42601", "syntax error: START TRANSACTION expected");
    }
    if (has("write") && !has("only")) {
      return Refused(sql, "25006", "cannot begin a read-write transaction: Plexus is read-only");
    }
    st.tag = first == "begin" ? "BEGIN" : "START TRANSACTION";
    st.transaction = TransactionEffect::kBegin;
  } else if (first == "commit" || first == "end") {
    if (has("prepared")) return Refused(sql, "0A000", "prepared transactions are not supported");
    st.tag = "COMMIT";
    st.transaction = TransactionEffect::kCommit;
  } else if (first == "rollback" || first == "abort") {
    if (has("prepared")) return Refused(sql, "0A000", "prepared transactions are not supported");
    st.tag = "ROLLBACK";
    st.transaction = has("to") ? TransactionEffect::kRollbackToSavepoint : TransactionEffect::kRollback;
  } else if (first == "savepoint") {
    st.tag = "SAVEPOINT";
    st.transaction = TransactionEffect::kSavepoint;
  } else {  // release
    st.tag = "RELEASE";
    st.transaction = TransactionEffect::kSavepoint;
  }
  return st;
}

/// COPY (query) TO STDOUT [options] and COPY name [(cols)] TO STDOUT: a data query whose
/// sql is the query; anything else (FROM, a file, a program) is refused.
Statement ClassifyCopy(std::string_view sql, const std::vector<Token>& t) {
  size_t to = 0;
  int depth = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i].text == "(") ++depth;
    if (t[i].text == ")") --depth;
    if (depth == 0 && (t[i].lower == "to" || t[i].lower == "from")) { to = i; break; }
  }
  if (to == 0) return Refused(sql, "42601", "syntax error in COPY: expected TO STDOUT");
  if (t[to].lower == "from") {
    return Refused(sql, "25006", "cannot execute COPY FROM in a read-only transaction");
  }
  if (to + 1 >= t.size() || t[to + 1].lower != "stdout") {
    return Refused(sql, "42501", "permission denied: COPY TO a file or program is not allowed; "
                                 "use COPY ... TO STDOUT");
  }
  Statement st = Simple(sql, StatementKind::kData, "COPY");
  size_t options = to + 2;
  st.value = options < t.size() ? std::string(sql.substr(t[options].begin)) : "";
  if (t[1].text == "(") {
    size_t close = to - 1;  // the bracket before TO
    st.sql = std::string(sql.substr(t[2].begin, t[close].begin - t[2].begin));
  } else {
    size_t end = to;
    std::string columns = "*";
    for (size_t i = 1; i < to; ++i) {
      if (t[i].text == "(") {
        columns = std::string(sql.substr(t[i + 1].begin, t[to - 1].begin - t[i + 1].begin));
        end = i;
        break;
      }
    }
    st.sql = "SELECT " + columns + " FROM " +
             std::string(sql.substr(t[1].begin, t[end - 1].begin + t[end - 1].text.size() - t[1].begin));
  }
  return st;
}

}  // namespace
}  // namespace plexus::server::pg
