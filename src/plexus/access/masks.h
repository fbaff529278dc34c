// File: plexus/access/masks.h
//
// Column masks and row filters as SQL: what a consumer outside a port's domain reads instead of
// the physical table. The access policy (access_policy.h) decides, per principal and port,
// which columns are masked and whether the row filter applies; this file writes the SELECT.
//
//   std::vector<ColumnView> columns = {{"customer_id", "BIGINT", ""},
//                                      {"email", "VARCHAR", "hash"}};
//   PLEXUS_ASSIGN_OR_RETURN(std::string select,
//       SecuredSelect("plx_customers", "main", "customers__customers__v1", columns,
//                     "country = principal_attr('country')", salt));
//   // SELECT CASE WHEN plx_row_visible THEN "customer_id" END AS "customer_id",
//   //        CASE WHEN plx_row_visible THEN sha256(...) END AS "email"
//   // FROM (SELECT "customer_id", "email", (country = ...) AS plx_row_visible
//   //       FROM "plx_customers"."main"."customers__customers__v1") WHERE plx_row_visible
//
// Mask specs (case-insensitive): redact, hash, partial(N), null, year, sql(EXPR) where EXPR
// names the column as {column}.
// Thread safety: plain functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"

namespace plexus::access {

/// One column of a port as a reader sees it.
struct ColumnView {
  std::string name;
  std::string engine_type;  ///< the DuckDB type it is stored as, e.g. VARCHAR, DATE
  std::string mask;         ///< mask spec; empty: the clear value
};

/// Checks a mask spec's form and that it fits the column's type (year: DATE or TIMESTAMP
/// types; partial(N): N from 0 to 64). An sql(EXPR) is checked here for form only; its
/// functions are checked by CheckAccessRules (access_rules.h). An empty `engine_type` checks
/// the form only (a mesh-wide rule by classification, before it meets a column).
Status ValidateMaskSpec(std::string_view mask, std::string_view engine_type);

/// Checks that a fragment the platform writes into its SELECT (a row filter, an sql(EXPR)
/// mask, a column type) cannot leave its brackets: balanced quotes and brackets, no ';', no
/// comment, no NUL. kInvalidArgument naming `what` otherwise. It says nothing of what the
/// fragment calls or reads: the guard checks that on every query.
Status CheckSqlFragment(std::string_view text, std::string_view what);

/// The SQL expression that yields the masked value of `column` (unquoted name). NULL stays
/// NULL. redact: '****' for text, NULL of the column's type otherwise; hash: the hex SHA-256 of
/// the salt and the value (stable across ports, so joins on it still work); partial(N): '*'
/// for each character but the last N; null: NULL of the column's type; year: the first day of
/// its year (same type); sql(EXPR): EXPR with {column} replaced by the quoted column.
Result<std::string> MaskExpression(std::string_view mask, std::string_view column,
                                   std::string_view engine_type, std::string_view salt);

/// The column of a secured SELECT's inner projection that holds the row filter's verdict.
inline constexpr std::string_view kRowVisibleColumn = "plx_row_visible";

/// SELECT of every column (masked where `mask` is set, under its own name) FROM the table,
/// WHERE the row filter holds (when not empty). With a row filter, the table is read through
/// an inner projection of its columns (unmasked) and the filter once, as kRowVisibleColumn;
/// the SELECT keeps the rows where it is true and guards each column by CASE WHEN
/// kRowVisibleColumn THEN ... END, so an expression the optimizer evaluates before the filter
/// (a pushed-down predicate, a CAST that fails) never sees a hidden row's value. A port with a
/// row filter and a column of that name is kInvalidArgument.
Result<std::string> SecuredSelect(std::string_view catalog, std::string_view schema,
                                  std::string_view table, const std::vector<ColumnView>& columns,
                                  std::string_view row_filter, std::string_view salt);

}  // namespace plexus::access
