// File: plexus/access/sql_guard.h
//
// The one gate every SQL text passes, from a consumer (CLI, HTTP, wire) or from a pipeline.
// It parses with DuckDB's own parser (json_serialize_sql), accepts exactly one SELECT, resolves
// every table name through a RelationResolver (product ports for consumers; a pipeline's
// inputs for pipelines), refuses table functions and scalar functions outside an allowlist,
// and returns SQL whose table references point at the physical relations
// (json_deserialize_sql), with each reference aliased to the name the user wrote so qualified
// column references keep working.
//
//   PortResolver resolver(...);                       // a RelationResolver
//   PLEXUS_ASSIGN_OR_RETURN(GuardedQuery q, guard.Check(sql, resolver));
//   PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(q.sql));
//
// A refusal is Status kPermissionDenied (a statement, function or name that is not allowed) or
// kInvalidArgument (SQL that does not parse); its message names what was refused.
// Thread safety: SqlGuard uses its parser connection; one thread at a time.
#pragma once

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

/// Where a table name points. Today a physical table; later issues may return a subquery
/// (masks and row filters) through the same seam.
struct ResolvedRelation {
  std::string catalog;  ///< attached database name, e.g. plx_orders
  std::string schema;   ///< e.g. main
  std::string table;    ///< e.g. orders__orders__v1
  std::string logical_name;  ///< what the query named, e.g. orders.orders.orders
  std::string warning;       ///< said to the consumer with the result, e.g. a deprecated version
};

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
  /// `parser` is a connection used only to call json_serialize_sql/json_deserialize_sql; the
  /// guard does not own it and it must outlive the guard.
  explicit SqlGuard(engine::Connection* parser) : parser_(parser) {}

  /// Checks and rewrites one SQL text. CTE names defined in the query resolve to the CTE, not
  /// through the resolver; every other table name goes through the resolver.
  Result<GuardedQuery> Check(std::string_view sql, const RelationResolver& resolver) const;

  /// True when `name` (lower case) is a function a query may call.
  static bool IsAllowedFunction(std::string_view name);

 private:
  struct ParserStatements;
  /// Prepares the json_serialize_sql / json_deserialize_sql calls on first use.
  Status PrepareStatements() const;

  engine::Connection* parser_;
  /// Prepared on the parser connection on first use; copies of the guard share them, as they
  /// share the connection.
  mutable std::shared_ptr<ParserStatements> statements_;
};

}  // namespace plexus::access
