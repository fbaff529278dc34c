// SLO status and history, trust scores (issue 9). The observe module evaluates (observe/slo.h,
// observe/trust.h); these tables keep what it found: the current status of each objective, each
// change of status, per-day counts for attainment and availability, and the trust scores. Day
// counts and history older than 90 days are pruned when new ones are written, so the tables stay
// bounded however often `plexus serve` evaluates.
#include <algorithm>
#include <cmath>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::Statement;

namespace {

constexpr const char* kSloSchema = R"sql(
CREATE TABLE IF NOT EXISTS slo_status (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, property TEXT NOT NULL, objective TEXT NOT NULL,
  objective_value REAL, observed REAL, unit TEXT, status TEXT NOT NULL, detail TEXT,
  since TEXT NOT NULL, evaluated_at TEXT NOT NULL,
  PRIMARY KEY (product_id, port, major, property, objective));
CREATE TABLE IF NOT EXISTS slo_changes (id INTEGER PRIMARY KEY AUTOINCREMENT,
  product_id TEXT NOT NULL, port TEXT NOT NULL, major INTEGER NOT NULL, property TEXT NOT NULL,
  objective TEXT NOT NULL, objective_value REAL, observed REAL, unit TEXT, status TEXT NOT NULL,
  detail TEXT, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS slo_changes_by_product ON slo_changes (product_id, id);
CREATE TABLE IF NOT EXISTS slo_daily (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, property TEXT NOT NULL, objective TEXT NOT NULL, day TEXT NOT NULL,
  evaluations INTEGER NOT NULL, met INTEGER NOT NULL, at_risk INTEGER NOT NULL,
  breached INTEGER NOT NULL, unknown INTEGER NOT NULL,
  PRIMARY KEY (product_id, port, major, property, objective, day));
CREATE TABLE IF NOT EXISTS port_serving_daily (product_id TEXT NOT NULL, port TEXT NOT NULL,
  major INTEGER NOT NULL, day TEXT NOT NULL, evaluations INTEGER NOT NULL,
  servable INTEGER NOT NULL, PRIMARY KEY (product_id, port, major, day));
CREATE TABLE IF NOT EXISTS trust_scores (product_id TEXT PRIMARY KEY, score REAL NOT NULL,
  slo REAL, quality REAL, stability REAL, documentation REAL, consumers REAL,
  computed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trust_history (product_id TEXT NOT NULL, score REAL NOT NULL,
  slo REAL, quality REAL, stability REAL, documentation REAL, consumers REAL,
  computed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trust_history_by_product ON trust_history (product_id, computed_at);
)sql";

/// How long day counts and history are kept.
constexpr const char* kKept = "-90 days";

/// The day (UTC) of an ISO 8601 time.
std::string DayOf(const std::string& at) { return at.substr(0, 10); }

constexpr const char* kStatusColumns =
    "s.product_id, p.domain || '.' || p.name, s.port, s.major, s.property, s.objective, "
    "coalesce(s.objective_value, 0), s.observed IS NOT NULL, coalesce(s.observed, 0), "
    "coalesce(s.unit, ''), s.status, coalesce(s.detail, '')";

SloStatusRecord ReadStatus(const Statement& s) {
  SloStatusRecord r;
  r.product_id = s.Text(0);
  r.product = s.Text(1);
  r.port = s.Text(2);
  r.major = static_cast<int>(s.Int(3));
  r.property = s.Text(4);
  r.objective = s.Text(5);
  r.objective_value = s.Real(6);
  r.has_observed = s.Int(7) != 0;
  r.observed = s.Real(8);
  r.unit = s.Text(9);
  r.status = s.Text(10);
  r.detail = s.Text(11);
  return r;
}

/// Binds the objective's key (product_id, port, major, property, objective) at 1..5.
Statement& BindKey(Statement& s, const SloStatusRecord& r) {
  return s.Bind(1, r.product_id).Bind(2, r.port).Bind(3, int64_t{r.major}).Bind(4, r.property)
      .Bind(5, r.objective);
}

/// Binds objective_value, observed, unit, status and detail at 6..10.
Statement& BindFigures(Statement& s, const SloStatusRecord& r) {
  s.BindReal(6, r.objective_value);
  if (r.has_observed && std::isfinite(r.observed)) {
    s.BindReal(7, r.observed);
  } else {
    s.BindNull(7);
  }
  return s.Bind(8, r.unit).Bind(9, r.status).Bind(10, r.detail);
}

constexpr const char* kTrustColumns =
    "t.product_id, p.domain || '.' || p.name, t.score, coalesce(t.slo, 0), "
    "coalesce(t.quality, 0), coalesce(t.stability, 0), coalesce(t.documentation, 0), "
    "coalesce(t.consumers, 0), t.computed_at";

TrustScoreRecord ReadTrust(const Statement& s) {
  TrustScoreRecord r;
  r.product_id = s.Text(0);
  r.product = s.Text(1);
  r.score = s.Real(2);
  r.slo = s.Real(3);
  r.quality = s.Real(4);
  r.stability = s.Real(5);
  r.documentation = s.Real(6);
  r.consumers = s.Real(7);
  r.computed_at = s.Text(8);
  return r;
}

Statement& BindTrust(Statement& s, const TrustScoreRecord& r) {
  return s.Bind(1, r.product_id).BindReal(2, r.score).BindReal(3, r.slo).BindReal(4, r.quality)
      .BindReal(5, r.stability).BindReal(6, r.documentation).BindReal(7, r.consumers)
      .Bind(8, r.computed_at);
}

}  // namespace

Status Catalog::CreateSloTables() { return db_->Execute(kSloSchema); }

Result<std::vector<SlaPropertyRecord>> Catalog::ListSlaProperties() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT s.product_id, p.domain || '.' || p.name, s.port, s.major, s.position, "
      "coalesce(s.property, ''), coalesce(s.value, ''), coalesce(s.unit, ''), "
      "coalesce(s.element, '') FROM port_slas s JOIN products p ON p.id = s.product_id "
      "ORDER BY p.domain, p.name, s.port, s.major, s.position"));
  std::vector<SlaPropertyRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->Text(0), stmt->Text(1), stmt->Text(2), static_cast<int>(stmt->Int(3)),
                   static_cast<int>(stmt->Int(4)), stmt->Text(5), stmt->Text(6), stmt->Text(7),
                   stmt->Text(8)});
  }
  return out;
}

