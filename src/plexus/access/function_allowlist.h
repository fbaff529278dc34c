// File: plexus/access/function_allowlist.h (internal to the access module)
//
// The functions a guarded query may call. Allowlists, not denylists: a function DuckDB adds in a
// later release stays refused until someone reads it and lists it here.
//
//   if (!IsAllowedTableFunction("read_csv")) return PermissionDenied(...);
//
// Thread safety: constant data, any thread.
#pragma once

#include <string_view>

namespace plexus::access {

/// True when `name` (lower case) is a scalar, aggregate or window function, or an operator as
/// DuckDB names it in json_serialize_sql ("+", "~~" for LIKE, "||"), that a query may call.
bool IsAllowedScalarFunction(std::string_view name);

/// True when `name` (lower case) is a table function a query may read from (FROM range(10)).
bool IsAllowedTableFunction(std::string_view name);

}  // namespace plexus::access
