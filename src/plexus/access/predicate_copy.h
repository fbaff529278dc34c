// File: plexus/access/predicate_copy.h (internal to the access module)
//
// Copies a consumer's simple predicates into the derived table of a secured relation, on the
// raw column, so DuckDB can push them into the scan (zone maps, table filters). The derived
// table wraps every column of a filtered port in CASE WHEN (filter), which keeps a user's
// predicate from ever meeting a hidden row but also hides the column from DuckDB's pushdown.
//
//   SELECT ... FROM customers c WHERE c.customer_id BETWEEN 1000 AND 1999
//   -- the derived table's WHERE becomes: (filter) AND ("customer_id" BETWEEN 1000 AND 1999)
//   -- and the outer WHERE stays as written.
//
// What is copied (each of these cannot fail, has no side effect, and only removes rows the
// outer WHERE removes too; docs/adr/0006-access-control.md, "Copied predicates"):
//   - a top-level AND conjunct of the SELECT node's WHERE,
//   - naming one clear column (ResolvedRelation::clear_columns: never a masked one) of a secured
//     relation that is a direct FROM item or inside INNER/CROSS joins only, qualified by its
//     alias (or unqualified when it is the node's only FROM item),
//   - compared (=, <, <=, >, >=, BETWEEN, IN list) with constants of the column's own kind, so
//     DuckDB never casts the column (signed integer columns with integer literals, VARCHAR with
//     string literals, DATE with a valid 'YYYY-MM-DD' literal), or IS [NOT] NULL.
// Anything else is left where the user wrote it. Thread safety: plain functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"

namespace plexus::access {

/// A secured derived table of one SELECT node's FROM that predicates may be copied into.
struct CopyTarget {
  std::string alias;                 ///< lower case: the name the query reads it by
  std::vector<PlainColumn> columns;  ///< its clear columns, with their types
  nlohmann::json* ref = nullptr;     ///< its reference in the statement (PlaceholderRef)
  nlohmann::json* copied = nullptr;  ///< its copied predicates: an array, appended to
};

/// Copies every simple conjunct of `where` (a SELECT node's WHERE, already walked) to the
/// `copied` predicates of the target it names (ANDed to its derived table's WHERE, AndInto).
/// `lone` says the node's FROM is that one target (unqualified column names then bind to it).
void CopySimplePredicates(const nlohmann::json& where, std::vector<CopyTarget>& targets,
                          bool lone);

/// ANDs `predicate` to `where` (a WHERE clause, null when there is none).
void AndInto(nlohmann::json& where, nlohmann::json predicate);

}  // namespace plexus::access
