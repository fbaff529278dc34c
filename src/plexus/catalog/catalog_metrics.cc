// Run metrics per port and processor step (issue 9): each run's figures (run_metrics), the
// hourly rows older figures are folded into (run_metrics_hourly), and cumulative totals per
// series (metric_series) that never go down, so Prometheus counters stay monotonic when the
// history is compacted. A series is (product, port, position, processor); position -1 is the
// port itself.
#include <cstdio>
#include <ctime>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::Statement;

namespace {

constexpr const char* kSeries = "product_id, port, position, processor";

/// The columns ReadMetric reads, from a table aliased m joined to products p.
constexpr const char* kMetricColumns =
    "m.run_id, m.product_id, coalesce(p.domain || '.' || p.name, ''), m.port, m.position, "
    "m.processor, m.rows_in, m.rows_out, m.rows_rejected, m.bytes_in, m.bytes_out, m.seconds, "
    "m.lag_seconds, m.at";

RunMetricRecord ReadMetric(const Statement& s) {
  RunMetricRecord r;
  r.run_id = s.Int(0);
  r.product_id = s.Text(1);
  r.product = s.Text(2);
  r.port = s.Text(3);
  r.position = static_cast<int>(s.Int(4));
  r.processor = s.Text(5);
  r.rows_in = s.Int(6);
  r.rows_out = s.Int(7);
  r.rows_rejected = s.Int(8);
  r.bytes_in = s.Int(9);
  r.bytes_out = s.Int(10);
  r.seconds = s.Real(11);
  r.lag_seconds = s.IsNull(12) ? -1 : s.Real(12);
  r.at = s.Text(13);
  return r;
}

Result<std::vector<RunMetricRecord>> ReadAll(Statement& stmt) {
  std::vector<RunMetricRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadMetric(stmt));
  }
  return out;
}

void BindFigures(Statement& s, int first, const RunMetricRecord& m) {
  s.Bind(first, m.rows_in).Bind(first + 1, m.rows_out).Bind(first + 2, m.rows_rejected);
  s.Bind(first + 3, m.bytes_in).Bind(first + 4, m.bytes_out).BindReal(first + 5, m.seconds);
  if (m.lag_seconds >= 0) {
    s.BindReal(first + 6, m.lag_seconds);
  } else {
    s.BindNull(first + 6);
  }
}

/// `now` (NowUtc's form) minus `days`, truncated to its hour: "YYYY-MM-DDTHH:00:00.000Z".
Result<std::string> HourCutoff(const std::string& now, int days) {
  std::tm tm{};
  if (now.size() < 19 || std::sscanf(now.c_str(), "%4d-%2d-%2dT%2d", &tm.tm_year, &tm.tm_mon,
                                     &tm.tm_mday, &tm.tm_hour) != 4) {
    return InvalidArgument("not an ISO 8601 time: " + now);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_mday -= days;
  std::time_t t = timegm(&tm);
  std::tm out{};
  gmtime_r(&t, &out);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:00:00.000Z", &out);
  return std::string(buf);
}

}  // namespace

