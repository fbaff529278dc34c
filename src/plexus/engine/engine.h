// File: plexus/engine/engine.h
//
// The only Plexus code that includes duckdb.h. RAII handles over the DuckDB C API: a database,
// its connections, prepared statements, streaming results read chunk by chunk, appenders.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open({.path = "customers.duckdb"}));
//   PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
//   PLEXUS_ASSIGN_OR_RETURN(auto result, conn->Query("SELECT 42"));
//   while (true) {
//     PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
//     if (!chunk) break;  // end of the result
//     ... chunk->size(), chunk->AppendText(column, row, out) ...
//   }
//
// Thread safety: a Database may be shared; a Connection and everything made from it is used
// by one thread at a time (DuckDB's own rule). Interrupt() may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"

namespace plexus::engine {

/// How a value should be written in JSON: as a number, a boolean, a string, or (lists,
/// arrays, structs, maps) as JSON arrays and objects (DataChunk::AppendJson).
enum class JsonKind { kNumber, kBoolean, kString, kNested };

/// How to open a database. Defaults: a writable in-memory database, not hardened.
struct DatabaseOptions {
  std::string path;  ///< empty: in-memory
  bool read_only = false;
  /// Hardened: external access off (file reads only below `allowed_directories`), extension
  /// autoload and autoinstall off, community extensions off. Lock the configuration with
  /// Connection::LockConfiguration() once the platform has attached what it needs.
  bool hardened = false;
  std::vector<std::string> allowed_directories;
  int threads = 0;           ///< 0: DuckDB's default (one per core)
  std::string memory_limit;  ///< empty: DuckDB's default
  std::string temp_directory;  ///< spill space; empty: DuckDB's default
  /// DuckDB's vacuum at checkpoints: merging the row groups that deletes thinned. Off in the
  /// engines that write CDC tables, whose applier compacts them itself (ADR 0010): with random
  /// updates and deletes, vacuuming at every checkpoint was most of a catch-up's commit time.
  bool vacuum = true;
};

class Connection;

/// An open DuckDB database (file or in-memory). Closes on destruction; every Connection made
/// from it must be destroyed first.
class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<std::unique_ptr<Connection>> Connect();

