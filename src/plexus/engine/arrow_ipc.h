// File: plexus/engine/arrow_ipc.h
//
// Writes a query result as an Arrow IPC stream (the "streaming format" of the Arrow columnar
// specification): a Schema message, one RecordBatch message per DuckDB chunk, then the
// end-of-stream marker. DuckDB converts each chunk to the Arrow C data interface; this file
// frames it (FlatBuffers metadata, 8-byte aligned buffers). Memory stays at one chunk.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto writer, engine::ArrowStreamWriter::Make(*result));
//   PLEXUS_ASSIGN_OR_RETURN(int64_t rows, writer->Write(out));
//
// Types (as DuckDB converts them, docs/query-formats.md): BOOLEAN, the signed and unsigned
// integers, FLOAT, DOUBLE, DECIMAL and HUGEINT (decimal128), VARCHAR/JSON/UUID (utf8), BLOB
// (binary), DATE, TIME, TIMESTAMP (all units, with or without time zone), INTERVAL
// (month-day-nano), a bare NULL, and the nested types built of these: LIST (List), STRUCT
// (Struct), MAP (Map of key/value entries), ARRAY (FixedSizeList), nested to any depth. ENUM
// (a dictionary), UNION and the rest are refused by Make, naming the column.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::engine {

/// The content type of an Arrow IPC stream.
inline constexpr const char* kArrowStreamContentType = "application/vnd.apache.arrow.stream";

class ArrowStreamWriter {
 public:
  /// Prepares to write `result` (which must outlive the writer). InvalidArgument naming the
  /// first column whose type the stream cannot carry; nothing has been read from the result.
  static Result<std::unique_ptr<ArrowStreamWriter>> Make(QueryResult& result);
  ~ArrowStreamWriter();
  ArrowStreamWriter(const ArrowStreamWriter&) = delete;
  ArrowStreamWriter& operator=(const ArrowStreamWriter&) = delete;

  /// Writes the whole stream to `out`, one write per chunk; returns the rows written. An
  /// error of the query (e.g. an interrupt) stops it before the end-of-stream marker, so a
  /// reader sees the stream truncated.
  Result<int64_t> Write(std::ostream& out);

  /// How one column is laid out in a record batch (filled by Make; internal).
  struct Column;

 private:
  ArrowStreamWriter(QueryResult& result, void* options, std::vector<Column> columns);
  QueryResult& result_;
  void* options_;  // duckdb_arrow_options
  std::vector<Column> columns_;
};

}  // namespace plexus::engine
