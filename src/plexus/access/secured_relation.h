// File: plexus/access/secured_relation.h (internal to the access module)
//
// How the walker turns a secured relation (ResolvedRelation::secured_select) into a derived
// table: the principal functions of the parsed SELECT become constants, then the BASE_TABLE
// reference the user wrote becomes a SUBQUERY reference holding that SELECT.
//
//   PLEXUS_RETURN_IF_ERROR(SubstitutePrincipal(node, *relation.principal));
//   ref = SecuredSubqueryRef(std::move(ref), std::move(node));
//
// Thread safety: plain functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/common/status.h"

namespace plexus::access {

/// Replaces, anywhere in `value` (json_serialize_sql's tree), principal_name() by the
/// principal's name, principal_attr('key') by the attribute (NULL VARCHAR when missing) and
/// principal_in_group('group') by a BOOLEAN constant. A wrong arity or an argument that is not
/// a string constant is kPermissionDenied.
Status SubstitutePrincipal(nlohmann::json& value, const PrincipalContext& principal);

/// The names a secured SELECT's expressions may use as columns, in lower case: the columns it
/// projects (each column of the table, under its own name) and the parameters of its lambdas.
/// Any other name would bind to a column of the user's query (DuckDB binds a derived table's
/// unknown names to earlier FROM items and outer queries), so the walker refuses it. Empty
/// when `node` is not a SELECT node.
std::vector<std::string> SecuredColumnNames(const nlohmann::json& node);

/// What a user's statement can read of a secured relation's columns, found before the walk
/// rewrites it. A derived table projects only these (CopyReachableColumns): fewer masked
/// columns for DuckDB to bind, the same answer.
struct ReachableColumns {
  /// Every column may be read: a star (SELECT *, c.*, COLUMNS(...)), a positional reference
  /// (#1), a PIVOT or UNPIVOT (they group by the columns not named), a NATURAL join (it joins
  /// on the common names), or a tree too deep to look through.
  bool all = false;
  std::vector<std::string> names;       ///< every part of every column reference, USING columns
  std::vector<std::string> last_parts;  ///< the last part of every column reference
};

/// The columns `statement` (json_serialize_sql's statements[i], before any rewrite) names, in
/// lower case, sorted.
ReachableColumns FindReachableColumns(const nlohmann::json& statement);

/// A copy of a secured SELECT (`node`) whose list holds only the columns the statement can
/// reach: those whose name is in `reachable.names`. Copies all of them when `reachable.all`,
/// when the reference renames columns by position (`c(a, b)`), when a column reference's last
/// part is the reference's alias (the whole row, `SELECT c FROM t c`), or when the node is not a
/// plain SELECT list (DISTINCT, GROUP BY). Keeps at least one column, so the row count is
/// unchanged. `ref` is the reference being replaced, its alias set. `node` is not changed.
nlohmann::json CopyReachableColumns(const nlohmann::json& node, const ReachableColumns& reachable,
                                    const nlohmann::json& ref);

/// The SUBQUERY table reference that takes the place of `base_ref` (a BASE_TABLE with its
/// alias already set): same alias, column aliases, TABLESAMPLE and query location, with
/// `node` (a SELECT node) as its subquery.
nlohmann::json SecuredSubqueryRef(nlohmann::json base_ref, nlohmann::json node);

}  // namespace plexus::access
