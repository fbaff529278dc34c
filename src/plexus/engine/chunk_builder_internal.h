// File: plexus/engine/chunk_builder_internal.h
//
// Internal to the engine: a ChunkBuilder's DuckDB chunk, for ChunkAppender::Append (engine.cc).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <duckdb.h>
#include "plexus/engine/chunk_builder.h"

namespace plexus::engine {

/// The DuckDB type of a ChunkAppender / ChunkBuilder column.
inline duckdb_type DuckDbTypeOf(ChunkAppender::Type type) {
  switch (type) {
    case ChunkAppender::Type::kBigint: return DUCKDB_TYPE_BIGINT;
    case ChunkAppender::Type::kBoolean: return DUCKDB_TYPE_BOOLEAN;
    case ChunkAppender::Type::kDouble: return DUCKDB_TYPE_DOUBLE;
    case ChunkAppender::Type::kInteger: return DUCKDB_TYPE_INTEGER;
    case ChunkAppender::Type::kSmallint: return DUCKDB_TYPE_SMALLINT;
    case ChunkAppender::Type::kTinyint: return DUCKDB_TYPE_TINYINT;
    case ChunkAppender::Type::kVarchar: break;
  }
  return DUCKDB_TYPE_VARCHAR;
}

/// Texts copied for a chunk: blocks that are kept (and reused) across resets.
class TextArena {
 public:
  /// `text` copied into the arena; valid until Clear.
  std::string_view Add(std::string_view text);
  void Clear() {
    block_ = 0;
    used_ = 0;
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size = 0;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0;  ///< the block being filled
  size_t used_ = 0;   ///< bytes used in it
};

struct ChunkBuilder::Handle {
  TextArena arena;
  std::vector<ChunkAppender::Type> types;
  duckdb_data_chunk chunk = nullptr;
  std::vector<void*> data;
  std::vector<uint64_t*> validity;
  idx_t row = 0;
  idx_t capacity = 0;
  ~Handle() {
    if (chunk) duckdb_destroy_data_chunk(&chunk);
  }
};

}  // namespace plexus::engine
