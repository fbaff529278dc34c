// File: plexus/server/pg_types.h
//
// DuckDB values as PostgreSQL sees them: the type OID, size and typmod of each result column
// (RowDescription), the text and binary formats of every value (DataRow), COPY TO STDOUT rows
// (text and CSV), and Bind parameters back to engine values. Output matches what PostgreSQL 15
// itself writes with DateStyle ISO, IntervalStyle postgres, TimeZone UTC and
// extra_float_digits >= 1 (pg_types_test.cc holds its output as fixtures).
//
//   pg::RowEncoder encoder(result->columns(), formats_from_bind);
//   while (chunk = Fetch()) encoder.AppendDataRows(*chunk, 0, chunk->size(), out);
//
// Type mapping: VARCHAR, ENUM, STRUCT, MAP, UNION and anything else without a PostgreSQL
// counterpart are `text` (25; VARCHAR is text rather than varchar 1043 because DuckDB strings
// have no length limit), written with DuckDB's own rendering for the nested ones. HUGEINT,
// UBIGINT and UHUGEINT are numeric; UTINYINT/USMALLINT/UINTEGER widen to int2/int4/int8;
// TINYINT is int2. A LIST or ARRAY of a scalar type is a one-dimensional PostgreSQL array;
// a list of lists/structs is text.
//
// Thread safety: everything here is stateless or owned by one connection's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::server::pg {

/// PostgreSQL type OIDs (pg_type.oid) used by the wire protocol.
namespace oid {
inline constexpr int32_t kUnspecified = 0;
inline constexpr int32_t kBool = 16;
inline constexpr int32_t kBytea = 17;
inline constexpr int32_t kInt8 = 20;
inline constexpr int32_t kInt2 = 21;
inline constexpr int32_t kInt4 = 23;
inline constexpr int32_t kText = 25;
inline constexpr int32_t kOid = 26;
inline constexpr int32_t kJson = 114;
inline constexpr int32_t kFloat4 = 700;
inline constexpr int32_t kFloat8 = 701;
inline constexpr int32_t kUnknown = 705;
inline constexpr int32_t kBpchar = 1042;
inline constexpr int32_t kVarchar = 1043;
inline constexpr int32_t kDate = 1082;
inline constexpr int32_t kTime = 1083;
inline constexpr int32_t kTimestamp = 1114;
inline constexpr int32_t kTimestampTz = 1184;
inline constexpr int32_t kInterval = 1186;
inline constexpr int32_t kTimeTz = 1266;
inline constexpr int32_t kNumeric = 1700;
inline constexpr int32_t kUuid = 2950;
inline constexpr int32_t kJsonb = 3802;
// One-dimensional arrays.
inline constexpr int32_t kJsonArray = 199;
inline constexpr int32_t kBoolArray = 1000;
inline constexpr int32_t kByteaArray = 1001;
inline constexpr int32_t kInt2Array = 1005;
inline constexpr int32_t kInt4Array = 1007;
inline constexpr int32_t kTextArray = 1009;
inline constexpr int32_t kVarcharArray = 1015;
inline constexpr int32_t kInt8Array = 1016;
inline constexpr int32_t kFloat4Array = 1021;
inline constexpr int32_t kFloat8Array = 1022;
inline constexpr int32_t kTimestampArray = 1115;
inline constexpr int32_t kDateArray = 1182;
inline constexpr int32_t kTimeArray = 1183;
inline constexpr int32_t kTimestampTzArray = 1185;
inline constexpr int32_t kIntervalArray = 1187;
inline constexpr int32_t kNumericArray = 1231;
inline constexpr int32_t kTimeTzArray = 1270;
inline constexpr int32_t kUuidArray = 2951;
}  // namespace oid

/// How a column appears in RowDescription.
struct PgColumnType {
  int32_t oid = oid::kText;
  int16_t size = -1;    ///< pg_type.typlen: -1 for variable length
  int32_t typmod = -1;  ///< numeric: ((precision << 16) | scale) + 4
};

/// The PostgreSQL type of a result column (see the mapping in the file comment).
PgColumnType ColumnType(const engine::ColumnInfo& column);
/// Shorthand for ColumnType(column).oid.
int32_t TypeOid(const engine::ColumnInfo& column);
/// The PostgreSQL type name of an OID ("int8", "_text", ...), for catalogs and messages.
std::string_view TypeName(int32_t type_oid);
/// The array type of an element type (kInt4 -> kInt4Array), 0 when there is none.
int32_t ArrayOid(int32_t element_oid);
/// The OID of a statement parameter whose DuckDB type is `type` (ParameterDescription);
/// kUnspecified (0) for kUnknown, so the client picks.
int32_t ParameterOid(engine::TypeId type);