Status Catalog::CreateMetricsTables() {
  return db_->Execute(R"(
CREATE TABLE IF NOT EXISTS run_metrics (run_id INTEGER NOT NULL, product_id TEXT NOT NULL,
  port TEXT NOT NULL, position INTEGER NOT NULL, processor TEXT NOT NULL,
  rows_in INTEGER NOT NULL, rows_out INTEGER NOT NULL, rows_rejected INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, seconds REAL NOT NULL,
  lag_seconds REAL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS run_metrics_by_product ON run_metrics (product_id, at);
CREATE INDEX IF NOT EXISTS run_metrics_by_run ON run_metrics (run_id);
CREATE TABLE IF NOT EXISTS run_metrics_hourly (run_id INTEGER NOT NULL, product_id TEXT NOT NULL,
  port TEXT NOT NULL, position INTEGER NOT NULL, processor TEXT NOT NULL,
  rows_in INTEGER NOT NULL, rows_out INTEGER NOT NULL, rows_rejected INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, seconds REAL NOT NULL,
  lag_seconds REAL, at TEXT NOT NULL, runs INTEGER NOT NULL,
  PRIMARY KEY (product_id, port, position, processor, at));
CREATE INDEX IF NOT EXISTS run_metrics_hourly_by_time ON run_metrics_hourly (at);
CREATE TABLE IF NOT EXISTS metric_series (product_id TEXT NOT NULL, port TEXT NOT NULL,
  position INTEGER NOT NULL, processor TEXT NOT NULL, runs INTEGER NOT NULL,
  rows_in INTEGER NOT NULL, rows_out INTEGER NOT NULL, rows_rejected INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, seconds REAL NOT NULL,
  last_run_id INTEGER NOT NULL, last_rows_in INTEGER NOT NULL, last_rows_out INTEGER NOT NULL,
  last_rows_rejected INTEGER NOT NULL, last_bytes_in INTEGER NOT NULL,
  last_bytes_out INTEGER NOT NULL, last_seconds REAL NOT NULL, last_lag_seconds REAL,
  last_at TEXT NOT NULL, PRIMARY KEY (product_id, port, position, processor));
)");
}

Status Catalog::AddMetricTotalsLocked(const RunMetricRecord& m, const std::string& at) {
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Cached(
      "INSERT INTO metric_series VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11, ?13) ON CONFLICT (product_id, port, position, processor) DO UPDATE "
      "SET runs = runs + 1, rows_in = rows_in + ?5, rows_out = rows_out + ?6, "
      "rows_rejected = rows_rejected + ?7, bytes_in = bytes_in + ?8, bytes_out = bytes_out + ?9, "
      "seconds = seconds + ?10, last_run_id = ?12, last_rows_in = ?5, last_rows_out = ?6, "
      "last_rows_rejected = ?7, last_bytes_in = ?8, last_bytes_out = ?9, last_seconds = ?10, "
      "last_lag_seconds = ?11, last_at = ?13"));
  put->Bind(1, m.product_id).Bind(2, m.port).Bind(3, int64_t{m.position}).Bind(4, m.processor);
  BindFigures(*put, 5, m);
  put->Bind(12, m.run_id).Bind(13, at);
  return put->Run();
}

Status Catalog::RecordRunMetrics(const std::vector<RunMetricRecord>& metrics) {
  if (metrics.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  std::string now = NowUtc();
  for (const auto& m : metrics) {
    const std::string& at = m.at.empty() ? now : m.at;
    PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Cached(
        "INSERT INTO run_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    put->Bind(1, m.run_id).Bind(2, m.product_id).Bind(3, m.port);
    put->Bind(4, int64_t{m.position}).Bind(5, m.processor);
    BindFigures(*put, 6, m);
    put->Bind(13, at);
    PLEXUS_RETURN_IF_ERROR(put->Run());
    PLEXUS_RETURN_IF_ERROR(AddMetricTotalsLocked(m, at));
  }
  return tx.Commit();
}

Result<std::vector<RunMetricRecord>> Catalog::ListRunMetrics(int64_t run_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kMetricColumns +
      " FROM run_metrics m LEFT JOIN products p ON p.id = m.product_id WHERE m.run_id = ? "
      "ORDER BY m.port, m.position"));
  stmt->Bind(1, run_id);
  return ReadAll(*stmt);
}

Result<std::vector<RunMetricRecord>> Catalog::MetricsHistory(const std::string& product_id,
                                                             const std::string& since) const {
  std::string from;
  if (!since.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(from, internal::NormalizeTimestamp(since, "since"));
  }
  std::lock_guard lock(mu_);
  std::string columns = kMetricColumns;
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT * FROM (SELECT " + columns +
      " FROM run_metrics m LEFT JOIN products p ON p.id = m.product_id "
      "WHERE m.product_id = ?1 AND m.at >= ?2 UNION ALL SELECT " + columns +
      " FROM run_metrics_hourly m LEFT JOIN products p ON p.id = m.product_id "
      "WHERE m.product_id = ?1 AND m.at >= ?2) ORDER BY 14, 1, 4, 5"));
  stmt->Bind(1, product_id).Bind(2, from);
  return ReadAll(*stmt);
}

