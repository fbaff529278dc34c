// File: plexus/engine/result_writer.h
//
// Writes a query result as an aligned table, CSV, a JSON array of objects, NDJSON or an Arrow
// IPC stream (arrow_ipc.h), reading it chunk by chunk. CSV, JSON, NDJSON and Arrow stream
// (memory stays flat whatever the size); the table buffers its rows to align them and is
// meant for terminals.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::engine {

enum class ResultFormat { kTable, kCsv, kJson, kNdjson, kArrow };

/// "table", "csv", "json", "ndjson", "arrow".
Result<ResultFormat> ParseResultFormat(std::string_view name);

/// Writes every row of `result` to `out`; returns how many rows were written. kArrow refuses
/// (InvalidArgument, naming the column) a result with a type it cannot carry, before any write.
Result<int64_t> WriteResult(QueryResult& result, ResultFormat format, std::ostream& out);

/// Appends `text` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string_view text, std::string& out);

}  // namespace plexus::engine
