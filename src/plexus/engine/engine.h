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

/// How a value should be written in JSON: as a number, a boolean, or a string.
enum class JsonKind { kNumber, kBoolean, kString };

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

/// One column of a result: its name, its type as DuckDB spells it, and how JSON writes it.
struct ColumnInfo {
  std::string name;
  std::string type_name;  ///< e.g. "BIGINT", "DECIMAL(18,2)", "VARCHAR[]"
  JsonKind json_kind = JsonKind::kString;
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
  std::string Text(size_t column, size_t row) const;
  /// Integer value of an integer or boolean column; 0 for NULL.
  int64_t GetInt64(size_t column, size_t row) const;
  /// Numeric value of any numeric column (integers, decimals, floats); 0 for NULL.
  double GetDouble(size_t column, size_t row) const;

 private:
  friend class QueryResult;
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
  Status BindNull(size_t index);
  Status BindInt64(size_t index, int64_t value);
  Status BindDouble(size_t index, double value);
  Status BindText(size_t index, std::string_view value);
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

/// A connection to a Database. Not thread safe, except Interrupt().
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
  /// SET lock_configuration = true: no later statement can change the configuration.
  Status LockConfiguration();
  /// Asks a running query on this connection to stop; safe from any thread.
  void Interrupt();

 private:
  friend class Database;
  struct Handle;
  explicit Connection(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

/// Quotes an identifier for DuckDB SQL: customers -> "customers", a"b -> "a""b".
std::string QuoteIdentifier(std::string_view name);
/// Quotes a string literal for DuckDB SQL: it's -> 'it''s'.
std::string QuoteLiteral(std::string_view text);

}  // namespace plexus::engine