Result<RunWindowRecord> Catalog::SloRunWindow(const std::string& product_id,
                                              const std::string& since) const {
  std::lock_guard lock(mu_);
  RunWindowRecord out;
  PLEXUS_ASSIGN_OR_RETURN(auto counts, db_->Prepare(
      "SELECT count(*), coalesce(sum(status = 'failed'), 0) FROM runs WHERE product_id = ? "
      "AND finished_at IS NOT NULL AND julianday(finished_at) >= julianday(?)"));
  counts->Bind(1, product_id).Bind(2, since);
  PLEXUS_ASSIGN_OR_RETURN(bool row, counts->Step());
  if (row) {
    out.runs = counts->Int(0);
    out.failed = counts->Int(1);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto successes, db_->Prepare(
      "SELECT finished_at FROM runs WHERE product_id = ? AND status = 'succeeded' AND "
      "finished_at IS NOT NULL ORDER BY id DESC LIMIT 2"));
  successes->Bind(1, product_id);
  for (int i = 0; i < 2; ++i) {
    PLEXUS_ASSIGN_OR_RETURN(row, successes->Step());
    if (!row) break;
    (i == 0 ? out.last_success_at : out.previous_success_at) = successes->Text(0);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto first, db_->Prepare(
      "SELECT coalesce((SELECT min(started_at) FROM runs WHERE product_id = ?1), ''), "
      "coalesce((SELECT finished_at FROM runs WHERE product_id = ?1 AND status = 'succeeded' "
      "AND finished_at IS NOT NULL AND julianday(finished_at) >= julianday(?2) "
      "ORDER BY id LIMIT 1), '')"));
  first->Bind(1, product_id).Bind(2, since);
  PLEXUS_ASSIGN_OR_RETURN(row, first->Step());
  if (row) {
    out.first_run_at = first->Text(0);
    out.first_success_at = first->Text(1);
  }
  return out;
}

Status Catalog::RecordServingSample(const std::string& product_id, const std::string& port,
                                    int major, bool servable, const std::string& now) {
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT INTO port_serving_daily VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT DO UPDATE SET "
      "evaluations = evaluations + 1, servable = servable + ?5"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major})
                             .Bind(4, DayOf(now)).Bind(5, int64_t{servable ? 1 : 0}).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto prune, db_->Prepare(
      "DELETE FROM port_serving_daily WHERE day < date(?1, ?2)"));
  PLEXUS_RETURN_IF_ERROR(prune->Bind(1, now).Bind(2, kKept).Run());
  return tx.Commit();
}