/// Appends the text format of the non-NULL value at `row` (no length prefix).
void AppendTextValue(const engine::VectorRef& vector, size_t row, std::string& out);
/// Appends the binary format of the non-NULL value at `row` (no length prefix), for the
/// PostgreSQL type ColumnType() chose; text-mapped types send their text.
void AppendBinaryValue(const engine::VectorRef& vector, size_t row, std::string& out);

/// Decodes one Bind parameter. `type_oid` is the type the client declared in Parse (0 when it
/// left it to the server), `format` 0 (text) or 1 (binary), `bytes` empty for NULL. Text stays
/// text for text-like and unknown types (DuckDB casts it to the parameter's type); integers,
/// floats, booleans and bytea are decoded; binary values of date/time types, uuid and numeric
/// become their PostgreSQL text. Malformed input is kInvalidArgument naming the type.
Result<engine::ParameterValue> DecodeParameter(int32_t type_oid, int16_t format,
                                               std::optional<std::string_view> bytes);

/// Options of COPY (SELECT ...) TO STDOUT.
struct CopyOptions {
  enum class Format : uint8_t { kText, kCsv };
  Format format = Format::kText;
  char delimiter = '\t';    ///< text: tab; CSV: ','
  std::string null_string;  ///< text: "\N"; CSV: ""
  char quote = '"';         ///< CSV only
  static CopyOptions Text() { return {Format::kText, '\t', "\\N", '"'}; }
  static CopyOptions Csv() { return {Format::kCsv, ',', "", '"'}; }
};

/// Encodes the rows of one result. Construct once per result (portal); the per-column
/// writers are chosen then, so encoding a row does no type dispatch beyond one indirect call
/// per cell and allocates nothing once `out` has grown.
class RowEncoder {
 public:
  /// `formats` as in Bind's result-format codes: empty (all text), one code for every column,
  /// or one per column (a wrong count is treated as all text; check it with ValidFormats).
  RowEncoder(const std::vector<engine::ColumnInfo>& columns, const std::vector<int16_t>& formats);

  /// True when `formats` has 0, 1 or `column_count` entries, each 0 or 1.
  static bool ValidFormats(const std::vector<int16_t>& formats, size_t column_count);

  /// Appends one DataRow message ('D', length, column count, each column's length + bytes)
  /// per row in [begin, end) of `chunk`.
  void AppendDataRows(const engine::DataChunk& chunk, size_t begin, size_t end,
                      std::string& out) const;
  /// AppendDataRows for one row.
  void AppendDataRow(const engine::DataChunk& chunk, size_t row, std::string& out) const;
  /// Appends one CopyData message ('d', length, one row of COPY text or CSV with its newline)
  /// per row in [begin, end) of `chunk`.
  void AppendCopyData(const engine::DataChunk& chunk, size_t begin, size_t end,
                      const CopyOptions& options, std::string& out) const;
  /// Appends the COPY line (no message framing) of one row: text format, tab separated, NULL
  /// as \N, backslash escapes; or CSV with PostgreSQL's quoting. Ends with '\n'.
  void AppendCopyRow(const engine::DataChunk& chunk, size_t row, const CopyOptions& options,
                     std::string& out) const;
  /// Appends a CSV header line (the column names, quoted as needed, no message framing).
  void AppendCsvHeader(const CopyOptions& options, std::string& out) const;

  /// The PostgreSQL type of each column (for RowDescription).
  const std::vector<PgColumnType>& column_types() const { return types_; }
  /// The format code (0 text, 1 binary) each column is sent in.
  const std::vector<int16_t>& formats() const { return formats_; }

 private:
  using CellWriter = void (*)(const engine::VectorRef&, size_t, std::string&);
  using RawWriter = char* (*)(const engine::VectorRef&, size_t, char*);
  /// COPY rows of [begin, end), each in a CopyData message when `framed`.
  void AppendCopyData(const engine::DataChunk& chunk, size_t begin, size_t end,
                      const CopyOptions& options, std::string& out, bool framed) const;
  void AppendCopyLine(const engine::VectorRef* refs, const bool* plain, size_t row,
                      const CopyOptions& options, std::string& out) const;
  std::vector<std::string> names_;
  std::vector<PgColumnType> types_;
  std::vector<int16_t> formats_;
  std::vector<CellWriter> writers_;       // in the column's format
  std::vector<CellWriter> text_writers_;  // text format, for COPY
  // DataRows: a text column of a fixed-bound type is written in place by its raw writer; a
  // text VARCHAR/JSON/ENUM column is its bytes; the rest go through writers_.
  std::vector<RawWriter> raw_writers_;
  std::vector<uint8_t> sends_string_;
  size_t row_bound_ = 0;  // a DataRow's header, every length word and every raw bound
};

}  // namespace plexus::server::pg
