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

/// The SUBQUERY table reference that takes the place of `base_ref` (a BASE_TABLE with its
/// alias already set): same alias, column aliases, TABLESAMPLE and query location, with
/// `node` (a SELECT node) as its subquery.
nlohmann::json SecuredSubqueryRef(nlohmann::json base_ref, nlohmann::json node);

}  // namespace plexus::access