Result<std::vector<RunMetricRecord>> Catalog::MetricTotals() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT m.last_run_id, m.product_id, coalesce(p.domain || '.' || p.name, ''), m.port, "
      "m.position, m.processor, m.rows_in, m.rows_out, m.rows_rejected, m.bytes_in, "
      "m.bytes_out, m.seconds, m.last_lag_seconds, m.last_at FROM metric_series m "
      "LEFT JOIN products p ON p.id = m.product_id ORDER BY 3, 4, 5"));
  return ReadAll(*stmt);
}

Result<std::vector<RunMetricRecord>> Catalog::LatestMetrics() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT m.last_run_id, m.product_id, coalesce(p.domain || '.' || p.name, ''), m.port, "
      "m.position, m.processor, m.last_rows_in, m.last_rows_out, m.last_rows_rejected, "
      "m.last_bytes_in, m.last_bytes_out, m.last_seconds, m.last_lag_seconds, m.last_at "
      "FROM metric_series m LEFT JOIN products p ON p.id = m.product_id ORDER BY 3, 4, 5"));
  return ReadAll(*stmt);
}

Result<std::vector<Catalog::RunStatusCount>> Catalog::RunStatusCounts() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT r.product_id, coalesce(p.domain || '.' || p.name, ''), r.status, count(*), "
      "coalesce(max(r.finished_at), '') FROM runs r LEFT JOIN products p ON p.id = r.product_id "
      "GROUP BY r.product_id, r.status ORDER BY 2, 3"));
  std::vector<RunStatusCount> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Int(3), stmt->Text(4)});
  }
  return out;
}

Status Catalog::CompactMetrics(const std::string& now) {
  PLEXUS_ASSIGN_OR_RETURN(std::string raw_cutoff, HourCutoff(now, kRawMetricDays));
  PLEXUS_ASSIGN_OR_RETURN(std::string hourly_cutoff, HourCutoff(now, kHourlyMetricDays));
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  // The raw rows to fold: older than the raw window, or beyond the newest kRawPerSeries of
  // their series. Whole hours only (older than the newest such row's hour), so an hour is
  // folded once and a later fold of the same hour adds to its row.
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "CREATE TEMP TABLE IF NOT EXISTS fold (rid INTEGER PRIMARY KEY); DELETE FROM temp.fold;"));
  PLEXUS_ASSIGN_OR_RETURN(auto mark, db_->Prepare(
      std::string("INSERT INTO temp.fold SELECT rowid FROM (SELECT rowid, at, row_number() OVER "
                  "(PARTITION BY ") + kSeries + " ORDER BY at DESC, run_id DESC) AS n "
      "FROM run_metrics) WHERE at < ?1 OR n > ?2"));
  PLEXUS_RETURN_IF_ERROR(mark->Bind(1, raw_cutoff).Bind(2, int64_t{kRawPerSeries}).Run());
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      std::string("INSERT INTO run_metrics_hourly SELECT max(run_id), ") + kSeries +
      ", sum(rows_in), sum(rows_out), sum(rows_rejected), sum(bytes_in), sum(bytes_out), "
      "sum(seconds), max(lag_seconds), substr(at, 1, 13) || ':00:00.000Z', count(*) "
      "FROM run_metrics WHERE rowid IN (SELECT rid FROM temp.fold) GROUP BY " + kSeries +
      ", substr(at, 1, 13) ORDER BY 1 ON CONFLICT (product_id, port, position, processor, at) "
      "DO UPDATE SET run_id = max(run_id, excluded.run_id), rows_in = rows_in + excluded.rows_in, "
      "rows_out = rows_out + excluded.rows_out, "
      "rows_rejected = rows_rejected + excluded.rows_rejected, "
      "bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out, "
      "seconds = seconds + excluded.seconds, "
      "lag_seconds = max(coalesce(lag_seconds, -1), coalesce(excluded.lag_seconds, -1)), "
      "runs = runs + excluded.runs"));
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "DELETE FROM run_metrics WHERE rowid IN (SELECT rid FROM temp.fold); DELETE FROM temp.fold;"));
  PLEXUS_ASSIGN_OR_RETURN(auto expire,
                          db_->Prepare("DELETE FROM run_metrics_hourly WHERE at < ?"));
  PLEXUS_RETURN_IF_ERROR(expire->Bind(1, hourly_cutoff).Run());
  return tx.Commit();
}

}  // namespace plexus::catalog