Result<std::pair<int64_t, int64_t>> Catalog::ServingSamples(const std::string& product_id,
                                                            const std::string& port, int major,
                                                            const std::string& since) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT coalesce(sum(servable), 0), coalesce(sum(evaluations), 0) FROM port_serving_daily "
      "WHERE product_id = ? AND port = ? AND major = ? AND day >= ?"));
  stmt->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major}).Bind(4, DayOf(since));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::pair<int64_t, int64_t>{0, 0};
  return std::pair<int64_t, int64_t>{stmt->Int(0), stmt->Int(1)};
}

Status Catalog::RecordSloEvaluation(const std::vector<SloStatusRecord>& statuses,
                                    const std::string& now) {
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto current, db_->Prepare(
      "SELECT status, since FROM slo_status WHERE product_id = ?1 AND port = ?2 AND major = ?3 "
      "AND property = ?4 AND objective = ?5"));
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT OR REPLACE INTO slo_status VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "?12)"));
  PLEXUS_ASSIGN_OR_RETURN(auto change, db_->Prepare(
      "INSERT INTO slo_changes (product_id, port, major, property, objective, objective_value, "
      "observed, unit, status, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  PLEXUS_ASSIGN_OR_RETURN(auto day, db_->Prepare(
      "INSERT INTO slo_daily VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7 = 'met', ?7 = 'at_risk', "
      "?7 = 'breached', ?7 = 'unknown') ON CONFLICT DO UPDATE SET evaluations = evaluations + 1, "
      "met = met + (?7 = 'met'), at_risk = at_risk + (?7 = 'at_risk'), "
      "breached = breached + (?7 = 'breached'), unknown = unknown + (?7 = 'unknown')"));
  for (const auto& r : statuses) {
    current->Reset();
    BindKey(*current, r);
    PLEXUS_ASSIGN_OR_RETURN(bool known, current->Step());
    bool changed = !known || current->Text(0) != r.status;
    std::string since = changed ? now : current->Text(1);
    put->Reset();
    BindFigures(BindKey(*put, r), r);
    PLEXUS_RETURN_IF_ERROR(put->Bind(11, since).Bind(12, now).Run());
    if (changed) {
      change->Reset();
      BindFigures(BindKey(*change, r), r);
      PLEXUS_RETURN_IF_ERROR(change->Bind(11, now).Run());
    }
    day->Reset();
    PLEXUS_RETURN_IF_ERROR(
        BindKey(*day, r).Bind(6, DayOf(now)).Bind(7, r.status).Run());
  }
  PLEXUS_RETURN_IF_ERROR(PruneSloLocked(now));
  return tx.Commit();
}

Status Catalog::PruneSloLocked(const std::string& now) {
  // The evaluation covers every declared objective: the others are no longer declared.
  PLEXUS_ASSIGN_OR_RETURN(auto stale, db_->Prepare(
      "DELETE FROM slo_status WHERE evaluated_at <> ?"));
  PLEXUS_RETURN_IF_ERROR(stale->Bind(1, now).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto prune_days, db_->Prepare(
      "DELETE FROM slo_daily WHERE day < date(?1, ?2)"));
  PLEXUS_RETURN_IF_ERROR(prune_days->Bind(1, now).Bind(2, kKept).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto prune_changes, db_->Prepare(
      "DELETE FROM slo_changes WHERE julianday(at) < julianday(?1, ?2)"));
  return prune_changes->Bind(1, now).Bind(2, kKept).Run();
}

Result<std::vector<SloStatusRecord>> Catalog::ListSloStatus(const std::string& product_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kStatusColumns + ", s.since, s.evaluated_at FROM slo_status s "
      "JOIN products p ON p.id = s.product_id WHERE ?1 = '' OR s.product_id = ?1 "
      "ORDER BY p.domain, p.name, s.port, s.major, s.property, s.objective"));
  stmt->Bind(1, product_id);
  std::vector<SloStatusRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadStatus(*stmt));
    out.back().since = stmt->Text(12);
    out.back().evaluated_at = stmt->Text(13);
  }
  return out;
}

Result<std::vector<SloStatusRecord>> Catalog::ListSloHistory(const std::string& product_id,
                                                             const std::string& since) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kStatusColumns + ", s.at FROM slo_changes s "
      "JOIN products p ON p.id = s.product_id WHERE s.product_id = ?1 AND "
      "(?2 = '' OR julianday(s.at) >= julianday(?2)) ORDER BY s.id"));
  stmt->Bind(1, product_id).Bind(2, since);
  std::vector<SloStatusRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadStatus(*stmt));
    out.back().since = out.back().evaluated_at = stmt->Text(12);
  }
  return out;
}

