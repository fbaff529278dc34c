// File: plexus/engine/sql_parse.h
//
// DuckDB's SQL parser in process: the JSON tree of a text's statements and the SQL text of
// such a tree, exactly as the SQL functions json_serialize_sql / json_deserialize_sql give
// them, without running a query (so without DuckDB's per-statement overhead of about 0.1 to
// 0.2 ms each). These are the only calls into DuckDB's C++ API (headers from the same pinned
// release as libduckdb.so, third_party/duckdb/include-cpp); nothing of it leaks out of here.
//
//   std::string json = engine::SerializeSql("SELECT 1");   // {"error":false,"statements":[...]}
//   PLEXUS_ASSIGN_OR_RETURN(std::string sql, engine::DeserializeSql(json));
//
// Thread safety: both functions are pure; any thread may call them at any time.
#pragma once

#include <string>
#include <string_view>

#include "plexus/common/status.h"

namespace plexus::engine {

/// What `SELECT json_serialize_sql(sql)` returns, byte for byte: `{"error":false,"statements":
/// [...]}` with one tree per statement, or `{"error":true,"error_type":...,"error_message":...}`
/// when the text does not parse or holds a statement that is not a SELECT. kInvalidArgument
/// only when `sql` is not valid UTF-8 (DuckDB refuses such a VARCHAR). The text is read up to
/// its first NUL byte, as DuckDB's parser does: callers that must check all of it refuse NULs.
Result<std::string> SerializeSql(std::string_view sql);

/// What `SELECT json_deserialize_sql(json)` returns: the statements of a tree written by
/// SerializeSql (or edited from one) as SQL text, joined by "; ". kInvalidArgument with
/// DuckDB's message when the JSON is not such a tree.
Result<std::string> DeserializeSql(std::string_view json);

}  // namespace plexus::engine
