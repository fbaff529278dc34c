// File: plexus/engine/value_text.h (engine-internal)
//
// Renders values straight from DuckDB vectors as text, recursively for LIST, ARRAY, STRUCT
// and MAP, and names types the way DuckDB spells them. Used by DataChunk; never installed.
#pragma once

#include <string>

#include <duckdb.h>

#include "plexus/engine/engine.h"

namespace plexus::engine::internal {

/// Appends the text of row `row` of `vector` (of type `type`) to `out`. NULL renders "NULL"
/// inside nested values and nothing at the top level (callers check validity first).
void AppendVectorValue(duckdb_vector vector, duckdb_logical_type type, idx_t row,
                       std::string& out, bool nested);

/// Appends row `row` of `vector` as JSON (DataChunk::AppendJson), recursively.
void AppendJsonValue(duckdb_vector vector, duckdb_logical_type type, idx_t row, std::string& out);

/// "BIGINT", "DECIMAL(18,2)", "VARCHAR[]", "STRUCT(a INTEGER)"...
std::string TypeName(duckdb_logical_type type);

JsonKind JsonKindOf(duckdb_logical_type type);

/// Numeric value of a numeric cell (0 when not numeric).
double NumericValue(duckdb_vector vector, duckdb_logical_type type, idx_t row);
/// Integer value of a numeric cell, exact for every integer type that fits (not through a
/// double, which rounds BIGINTs above 2^53); others are truncated and clamped to int64's range.
int64_t IntegerValue(duckdb_vector vector, duckdb_logical_type type, idx_t row);

}  // namespace plexus::engine::internal