Result<std::map<std::string, double>> Catalog::SloAttainment(const std::string& since) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT product_id, sum(met + at_risk), sum(met + at_risk + breached) FROM slo_daily "
      "WHERE day >= ? GROUP BY product_id HAVING sum(met + at_risk + breached) > 0"));
  stmt->Bind(1, DayOf(since));
  std::map<std::string, double> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out[stmt->Text(0)] = static_cast<double>(stmt->Int(1)) / static_cast<double>(stmt->Int(2));
  }
  return out;
}

Status Catalog::RecordTrustScores(const std::vector<TrustScoreRecord>& scores) {
  if (scores.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT OR REPLACE INTO trust_scores VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  // History: a row when the score moved by 0.05 or more, or on a new day, so a score recomputed
  // every minute keeps at most a few rows a day.
  PLEXUS_ASSIGN_OR_RETURN(auto last, db_->Prepare(
      "SELECT score, computed_at FROM trust_history WHERE product_id = ? "
      "ORDER BY computed_at DESC LIMIT 1"));
  PLEXUS_ASSIGN_OR_RETURN(auto keep, db_->Prepare(
      "INSERT INTO trust_history VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  PLEXUS_ASSIGN_OR_RETURN(auto prune, db_->Prepare(
      "DELETE FROM trust_history WHERE product_id = ?1 AND "
      "julianday(computed_at) < julianday(?2, ?3)"));
  for (const auto& r : scores) {
    put->Reset();
    PLEXUS_RETURN_IF_ERROR(BindTrust(*put, r).Run());
    last->Reset();
    last->Bind(1, r.product_id);
    PLEXUS_ASSIGN_OR_RETURN(bool any, last->Step());
    bool moved = !any || std::fabs(last->Real(0) - r.score) >= 0.05 ||
                 DayOf(last->Text(1)) != DayOf(r.computed_at);
    if (moved) {
      keep->Reset();
      PLEXUS_RETURN_IF_ERROR(BindTrust(*keep, r).Run());
    }
    prune->Reset();
    PLEXUS_RETURN_IF_ERROR(prune->Bind(1, r.product_id).Bind(2, r.computed_at).Bind(3, kKept).Run());
  }
  return tx.Commit();
}

Result<std::vector<TrustScoreRecord>> Catalog::ListTrustScores() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kTrustColumns + " FROM trust_scores t "
      "JOIN products p ON p.id = t.product_id ORDER BY p.domain, p.name"));
  std::vector<TrustScoreRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadTrust(*stmt));
  }
  return out;
}

Result<std::vector<TrustScoreRecord>> Catalog::TrustHistory(const std::string& product_id,
                                                            int limit) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kTrustColumns + " FROM trust_history t "
      "JOIN products p ON p.id = t.product_id WHERE t.product_id = ?1 "
      "ORDER BY t.computed_at DESC, t.rowid DESC LIMIT ?2"));
  stmt->Bind(1, product_id).Bind(2, int64_t{limit > 0 ? limit : -1});
  std::vector<TrustScoreRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadTrust(*stmt));
  }
  return out;
}

