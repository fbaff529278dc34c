#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog::internal {

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_BUSY) return FailedPrecondition("the catalog is busy (another plexus is writing)");
  return Internal(std::string("catalog: ") + sqlite3_errmsg(db_));
}

Status Statement::Run() {
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::OK();
  }
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}
std::string_view Statement::TextView(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string_view(reinterpret_cast<const char*>(text),
                                 static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string_view();
}
int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                  SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IOError("cannot open catalog " + path + ": " + message);
  }
  std::unique_ptr<SqliteDb> out(new SqliteDb(db));
  sqlite3_busy_timeout(db, 5000);
  PLEXUS_RETURN_IF_ERROR(out->Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                                      "PRAGMA foreign_keys = ON;"));
  return out;
}

SqliteDb::~SqliteDb() {
  cached_.clear();
  sqlite3_close(db_);
}

Result<StatementLease> SqliteDb::Cached(const std::string& sql) {
  auto it = cached_.find(sql);
  if (it == cached_.end()) {
    PLEXUS_ASSIGN_OR_RETURN(auto statement, Prepare(sql));
    it = cached_.emplace(sql, std::move(statement)).first;
  }
  it->second->Reset();
  it->second->ClearBindings();
  return StatementLease(it->second.get());
}

Status SqliteDb::Execute(std::string_view sql) {
  char* error = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    return Internal("catalog: " + message);
  }
  return Status::OK();
}

Result<std::unique_ptr<Statement>> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return Internal(std::string("catalog: ") + sqlite3_errmsg(db_));
  }
  return std::make_unique<Statement>(db_, stmt);
}

Status SqliteDb::CreateWriteTriggers(const std::string& name, const std::string& table,
                                     const std::string& body) {
  for (const char* op : {"INSERT", "UPDATE", "DELETE"}) {
    PLEXUS_RETURN_IF_ERROR(Execute("CREATE TRIGGER IF NOT EXISTS " + name + op + " AFTER " + op +
                                   " ON " + table + " BEGIN " + body + "; END"));
  }
  return Status::OK();
}

Result<bool> SqliteDb::HasColumn(const std::string& table, const std::string& column) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt,
                          Prepare("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?"));
  stmt->Bind(1, table).Bind(2, column);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row && stmt->Int(0) > 0;
}

}  // namespace plexus::catalog::internal
