// File: plexus/catalog/sqlite_db.h (catalog-internal)
//
// A thin RAII layer over SQLite's C API: a database handle and prepared statements with
// typed binds and reads. Errors become Status. Not thread safe: one thread per SqliteDb.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"

namespace plexus::catalog::internal {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& BindReal(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }
  /// Steps once: true when a row is ready, false when done; errors become Status.
  Result<bool> Step();
  /// Steps until done (for statements without rows).
  Status Run();
  /// Ready to step again, binds kept (bind anew to change them).
  void Reset() { sqlite3_reset(stmt_); }
  void ClearBindings() { sqlite3_clear_bindings(stmt_); }

  std::string Text(int column) const;
  /// The text without a copy, valid until the next Step or Reset.
  std::string_view TextView(int column) const;
  int64_t Int(int column) const;
  double Real(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

/// A cached statement lent out by SqliteDb::Cached: reset (its read done) when the lease ends.
class StatementLease {
 public:
  explicit StatementLease(Statement* statement) : statement_(statement) {}
  ~StatementLease() {
    if (statement_ != nullptr) statement_->Reset();
  }
  StatementLease(StatementLease&& other) noexcept : statement_(other.statement_) {
    other.statement_ = nullptr;
  }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  StatementLease& operator=(StatementLease&&) = delete;
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

class SqliteDb {
 public:
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status Execute(std::string_view sql);
  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql);
  /// The statement for `sql`, prepared once per connection and kept (for statements run on
  /// every request: a search); bindings cleared. One lease of a text at a time.
  Result<StatementLease> Cached(const std::string& sql);
  /// Whether `table` has a column named `column` (a migration's test for a catalog made by
  /// an older version).
  Result<bool> HasColumn(const std::string& table, const std::string& column);
  /// AFTER INSERT, AFTER UPDATE and AFTER DELETE triggers on `table`, named `name` + the
  /// operation, each running `body` (one SQL statement), made when missing.
  Status CreateWriteTriggers(const std::string& name, const std::string& table,
                             const std::string& body);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  /// Rows this connection has changed since it opened.
  int64_t TotalChanges() const { return sqlite3_total_changes64(db_); }
  /// Rows the last INSERT, UPDATE or DELETE changed.
  int64_t Changes() const { return sqlite3_changes64(db_); }
  /// The connection, to register functions on (the search index's BM25).
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>> cached_;  ///< finalized before db_ closes
};

/// Commits on Commit(); rolls back when destroyed without it.
class Transaction {
 public:
  explicit Transaction(SqliteDb* db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)db_->Execute("ROLLBACK");
  }
  Status Begin() {
    PLEXUS_RETURN_IF_ERROR(db_->Execute("BEGIN IMMEDIATE"));
    open_ = true;
    return Status::OK();
  }
  /// A read transaction: every read until Commit sees the snapshot of the first one.
  Status BeginRead() {
    PLEXUS_RETURN_IF_ERROR(db_->Execute("BEGIN"));
    open_ = true;
    return Status::OK();
  }
  Status Commit() {
    open_ = false;
    return db_->Execute("COMMIT");
  }

 private:
  SqliteDb* db_;
  bool open_ = false;
};

/// ["a","b"] and back: list columns are stored as JSON text.
std::string ToJsonList(const std::vector<std::string>& items);
std::vector<std::string> FromJsonList(const std::string& text);
/// The schema object a port's table is described by: named like the port, or the only one.
const spec::SchemaObject* TableOf(const spec::Contract& contract, const std::string& port);
/// Usernames of the product team's members whose role is owner.
std::vector<std::string> OwnersOf(const spec::Product& product);

}  // namespace plexus::catalog::internal