namespace {

/// The rule a quality result belongs to: port, major, place and name.
bool SameRule(const QualityRuleHistoryRecord& h, const Statement& s) {
  return h.port == s.TextView(0) && h.major == s.Int(1) && h.rule_position == s.Int(2) &&
         h.rule == s.TextView(3);
}

/// The passed share of a window's checks (passed and failed only); -1 when none.
double PassRate(int64_t passed, int64_t checked) {
  return checked > 0 ? static_cast<double>(passed) / static_cast<double>(checked) : -1;
}

/// Counts of one rule's checks in the last 7 days and the 7 before them.
struct TrendWindows {
  int64_t passed[2] = {0, 0};
  int64_t checked[2] = {0, 0};
  double measured_sum[2] = {0, 0};
  int64_t measured_count[2] = {0, 0};
};

void Finish(QualityRuleHistoryRecord& h, const TrendWindows& w) {
  h.pass_rate_recent = PassRate(w.passed[0], w.checked[0]);
  h.pass_rate_before = PassRate(w.passed[1], w.checked[1]);
  if (h.pass_rate_recent >= 0 && h.pass_rate_before >= 0) {
    double delta = h.pass_rate_recent - h.pass_rate_before;
    h.trend = delta > 0.05 ? "improving" : delta < -0.05 ? "declining" : "steady";
  }
  if (w.measured_count[0] > 0 && w.measured_count[1] > 0) {
    double recent = w.measured_sum[0] / static_cast<double>(w.measured_count[0]);
    double before = w.measured_sum[1] / static_cast<double>(w.measured_count[1]);
    double scale = std::max({std::fabs(recent), std::fabs(before), 1e-9});
    double change = (recent - before) / scale;
    h.measured_trend = change > 0.05 ? "rising" : change < -0.05 ? "falling" : "steady";
  }
}

/// One row of QualityHistory's query: the check counted in its trend window, and kept as a
/// point when it is at or after the asked time. The newest check names the rule's column,
/// check, threshold and severity.
void AddCheck(const Statement& s, QualityRuleHistoryRecord& h, TrendWindows& windows) {
  h.column = s.Text(4);
  h.check = s.Text(5);
  h.unit = s.Text(6);
  h.threshold = s.Text(7);
  h.severity = s.Text(8);
  QualityPointRecord point{s.Text(9), s.Int(10), s.Text(11), s.Int(12) != 0, s.Real(13)};
  double age_days = s.Real(14);
  int window = age_days < 0 ? -1 : age_days <= 7 ? 0 : age_days <= 14 ? 1 : -1;
  if (window >= 0 && point.status != "not_evaluated") {
    windows.checked[window]++;
    if (point.status == "passed") windows.passed[window]++;
    if (point.has_measured) {
      windows.measured_sum[window] += point.measured;
      windows.measured_count[window]++;
    }
  }
  if (s.Int(15) != 0) h.points.push_back(std::move(point));
}

}  // namespace

Result<std::vector<QualityRuleHistoryRecord>> Catalog::QualityHistory(
    const std::string& product_id, const std::string& since, const std::string& now) const {
  std::string at = now.empty() ? NowUtc() : now;
  std::lock_guard lock(mu_);
  // Read from the earlier of `since` and 14 days ago, so the trend has its two windows; only
  // the checks at or after `since` are returned.
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT port, major, rule_position, coalesce(rule, ''), coalesce(column_name, ''), "
      "coalesce(check_name, ''), coalesce(unit, ''), coalesce(threshold, ''), "
      "coalesce(severity, ''), coalesce(checked_at, ''), coalesce(run_id, 0), status, "
      "measured IS NOT NULL, coalesce(measured, 0), julianday(?2) - julianday(checked_at), "
      "?3 = '' OR julianday(checked_at) >= julianday(?3) FROM quality_results "
      "WHERE product_id = ?1 AND (julianday(checked_at) >= julianday(?2, '-14 days') OR ?3 = '' "
      "OR julianday(checked_at) >= julianday(?3)) "
      "ORDER BY port, major, rule_position, rule, checked_at, id"));
  stmt->Bind(1, product_id).Bind(2, at).Bind(3, since);
  std::vector<QualityRuleHistoryRecord> out;
  TrendWindows windows;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (out.empty() || !SameRule(out.back(), *stmt)) {
      if (!out.empty()) Finish(out.back(), windows);
      windows = TrendWindows{};
      QualityRuleHistoryRecord h;
      h.product_id = product_id;
      h.port = stmt->Text(0);
      h.major = static_cast<int>(stmt->Int(1));
      h.rule_position = static_cast<int>(stmt->Int(2));
      h.rule = stmt->Text(3);
      out.push_back(std::move(h));
    }
    AddCheck(*stmt, out.back(), windows);
  }
  if (!out.empty()) Finish(out.back(), windows);
  // A rule with checks only before `since` (read for its trend) is left out.
  std::erase_if(out, [](const QualityRuleHistoryRecord& h) { return h.points.empty(); });
  return out;
}

Result<std::map<std::string, double>> Catalog::QualityPassRates(const std::string& since) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT product_id, sum(status = 'passed'), sum(status IN ('passed', 'failed')) "
      "FROM quality_results WHERE julianday(checked_at) >= julianday(?) GROUP BY product_id "
      "HAVING sum(status IN ('passed', 'failed')) > 0"));
  stmt->Bind(1, since);
  std::map<std::string, double> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out[stmt->Text(0)] = PassRate(stmt->Int(1), stmt->Int(2));
  }
  return out;
}

}  // namespace plexus::catalog
