// File: plexus/engine/type_node.h (engine-internal)
//
// The type tree of a result column, built once per result (or prepared statement): DuckDB's
// logical type, the TypeId encoders switch on, the decimal/enum physical layout, enum labels
// and the children of nested types. VectorRef points into it; never installed.
#pragma once

#include <duckdb.h>

#include <memory>
#include <string>
#include <vector>

#include "plexus/engine/engine.h"

namespace plexus::engine::internal {

struct LogicalTypeDeleter {
  void operator()(duckdb_logical_type type) const { duckdb_destroy_logical_type(&type); }
};
using LogicalTypePtr =
    std::unique_ptr<std::remove_pointer_t<duckdb_logical_type>, LogicalTypeDeleter>;

struct TypeNode {
  LogicalTypePtr type;
  TypeId id = TypeId::kOther;
  duckdb_type duck_id = DUCKDB_TYPE_INVALID;
  uint8_t width = 0;
  uint8_t scale = 0;
  /// DECIMAL: the storage type (SMALLINT..HUGEINT); ENUM: the index type (UTINYINT..UINTEGER).
  duckdb_type physical = DUCKDB_TYPE_INVALID;
  uint64_t array_size = 0;               ///< ARRAY
  std::vector<std::string> enum_labels;  ///< ENUM
  std::vector<TypeNode> children;        ///< LIST/ARRAY/MAP: one; STRUCT: one per field
};

/// Builds the tree of `type`, taking ownership of it.
TypeNode MakeTypeNode(duckdb_logical_type type);

/// TypeId of a DuckDB logical type (aliases such as JSON included).
TypeId TypeIdOf(duckdb_logical_type type);

/// A ColumnInfo for a column named `name` whose tree is `node`.
ColumnInfo MakeColumnInfo(std::string name, const TypeNode& node);

/// The DuckDB handles behind a result and a chunk, for the engine's own encoders
/// (arrow_ipc.cc); valid while the result / chunk lives.
struct RawHandles {
  static duckdb_result* Result(QueryResult& result);
  static duckdb_data_chunk Chunk(const DataChunk& chunk);
};

}  // namespace plexus::engine::internal
