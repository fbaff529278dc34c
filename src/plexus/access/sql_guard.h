// File: plexus/access/sql_guard.h
//
// The one gate every SQL text passes, from a consumer (CLI, HTTP, wire) or from a pipeline.
// It parses with DuckDB's own parser, in process (engine/sql_parse.h: the JSON tree
// json_serialize_sql gives), accepts exactly one SELECT, resolves
// every table name through a RelationResolver (product ports for consumers; a pipeline's
// inputs for pipelines), refuses table functions and scalar functions outside an allowlist,
// and returns SQL whose table references point at the physical relations (the tree back to SQL,
// as json_deserialize_sql does), with each reference aliased to the name the user wrote so
// qualified column references keep working.
//
//   PortResolver resolver(...);                       // a RelationResolver
//   PLEXUS_ASSIGN_OR_RETURN(GuardedQuery q, guard.Check(sql, resolver));
//   PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(q.sql));
//
// A relation the resolver returns with a secured_select (masks.h) becomes a derived table that
// applies the reader's column masks and row filter before any clause of the query sees a row.
// Errors of running guarded SQL go to consumers through ConsumerErrorMessage only.
//
// A refusal is Status kPermissionDenied (a statement, function or name that is not allowed) or
// kInvalidArgument (SQL that does not parse); its message names what was refused.
// Thread safety: one thread at a time per guard and its copies (they share a cache).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::access {

/// A table name as written in a query: one, two or three parts (empty parts left out).
struct TableName {
  std::string catalog;
  std::string schema;
  std::string table;
  /// "catalog.schema.table" with the empty parts left out.
  std::string ToString() const;
};

/// Who a secured relation is read as: in its SELECT, principal_name(),
/// principal_attr('key') and principal_in_group('group') become constants of these values
/// (an attribute the principal lacks becomes NULL, so a filter on it keeps no row).
struct PrincipalContext {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<std::string> groups;  ///< sorted
};

/// A column of a secured relation that its reader sees in the clear (no mask), and its DuckDB
/// type as stored (e.g. BIGINT, VARCHAR, DATE).
struct PlainColumn {
  std::string name;
  std::string engine_type;
};

/// Where a table name points: a physical table, or (secured_select set) a derived table that
/// applies the reader's column masks and row filter to it.
struct ResolvedRelation {
  std::string catalog;  ///< attached database name, e.g. plx_orders
  std::string schema;   ///< e.g. main
  std::string table;    ///< e.g. orders__orders__v1
  std::string logical_name;  ///< what the query named, e.g. orders.orders.orders
  std::string warning;       ///< said to the consumer with the result, e.g. a deprecated version
  /// When not empty: a SELECT over catalog.schema.table, written by the platform (access
  /// module, masks.h), that replaces the reference as a derived table aliased to the name the
  /// user wrote, so no other clause of the query sees the raw rows. Its principal functions
  /// are replaced by constants of `principal` (required then); it is not resolved, but it is
  /// walked: its functions must be on the allowlist and it may read its own table only, once.
  /// It holds secrets (a hash mask's salt): run its errors through ConsumerErrorMessage.
  std::string secured_select{};
  std::shared_ptr<const PrincipalContext> principal{};
  /// With secured_select: its columns the reader sees unmasked (their raw value on the rows the
  /// filter keeps). The guard may copy a query's simple comparison of one of these with a
  /// constant into the derived table, on the raw column (predicate_copy.h); never a masked
  /// column. Empty: nothing is copied.
  std::vector<PlainColumn> clear_columns{};
};

/// The part of a DuckDB error message (from running guarded SQL) that may be shown to the
/// consumer: its first line ("Binder Error: Referenced column "x" not found in FROM clause!").
/// DuckDB's later lines echo the SQL it ran ("LINE 1: ...") and candidate bindings: with the
/// guard's rewrite that SQL holds physical names and a hash mask's salt. Every caller that
/// reports an error of executing GuardedQuery::sql to a consumer must pass it through this.
std::string ConsumerErrorMessage(std::string_view engine_message);

/// Maps the table names a query may read to relations. Must refuse (kPermissionDenied or
/// kNotFound with a clear message) every name it does not know: deny by default.
class RelationResolver {
 public:
  virtual ~RelationResolver() = default;
  virtual Result<ResolvedRelation> Resolve(const TableName& name) const = 0;
};

/// An accepted query: the SQL to run and the logical relations it reads.
struct GuardedQuery {
  std::string sql;
  std::vector<std::string> relations;  ///< logical names, each once, in first-seen order
  std::vector<std::string> warnings;   ///< the resolver's warnings, each once
};

class SqlGuard {
 public:
  /// The guard parses in process and needs no connection.
  SqlGuard() = default;

  /// Checks and rewrites one SQL text. CTE names defined in the query resolve to the CTE, not
  /// through the resolver; every other table name goes through the resolver.
  Result<GuardedQuery> Check(std::string_view sql, const RelationResolver& resolver) const;

  /// True when `name` (lower case) is a function a query may call.
  static bool IsAllowedFunction(std::string_view name);

 private:
  struct ParsedSecuredSelects;
  /// Made on first use; copies of the guard share it.
  mutable std::shared_ptr<ParsedSecuredSelects> secured_selects_;
};

}  // namespace plexus::access
