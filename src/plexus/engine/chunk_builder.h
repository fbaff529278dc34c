// File: plexus/engine/chunk_builder.h
//
// A DuckDB data chunk filled row by row on any thread (no connection is involved), then
// appended whole by a ChunkAppender on the thread that owns the connection:
//
//   ChunkBuilder chunk(types);           // on a producer thread
//   chunk.SetInt64(0, 7);
//   chunk.SetText(1, text);              // copied into the chunk's own arena
//   chunk.SetTextRef(2, kept);           // referenced: `kept` must outlive the Append below
//   if (chunk.EndRow()) hand_over(...);  // full: capacity() rows
//   ...
//   appender->Append(chunk);             // on the connection's thread; copies every value
//
// Texts longer than 12 bytes (shorter ones are stored in the chunk) are copied once into the
// builder's arena, which is reused after each append (SetText), or referenced where the caller
// keeps them (SetTextRef). Either saves the copy into the vector's own string heap, and its
// allocations, that ChunkAppender::SetText makes per value.
// Thread safety: one thread at a time; it may be handed from one thread to another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "plexus/engine/engine.h"

namespace plexus::engine {

class ChunkBuilder {
 public:
  /// An empty chunk with columns of `types` (any ChunkAppender::Type).
  explicit ChunkBuilder(const std::vector<ChunkAppender::Type>& types);
  ~ChunkBuilder();
  ChunkBuilder(const ChunkBuilder&) = delete;
  ChunkBuilder& operator=(const ChunkBuilder&) = delete;

  /// Rows it holds at most (DuckDB's vector size).
  size_t capacity() const;
  /// Rows ended so far.
  size_t size() const;

  void SetNull(size_t column);
  /// An integer column's value (BIGINT, INTEGER, SMALLINT, TINYINT: narrowed to the column's
  /// width; the caller keeps it in range).
  void SetInt64(size_t column, int64_t value);
  void SetBool(size_t column, bool value);
  void SetDouble(size_t column, double value);
  /// A VARCHAR column's value (valid UTF-8), copied into the chunk's arena.
  void SetText(size_t column, std::string_view value);
  /// A VARCHAR column's value (valid UTF-8), referenced: its bytes must stay alive and unchanged
  /// until the chunk is appended, reset or destroyed.
  void SetTextRef(size_t column, std::string_view value);
  /// Ends the row; true when the chunk is full (capacity() rows).
  bool EndRow();
  /// Empties it for reuse (the texts it referenced are no longer needed).
  void Reset();

  struct Handle;  ///< chunk_builder_internal.h (the engine's)

 private:
  friend class ChunkAppender;
  friend class ChunkTables;
  std::unique_ptr<Handle> handle_;
};

}  // namespace plexus::engine
