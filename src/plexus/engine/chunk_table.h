// File: plexus/engine/chunk_table.h
//
// Creates tables from ChunkBuilders whole: a table function hands each chunk to
// `CREATE TABLE t AS SELECT * FROM <function>()` as it is (DuckDB references its vectors), so
// DuckDB copies each value once, into the table's storage. ChunkAppender::Append copies it
// twice: into the appender's collection, then into the table.
//
//   class Rows : public ChunkSource {               // e.g. chunks filled on another thread
//     Result<ChunkBuilder*> Next() override;        // the next chunk, null at the end
//   };
//   PLEXUS_ASSIGN_OR_RETURN(auto tables, ChunkTables::Make(conn));
//   PLEXUS_RETURN_IF_ERROR(tables->Create("t", {{"id", Type::kBigint}, {"name", Type::kVarchar}},
//                                         rows));
//
// Thread safety: a ChunkTables is used by one thread at a time, the connection's.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/chunk_builder.h"
#include "plexus/engine/engine.h"

struct _duckdb_connection;  // duckdb.h's connection handle

namespace plexus::engine {

/// A column of a table made from chunks: its name and type (the chunks' column type).
struct ChunkColumn {
  std::string name;
  ChunkAppender::Type type;
};

/// Gives the chunks of one table, in order.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  /// The next chunk (its size() rows), or null when there are no more. Called on the thread
  /// DuckDB runs the statement on, one call at a time; it may block. The chunk must stay
  /// unchanged until the next call, which finds it read and empty (reset): the source may fill
  /// it again. An error stops the load and is what Create returns.
  virtual Result<ChunkBuilder*> Next() = 0;
};

/// Makes tables on one connection from chunks (see the file comment).
class ChunkTables {
 public:
  /// Registers the table function that reads the chunks on `conn`'s database (a name of its
  /// own per ChunkTables, which outlives it there: called once this is destroyed, or while no
  /// Create runs, it fails at bind). `conn` must outlive it.
  static Result<std::unique_ptr<ChunkTables>> Make(Connection& conn);
  ~ChunkTables();
  ChunkTables(const ChunkTables&) = delete;
  ChunkTables& operator=(const ChunkTables&) = delete;

  /// Creates `table` (the default database's main schema) with `columns`, holding the rows of
  /// every chunk `source` gives. Fails when the table exists, or a chunk's column types are not
  /// `columns`' (nothing is created then), or with the source's error.
  Status Create(std::string_view table, const std::vector<ChunkColumn>& columns,
                ChunkSource& source);

  struct Feed;  ///< what the table function reads (chunk_table.cc)
  /// A builder's chunk, for the table function.
  static ChunkBuilder::Handle& RowsOf(ChunkBuilder& chunk) { return *chunk.handle_; }

 private:
  ChunkTables(Connection& conn, std::shared_ptr<Feed> feed, std::string function);
  /// `conn`'s DuckDB handle (engine.cc, where Connection's handle is known).
  static _duckdb_connection* RawConnection(Connection& conn);
  Connection& conn_;
  std::shared_ptr<Feed> feed_;
  std::string function_;
};

}  // namespace plexus::engine
