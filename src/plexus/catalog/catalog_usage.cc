// Usage (issue 4): who reads each product, how often and which columns, counted from the audit
// trail into two tables by discovery/usage.h. A cursor (settings.usage_seq) names the last
// audit record counted; it moves in the same transaction as the counts, so a record is counted
// once even when two processes count at the same time.
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

namespace {

constexpr const char* kUsageSchema = R"sql(
CREATE TABLE IF NOT EXISTS usage_reads (product TEXT NOT NULL, principal TEXT NOT NULL,
  day TEXT NOT NULL, queries INTEGER NOT NULL, rows INTEGER NOT NULL, last_at TEXT NOT NULL,
  PRIMARY KEY (product, principal, day));
CREATE INDEX IF NOT EXISTS usage_reads_by_day ON usage_reads (day);
CREATE TABLE IF NOT EXISTS usage_columns (product TEXT NOT NULL, port TEXT NOT NULL,
  column_name TEXT NOT NULL, queries INTEGER NOT NULL, last_at TEXT NOT NULL,
  PRIMARY KEY (product, port, column_name));
INSERT OR IGNORE INTO settings (key, value) VALUES ('usage_seq', '0');
)sql";

}  // namespace

Status Catalog::CreateUsageTables() { return db_->Execute(kUsageSchema); }

Result<int64_t> Catalog::UsageCursor() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'usage_seq'"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->Int(0) : 0;
}

Status Catalog::RecordUsage(const std::vector<UsageRead>& reads, int64_t from_seq,
                            int64_t through_seq) {
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto move, db_->Prepare(
      "UPDATE settings SET value = ?2 WHERE key = 'usage_seq' AND CAST(value AS INTEGER) = ?1"));
  PLEXUS_RETURN_IF_ERROR(move->Bind(1, from_seq).Bind(2, std::to_string(through_seq)).Run());
  if (db_->Changes() != 1) {
    return FailedPrecondition("usage was counted meanwhile by another process");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto put_read, db_->Prepare(
      "INSERT INTO usage_reads VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (product, principal, day) DO UPDATE SET queries = queries + ?4, "
      "rows = rows + ?5, last_at = max(last_at, ?6)"));
  PLEXUS_ASSIGN_OR_RETURN(auto put_column, db_->Prepare(
      "INSERT INTO usage_columns VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (product, port, column_name) DO UPDATE SET queries = queries + ?4, "
      "last_at = max(last_at, ?5)"));
  for (const auto& read : reads) {
    put_read->Reset();
    PLEXUS_RETURN_IF_ERROR(put_read->Bind(1, read.product).Bind(2, read.principal)
                               .Bind(3, read.day).Bind(4, read.queries).Bind(5, read.rows)
                               .Bind(6, read.last_at).Run());
    for (const auto& [column, queries] : read.columns) {
      size_t dot = column.find('.');
      if (dot == std::string::npos) continue;
      put_column->Reset();
      PLEXUS_RETURN_IF_ERROR(put_column->Bind(1, read.product).Bind(2, column.substr(0, dot))
                                 .Bind(3, column.substr(dot + 1)).Bind(4, queries)
                                 .Bind(5, read.last_at).Run());
    }
  }
  return tx.Commit();
}

Result<ProductUsage> Catalog::GetProductUsage(const std::string& product,
                                              const std::string& since) const {
  std::lock_guard lock(mu_);
  ProductUsage usage;
  usage.product = product;
  PLEXUS_ASSIGN_OR_RETURN(auto readers, db_->Prepare(
      "SELECT principal, sum(queries), sum(rows), max(last_at) FROM usage_reads "
      "WHERE product = ? AND day >= ? GROUP BY principal ORDER BY 2 DESC, 1"));
  readers->Bind(1, product).Bind(2, since);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, readers->Step());
    if (!row) break;
    ProductUsage::Reader r{readers->Text(0), readers->Int(1), readers->Int(2), readers->Text(3)};
    usage.total.queries += r.queries;
    usage.total.rows += r.rows;
    usage.total.last_at = std::max(usage.total.last_at, r.last_at);
    usage.readers.push_back(std::move(r));
  }
  usage.total.readers = static_cast<int64_t>(usage.readers.size());
  PLEXUS_ASSIGN_OR_RETURN(auto columns, db_->Prepare(
      "SELECT port, column_name, queries FROM usage_columns WHERE product = ? "
      "ORDER BY queries DESC, port, column_name"));
  columns->Bind(1, product);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, columns->Step());
    if (!row) break;
    usage.columns.push_back({columns->Text(0), columns->Text(1), columns->Int(2)});
  }
  PLEXUS_ASSIGN_OR_RETURN(auto days, db_->Prepare(
      "SELECT day, sum(queries) FROM usage_reads WHERE product = ? AND day >= ? "
      "GROUP BY day ORDER BY day"));
  days->Bind(1, product).Bind(2, since);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, days->Step());
    if (!row) break;
    usage.days.emplace_back(days->Text(0), days->Int(1));
  }
  return usage;
}

Result<std::map<std::string, UsageSummary>> Catalog::ListUsage(const std::string& since) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT product, sum(queries), count(DISTINCT principal), sum(rows), max(last_at) "
      "FROM usage_reads WHERE day >= ? GROUP BY product"));
  stmt->Bind(1, since);
  std::map<std::string, UsageSummary> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out[stmt->Text(0)] = {stmt->Int(1), stmt->Int(2), stmt->Int(3), stmt->Text(4)};
  }
  return out;
}

}  // namespace plexus::catalog
