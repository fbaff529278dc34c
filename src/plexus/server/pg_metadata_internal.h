// File: plexus/server/pg_metadata_internal.h
//
// Internal to pg_metadata*.cc: a PostgreSQL-flavoured SQL tokenizer (enough to split, classify
// and rewrite statements; never to decide what a query reads: the SQL guard parses for real),
// the catalog-query rewrite, and the per-principal shadow database.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/server/pg_metadata.h"

namespace plexus::access {
struct Principal;
class AccessPolicy;
}  // namespace plexus::access

namespace plexus::server::pg {

enum class TokenKind {
  kWord,         ///< keyword or unquoted identifier; `lower` holds it in lower case
  kQuoted,       ///< "identifier"; `lower` holds the unquoted name as written
  kString,       ///< '...', E'...', $tag$...$tag$; `lower` holds the value (escapes not undone)
  kNumber,
  kParameter,    ///< $1
  kOperator,     ///< + - * / < > = ~ ! @ # % ^ & | ` ? and combinations, ::
  kPunctuation,  ///< ( ) [ ] , ; . :
};

struct Token {
  TokenKind kind;
  std::string_view text;  ///< as written
  std::string lower;
  size_t begin = 0;       ///< offset in the statement
};

/// Tokens of `sql`, comments skipped. `unterminated` (may be null) is set when a quote or
/// comment runs to the end of the text.
std::vector<Token> Tokenize(std::string_view sql, bool* unterminated = nullptr);

/// A classified statement of `kind` with its tag and name (pg_metadata_classify.cc).
Statement MakeStatement(std::string_view sql, StatementKind kind, std::string tag,
                        std::string name = "");
/// A statement's or cursor's name: a word, or a quoted name that is not empty ("" is no name
/// in PostgreSQL, and here it would be the protocol's unnamed statement or portal).
bool IsObjectName(const Token& t);

/// PREPARE, EXECUTE and DEALLOCATE (pg_metadata_prepared.cc), for Classify: `t` holds the
/// tokens of `sql`, the first one the command word.
Statement ClassifyPrepare(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyExecute(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyDeallocate(std::string_view sql, const std::vector<Token>& t);
/// DECLARE, FETCH / MOVE and CLOSE (pg_metadata_cursor.cc), for Classify.
Statement ClassifyDeclare(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyFetch(std::string_view sql, const std::vector<Token>& t);
Statement ClassifyClose(std::string_view sql, const std::vector<Token>& t);
/// The OID of a PostgreSQL type name as written in a declaration or a cast ("integer",
/// "double precision", "pg_catalog.int8", "varchar(10)", "text[]"); -1 when Plexus does not
/// know it.
int32_t TypeOidOfName(std::string_view name);

/// Rewrites a catalog query for the shadow: pg_catalog.X -> plexus_pg.X, information_schema.X
/// -> plexus_is.X, OPERATOR(pg_catalog.~) -> ~, COLLATE pg_catalog.default dropped, regex
/// matches made partial as in PostgreSQL, ::regclass / ::regtype / ::regnamespace casts to
/// the shadow's lookup macros.
std::string RewriteCatalogQuery(std::string_view sql);

/// The shadow of one principal: an in-memory, hardened DuckDB with its configuration locked,
/// holding an empty table per port the principal may read and PostgreSQL's catalog as tables
/// and macros (schemas plexus_pg and plexus_is).
class MetadataShadow {
 public:
  static Result<std::shared_ptr<MetadataShadow>> Build(
      std::shared_ptr<const access::AccessPolicy> policy, const access::Principal& principal,
      const std::string& now);
  /// A new connection with the shadow's search path.
  Result<std::shared_ptr<engine::Connection>> Connect();
  /// The SQL that builds the catalog (for tests and debugging).
  const std::string& script() const { return script_; }

  std::chrono::steady_clock::time_point built_at;
  std::shared_ptr<const access::AccessPolicy> policy;  ///< the policy it was built from

 private:
  std::unique_ptr<engine::Database> db_;
  std::string script_;
};

/// The SQL that creates the shadow's catalog for these ports (public for the tests).
struct ShadowPort {
  std::string domain;
  std::string product;
  std::string port;
  std::string description;
  struct Column {
    std::string name;
    std::string engine_type;
    bool not_null = false;
    std::string description;
  };
  std::vector<Column> columns;
};
std::string ShadowScript(const std::vector<ShadowPort>& ports, const std::string& user);

/// A statement refused before any engine sees it, with its SQLSTATE.
Statement Refused(std::string_view sql, std::string sqlstate, std::string message);

}  // namespace plexus::server::pg