 private:
  struct Handle;
  explicit Database(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

/// A value's type, for encoders outside the engine (the PostgreSQL wire protocol). TIMESTAMP_S
/// and TIMESTAMP_MS are kTimestamp (read in microseconds); TIMESTAMP_NS is kTimestampNs (read
/// in microseconds too, truncated). kJson is DuckDB's JSON (a VARCHAR alias). kUnknown: a
/// parameter whose type DuckDB could not infer (`SELECT $1`).
enum class TypeId : uint8_t {
  kBoolean, kTinyInt, kSmallInt, kInteger, kBigInt, kHugeInt,
  kUTinyInt, kUSmallInt, kUInteger, kUBigInt, kUHugeInt,
  kFloat, kDouble, kDecimal, kVarchar, kJson, kBlob,
  kDate, kTime, kTimeTz, kTimestamp, kTimestampNs, kTimestampTz, kInterval, kUuid,
  kList, kArray, kStruct, kMap, kEnum, kNull, kUnknown, kOther,
};

/// One column of a result: its name, its type as DuckDB spells it, and how JSON writes it.
struct ColumnInfo {
  std::string name;
  std::string type_name;  ///< e.g. "BIGINT", "DECIMAL(18,2)", "VARCHAR[]"
  JsonKind json_kind = JsonKind::kString;
  TypeId type_id = TypeId::kOther;
  /// DECIMAL width and scale: of the column, or of the elements of a LIST/ARRAY of DECIMAL.
  uint8_t width = 0;
  uint8_t scale = 0;
  /// The element type of a LIST or ARRAY (kOther otherwise).
  TypeId element_type = TypeId::kOther;
};

namespace internal {
struct TypeNode;    // engine-internal: a result column's type tree
struct RawHandles;  // engine-internal: the DuckDB handles, for the engine's own encoders
}

/// A signed DECIMAL/HUGEINT/integer as its unscaled integer: the value is unscaled / 10^scale.
struct DecimalValue {
  __int128 unscaled = 0;
  uint8_t scale = 0;
};

/// An INTERVAL as DuckDB (and PostgreSQL) keep it.
struct IntervalValue {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
};

/// A TIME WITH TIME ZONE: microseconds of the day and the offset east of UTC, in seconds.
struct TimeTzValue {
  int64_t micros = 0;
  int32_t offset_seconds = 0;
};

/// The elements of one LIST or ARRAY cell: rows [offset, offset + length) of the child.
struct ListEntry {
  uint64_t offset = 0;
  uint64_t length = 0;
};

/// A non-owning view of one column of a DataChunk (or of a list's child), valid while the
/// chunk lives. Made once per chunk and column: the data pointer, validity mask and type are
/// looked up then, so the accessors do no allocation and no type lookup. Each accessor reads
/// the types its comment lists; on another type it returns 0 / empty (never undefined
/// behaviour). Rows must be < the chunk's size (or inside a ListEntry for a child).
class VectorRef {
 public:
  VectorRef() = default;
  TypeId type_id() const { return type_id_; }
  /// DECIMAL scale (0 for other types).
  uint8_t scale() const { return scale_; }
  bool IsNull(size_t row) const {
    return validity_ != nullptr && !((validity_[row / 64] >> (row % 64)) & 1);
  }
  /// BOOLEAN.
  bool Bool(size_t row) const;
  /// BOOLEAN and the integers up to BIGINT / UINTEGER (UBIGINT wraps: use Decimal).
  int64_t Int64(size_t row) const;
  /// FLOAT, DOUBLE, and any other numeric type converted.
  double Double(size_t row) const;
  /// VARCHAR, JSON, BLOB (raw bytes), ENUM (its label): no copy.
  std::string_view String(size_t row) const;
  /// DATE: days since 1970-01-01 (INT32_MAX / -INT32_MAX are infinity / -infinity).
  int32_t Date(size_t row) const;
  /// TIME: micros of the day; every TIMESTAMP kind: micros since 1970-01-01 (UTC for
  /// TIMESTAMPTZ); INT64_MAX / -INT64_MAX are infinity / -infinity. TIME_TZ: its local micros.
  int64_t Micros(size_t row) const;
  TimeTzValue TimeTz(size_t row) const;
  IntervalValue Interval(size_t row) const;
  /// UUID: the 16 bytes in network order, as PostgreSQL sends them.
  void Uuid(size_t row, uint8_t out[16]) const;
  /// DECIMAL, HUGEINT, and every integer type (scale 0). UHUGEINT above 2^127 is clamped.
  DecimalValue Decimal(size_t row) const;
  /// LIST, ARRAY and MAP (a MAP's child is a STRUCT of key and value).
  ListEntry List(size_t row) const;
  /// The element vector of a LIST/ARRAY/MAP, or child `index` of a STRUCT.
  VectorRef Child(size_t index = 0) const;
  /// Appends DuckDB's own rendering of a non-NULL value (nested types too).
  void AppendText(size_t row, std::string& out) const;

 private:
  friend class DataChunk;
  VectorRef(void* vector, const internal::TypeNode* node);
  void* vector_ = nullptr;  // duckdb_vector
  const internal::TypeNode* node_ = nullptr;
  const void* data_ = nullptr;
  const uint64_t* validity_ = nullptr;
  TypeId type_id_ = TypeId::kOther;
  uint8_t scale_ = 0;
};

/// A value to bind to a prepared statement parameter. Text bound to a typed parameter is cast
/// by DuckDB (`WHERE d = $1` with a DATE column and '2024-01-31'); blobs stay bytes.
struct ParameterValue {
  enum class Kind : uint8_t { kNull, kBool, kInt64, kDouble, kText, kBlob };
  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  std::string bytes;  ///< kText and kBlob

  static ParameterValue Null() { return {}; }
  static ParameterValue Bool(bool v);
  static ParameterValue Int64(int64_t v);
  static ParameterValue Double(double v);
  static ParameterValue Text(std::string v);
  static ParameterValue Blob(std::string v);
};

/// One chunk (up to 2048 rows) of a result. Reads straight from DuckDB's vectors.
class DataChunk {
 public:
  ~DataChunk();
  DataChunk(const DataChunk&) = delete;
  DataChunk& operator=(const DataChunk&) = delete;

  size_t size() const;
  size_t column_count() const;
  bool IsNull(size_t column, size_t row) const;
  /// Appends the value's text (DuckDB's own rendering: 2024-01-31, 12.50, [1, 2], {'a': 1}).
  /// Does nothing for NULL: check IsNull first when NULL must be told apart from ''.
  void AppendText(size_t column, size_t row, std::string& out) const;
  /// Appends the value as JSON: null, numbers and booleans bare (a non-finite float as a
  /// string), lists and arrays as arrays, structs as objects, maps as objects keyed by the
  /// key's text, any other value as the string of its text.
  void AppendJson(size_t column, size_t row, std::string& out) const;
  std::string Text(size_t column, size_t row) const;
  /// Integer value of an integer or boolean column, exact (BIGINT above 2^53 too); 0 for NULL.
  int64_t GetInt64(size_t column, size_t row) const;
  /// Numeric value of any numeric column (integers, decimals, floats); 0 for NULL.
  double GetDouble(size_t column, size_t row) const;
  /// Typed access to column `column` for this chunk (see VectorRef); cheap, make it once per
  /// chunk and column.
  VectorRef Column(size_t column) const;

 private:
  friend class QueryResult;
  friend struct internal::RawHandles;
  struct Handle;
  explicit DataChunk(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

/// The result of a query: its columns, then its rows, chunk by chunk.
class QueryResult {
 public:
  ~QueryResult();
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;

  const std::vector<ColumnInfo>& columns() const { return columns_; }
  /// The next chunk, or nullptr at the end. An error (e.g. an interrupt) is a Status.
  Result<std::unique_ptr<DataChunk>> Fetch();
  /// Rows changed by an INSERT/UPDATE/DELETE.
  int64_t rows_changed() const;

 private:
  friend class Connection;
  friend class PreparedStatement;
  friend struct internal::RawHandles;
  struct Handle;
  explicit QueryResult(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
  std::vector<ColumnInfo> columns_;
};

/// A prepared statement; parameters are bound by 1-based index.
class PreparedStatement {
 public:
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  size_t parameter_count() const;
  /// The type DuckDB inferred for parameter `index` (1-based); kUnknown when it could not.
  TypeId parameter_type(size_t index) const;
  /// The name of parameter `index` (1-based): "min_length" for `$min_length`, "1" for `$1`.
  std::string parameter_name(size_t index) const;
  /// The result columns, known without running the statement (empty for a statement with no
  /// result, e.g. a SET).
  std::vector<ColumnInfo> columns() const;
  /// Binds one value (see ParameterValue).
  Status Bind(size_t index, const ParameterValue& value);
  Status BindNull(size_t index);
  Status BindInt64(size_t index, int64_t value);
  Status BindDouble(size_t index, double value);
  Status BindText(size_t index, std::string_view value);
  /// Binds a VARCHAR[] (a list of texts).
  Status BindTextList(size_t index, const std::vector<std::string>& values);
  /// Executes and streams the result.
  Result<std::unique_ptr<QueryResult>> Execute();

 private:
  friend class Connection;
  struct Handle;
  explicit PreparedStatement(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

/// Appends rows to a table fast (DuckDB's appender). Values of a row in column order.
class Appender {
 public:
  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  Status AppendNull();
  Status AppendInt64(int64_t value);
  Status AppendDouble(double value);
  Status AppendText(std::string_view value);
  Status EndRow();
  /// Flushes and closes; also done (errors ignored) on destruction.
  Status Close();

 private:
  friend class Connection;
  struct Handle;
  explicit Appender(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

/// Appends rows to a table by whole chunks (2048 rows), writing each value straight into
/// DuckDB's vectors: for wide loads, several times faster than Appender's value-by-value calls.
/// Set every column of a row (Set* or SetNull), then EndRow; Close flushes what is left.
class ChunkBuilder;  // chunk_builder.h: a chunk filled on another thread

class ChunkAppender {
 public:
  /// The column types it writes (the table's, in order; DuckDB casts nothing here).
  enum class Type : uint8_t { kBigint, kBoolean, kDouble, kVarchar, kInteger, kSmallint, kTinyint };
  ~ChunkAppender();
  ChunkAppender(const ChunkAppender&) = delete;
  ChunkAppender& operator=(const ChunkAppender&) = delete;

  void SetNull(size_t column);
  void SetInt64(size_t column, int64_t value);
  void SetBool(size_t column, bool value);
  void SetDouble(size_t column, double value);
  void SetText(size_t column, std::string_view value);
  /// For kInteger, kSmallint and kTinyint columns: the caller has checked the range.
  void SetInt32(size_t column, int32_t value);
  void SetInt16(size_t column, int16_t value);
  void SetInt8(size_t column, int8_t value);
  Status EndRow();
  /// Appends `chunk`'s rows (after the rows ended with EndRow), copying every value; the chunk
  /// is then empty (reset) and its referenced texts no longer needed.
  Status Append(ChunkBuilder& chunk);
  Status Close();

 private:
  friend class Connection;
  struct Handle;
  explicit ChunkAppender(std::unique_ptr<Handle> handle);
  Status Flush();
  std::unique_ptr<Handle> handle_;
};

/// A connection to a Database. Not thread safe, except Interrupt().
/// The running statement's progress as DuckDB tracks it (Connection::Progress).
struct QueryProgress {
  double percentage = -1;  ///< 0 to 100; -1: no statement running, or not tracked
  uint64_t rows_processed = 0;
  uint64_t total_rows = 0;  ///< rows to process in all (an estimate DuckDB refines)
};

class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more statements and discards any result.
  Status Execute(std::string_view sql);
  /// Runs one statement and streams its result (read it with Fetch until nullptr).
  Result<std::unique_ptr<QueryResult>> Query(std::string_view sql);
  /// Runs a query expected to return one row and one column, and returns it as text
  /// (NotFound when there is no row; NULL gives an empty optional-like "" with found=false).
  Result<std::string> QueryScalar(std::string_view sql);
  Result<std::unique_ptr<PreparedStatement>> Prepare(std::string_view sql);
  Result<std::unique_ptr<Appender>> MakeAppender(std::string_view catalog,
                                                 std::string_view schema,
                                                 std::string_view table);
  /// A ChunkAppender for `table` of the default database's main schema, whose columns have
  /// `types`.
  Result<std::unique_ptr<ChunkAppender>> MakeChunkAppender(
      std::string_view table, const std::vector<ChunkAppender::Type>& types);
  /// A ChunkAppender for `catalog`.`schema`.`table` (an attached database's table). Begun
  /// inside a transaction of this connection, its rows belong to that transaction (a ROLLBACK
  /// drops them); close it before the COMMIT.
  Result<std::unique_ptr<ChunkAppender>> MakeChunkAppender(
      std::string_view catalog, std::string_view schema, std::string_view table,
      const std::vector<ChunkAppender::Type>& types);
  /// SET lock_configuration = true: no later statement can change the configuration.
  Status LockConfiguration();
  /// Asks a running query on this connection to stop; safe from any thread.
  void Interrupt();
  /// Has DuckDB track the progress of this connection's statements (without printing it);
  /// allowed after LockConfiguration (PRAGMA enable_progress_bar).
  Status EnableProgress();
  /// The running statement's progress; safe from any thread (a progress bar's watcher).
  QueryProgress Progress() const;

 private:
  friend class Database;
  friend class ChunkTables;  // chunk_table.h registers its table function on the connection
  struct Handle;
  explicit Connection(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

/// Quotes an identifier for DuckDB SQL: customers -> "customers", a"b -> "a""b".
std::string QuoteIdentifier(std::string_view name);
/// Quotes a string literal for DuckDB SQL: it's -> 'it''s'.
std::string QuoteLiteral(std::string_view text);

}  // namespace plexus::engine
