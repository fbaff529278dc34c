// The CDC applier's SQL path (cdc_apply_internal.h): the raw texts into a work table, the new
// and the source columns, each port's typed rows (through its processor steps when it has
// some), the dead letters and the error rate, each port's winners and the merge, in one
// transaction with the dead letters and the offsets. The SQL text is cdc_apply_sql.cc's.
#include <algorithm>
#include <cstdio>
#include <set>

#include "plexus/common/text.h"
#include "plexus/pipeline/cdc_apply_internal.h"
#include "plexus/pipeline/cdc_apply_sql.h"

namespace plexus::pipeline {
namespace {

using engine::QuoteIdentifier;
using engine::QuoteLiteral;
using internal::Join;
using internal::JsonKey;
using internal::ScalarInt;

// Internal column names of the working tables (a contract column is unlikely to start so).
constexpr const char* kIdx = internal::kCdcIdx;
constexpr const char* kOp = internal::kCdcOp;
constexpr const char* kPos = internal::kCdcPos;
constexpr const char* kReason = internal::kCdcReason;

}  // namespace

Result<ApplyReport> CdcApplier::State::ApplySql(const std::vector<std::string>& events,
                                                const SourceOffsets& offsets, Profile& prof) {
  ApplyReport report;
  report.events = static_cast<int64_t>(events.size());
  PLEXUS_RETURN_IF_ERROR(LoadRaw(events));
  prof.Mark("load");
  std::vector<NamedTypes> fresh(ports.size());
  PLEXUS_RETURN_IF_ERROR(FreshColumns(events.size(), fresh, prof));
  prof.Mark("newcols");
  std::string alter;
  std::vector<std::string> names;
  for (const auto& port_fresh : fresh) {
    for (const auto& [name, type] : port_fresh) {
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      names.push_back(name);
      report.new_columns.push_back(name + " " + type);
    }
  }
  if (!names.empty() && spec.new_columns == "pause") {
    report.paused = true;
    report.pause_reason = "the source has column(s) the contract does not declare: " +
                          Join(names, ", ") + " (new_columns: pause)";
    return report;
  }
  // Each port's columns for this batch: its table's, plus the new ones when they are added.
  std::vector<std::vector<Column>> columns;
  for (size_t i = 0; i < ports.size(); i++) {
    const auto& p = ports[i];
    columns.push_back(p.columns);
    if (spec.new_columns != "add") continue;
    for (const auto& [name, type] : fresh[i]) {
      columns.back().push_back({name, type, false, false});
      added.push_back({p.port.name, name, type});
      alter += "ALTER TABLE " + p.table + " ADD COLUMN " + QuoteIdentifier(name) + " " + type + ";";
    }
  }
  for (size_t i = 0; i < ports.size(); i++) {
    std::string typed = Work("typed" + std::to_string(i));
    if (!HasSteps(i)) {
      PLEXUS_RETURN_IF_ERROR(Type(typed, columns[i], events.size()));
      continue;
    }
    PLEXUS_RETURN_IF_ERROR(conn->Execute(
        "CREATE OR REPLACE TABLE " + typed + " AS " +
        internal::ConformChangeRows(SteppedTable(i), stepped[i], columns[i])));
  }
  prof.Mark("type");
  PLEXUS_RETURN_IF_ERROR(Dead());
  PLEXUS_ASSIGN_OR_RETURN(report.dead_lettered,
                          ScalarInt(*conn, "SELECT count(*) FROM " + Work("dead")));
  prof.Mark("dead");
  PLEXUS_ASSIGN_OR_RETURN(bool paused, PausedByErrorRate(report));
  if (paused) return report;
  std::string body = alter;
  for (size_t i = 0; i < ports.size(); i++) {
    PLEXUS_RETURN_IF_ERROR(Winners(i, ports[i], events.size()));
    if (i == 0) PLEXUS_RETURN_IF_ERROR(CountWinners(report));
    body += MergeSql(i, ports[i], columns[i]);
  }
  prof.Mark("winners");
  if (report.dead_lettered > 0) {
    body += "INSERT INTO " + dead_table + " SELECT now()::TIMESTAMP, _cdc_pos_text, " +
            kReason + ", line FROM " + Work("dead") + " ORDER BY " + kIdx + ";";
  }
  if (!offsets.empty()) body += OffsetsSql(offsets);
  if (row_steps != nullptr) body += row_steps->KeepSql();
  PLEXUS_RETURN_IF_ERROR(Transaction(body, true));
  if (row_steps != nullptr) row_steps->Kept();
  prof.Mark("merge+commit");
  KeepKeyStateInStep();
  if (!alter.empty()) {
    for (auto& p : ports) PLEXUS_RETURN_IF_ERROR(LoadColumns(p));
  }
  return report;
}

Status CdcApplier::State::LoadRaw(const std::vector<std::string>& events) {
  PLEXUS_RETURN_IF_ERROR(
      conn->Execute("CREATE OR REPLACE TABLE " + Work("raw") + " (idx BIGINT, line VARCHAR)"));
  PLEXUS_ASSIGN_OR_RETURN(
      auto appender,
      conn->MakeChunkAppender(Work("raw"), {engine::ChunkAppender::Type::kBigint,
                                            engine::ChunkAppender::Type::kVarchar}));
  for (size_t i = 0; i < events.size(); i++) {
    appender->SetInt64(0, static_cast<int64_t>(i));
    appender->SetText(1, events[i]);
    PLEXUS_RETURN_IF_ERROR(appender->EndRow());
  }
  return appender->Close();
}

Result<CdcApplier::State::NamedTypes> CdcApplier::State::NewColumns(size_t count) {
  std::set<std::string> known;
  for (const auto& p : ports) {
    for (const auto& c : p.columns) known.insert(AsciiLower(c.name));
  }
  std::string sample = " FROM " + Work("raw") + " WHERE idx % 16 = 0 OR idx = " +
                       std::to_string(count - 1);
  PLEXUS_ASSIGN_OR_RETURN(
      auto result,
      conn->Query("SELECT DISTINCT k FROM (SELECT unnest(list_concat(try(json_keys(line, "
                  "'$.payload.after')), try(json_keys(line, '$.after')))) AS k" + sample +
                  ") ORDER BY k"));
  std::vector<std::string> fresh;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->size(); r++) {
      std::string name = chunk->Text(0, r);
      if (!known.count(AsciiLower(name)) && name.rfind("_cdc_", 0) != 0) fresh.push_back(name);
    }
  }
  NamedTypes out;
  for (const auto& name : fresh) {
    std::string path = ".after." + JsonKey(name);
    PLEXUS_ASSIGN_OR_RETURN(
        auto types, conn->Query("SELECT DISTINCT coalesce(try(json_type(line, " +
                                QuoteLiteral("$.payload" + path) + ")), try(json_type(line, " +
                                QuoteLiteral("$" + path) + ")))" + sample));
    std::set<std::string> seen;
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(auto chunk, types->Fetch());
      if (!chunk) break;
      for (size_t r = 0; r < chunk->size(); r++) {
        if (!chunk->IsNull(0, r) && chunk->Text(0, r) != "NULL") seen.insert(chunk->Text(0, r));
      }
    }
    std::string type = "VARCHAR";
    seen.erase("UBIGINT");
    if (seen == std::set<std::string>{"BIGINT"}) type = "BIGINT";
    if (seen == std::set<std::string>{"DOUBLE"} ||
        seen == std::set<std::string>{"BIGINT", "DOUBLE"}) {
      type = "DOUBLE";
    }
    if (seen == std::set<std::string>{"BOOLEAN"}) type = "BOOLEAN";
    out.emplace_back(name, type);
  }
  return out;
}

Status CdcApplier::State::TypeSource(size_t count, Profile& prof) {
  PLEXUS_ASSIGN_OR_RETURN(auto source, row_steps->SourceColumns(Work("raw"), false));
  prof.Mark("srccols");
  PLEXUS_RETURN_IF_ERROR(Type(Work("src"), source, count));
  PLEXUS_ASSIGN_OR_RETURN(
      int64_t misfits, ScalarInt(*conn, "SELECT count(*) FROM " + Work("src") + " WHERE " +
                                            std::string(kReason) + " LIKE 'type mismatch%'"));
  if (misfits > 0) {
    PLEXUS_ASSIGN_OR_RETURN(source, row_steps->SourceColumns(Work("raw"), true));
    PLEXUS_RETURN_IF_ERROR(Type(Work("src"), source, count));
  }
  prof.Mark("srctype");
  return Status::OK();
}

Status CdcApplier::State::FreshColumns(size_t count, std::vector<NamedTypes>& fresh,
                                       Profile& prof) {
  bool plain = false, typed_source = false;
  for (size_t i = 0; i < ports.size(); i++) plain = plain || !HasSteps(i);
  NamedTypes from_images;
  if (plain) {
    PLEXUS_ASSIGN_OR_RETURN(from_images, NewColumns(count));
  }
  std::vector<std::string> meta = internal::CdcMetaColumns();
  for (size_t i = 0; i < ports.size(); i++) {
    if (!HasSteps(i)) {
      fresh[i] = from_images;
      continue;
    }
    if (!typed_source) {  // the row images typed from the source, once for all ports
      PLEXUS_RETURN_IF_ERROR(TypeSource(count, prof));
      typed_source = true;
    }
    PLEXUS_ASSIGN_OR_RETURN(stepped[i], row_steps->Run(i, Work("src"), SteppedTable(i)));
    prof.Mark("steps");
    for (const auto& c : stepped[i]) {
      bool known = std::find(meta.begin(), meta.end(), c.name) != meta.end();
      for (const auto& t : ports[i].columns) {
        known = known || AsciiLower(t.name) == AsciiLower(c.name);
      }
      if (!known) fresh[i].emplace_back(c.name, c.type);
    }
  }
  return Status::OK();
}

Status CdcApplier::State::Type(const std::string& table, const std::vector<Column>& columns,
                               size_t count) {
  return conn->Execute(internal::TypeSql(table, Work("raw"), columns, count));
}

Status CdcApplier::State::Dead() {
  std::vector<std::string> typed;
  for (size_t i = 0; i < ports.size(); i++) typed.push_back(Work("typed" + std::to_string(i)));
  return conn->Execute(internal::DeadSql(Work("dead"), Work("raw"), typed));
}

Result<bool> CdcApplier::State::PausedByErrorRate(ApplyReport& report) {
  if (report.dead_lettered > 0 &&
      static_cast<double>(report.dead_lettered) > spec.max_error_rate * report.events) {
    PLEXUS_ASSIGN_OR_RETURN(auto top, conn->Query("SELECT " + std::string(kReason) +
                                                  ", count(*) AS n FROM " + Work("dead") +
                                                  " GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"));
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, top->Fetch());
    std::string most = chunk && chunk->size() > 0 ? chunk->Text(0, 0) : "";
    char share[64], limit[32];
    std::snprintf(share, sizeof(share), "%.1f%%", 100.0 * report.dead_lettered / report.events);
    std::snprintf(limit, sizeof(limit), "%g", spec.max_error_rate);
    report.paused = true;
    report.pause_reason = std::to_string(report.dead_lettered) + " of " +
                          std::to_string(report.events) + " events of input " + input +
                          " are bad (" + share + ", above maxErrorRate " +
                          limit + "), e.g. " + most +
                          "; nothing of the batch was applied";
    report.new_columns.clear();
    added.clear();
    return true;
  }
  return false;
}

Status CdcApplier::State::Winners(size_t i, const PortTables& p, size_t count) {
  std::vector<std::string> keys = KeyNames(p), on;
  for (const auto& k : keys) on.push_back("k." + k + " = g." + k);
  std::string typed = Work("typed" + std::to_string(i));
  // The good events (of every port, when several), then per key the latest: the highest
  // (position, arrival) packed in one HUGEINT, a hash aggregate rather than a sort.
  std::string good = std::string(kReason) + " IS NULL" +
                     (ports.size() > 1 ? " AND " + std::string(kIdx) + " NOT IN (SELECT " +
                                             kIdx + " FROM " + Work("dead") + ")"
                                       : "");
  // Positions relative to the batch's lowest, times 2^24, plus the arrival index fit a
  // BIGINT when the batch spans less than 2^38 positions (then arg_max is a cheap aggregate);
  // otherwise a HUGEINT.
  PLEXUS_ASSIGN_OR_RETURN(
      auto range, conn->Query("SELECT min(" + std::string(kPos) + "), coalesce(max(" + kPos +
                              ")::HUGEINT - min(" + kPos + ") < 274877906944, true) FROM " +
                              typed + " WHERE " + good));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, range->Fetch());
  int64_t low = 0;
  bool narrow = count < (size_t{1} << 24);
  if (chunk && chunk->size() > 0) {
    // Exactly: a position near 2^63 read through a double would overflow the subtraction.
    low = chunk->IsNull(0, 0) ? 0 : chunk->Column(0).Int64(0);
    narrow = narrow && chunk->GetInt64(1, 0) != 0;
  }
  std::string order = narrow ? "(" + std::string(kPos) + " - (" + std::to_string(low) +
                                   ")) * 16777216 + " + kIdx
                             : "(" + std::string(kPos) + "::HUGEINT << 32) + " + kIdx;
  // Only the keys, the winner's index, position and op: the row itself stays in the typed
  // table until the merge's INSERT (materialising wide rows is what costs here).
  std::vector<std::string> g_keys;
  for (const auto& k : keys) g_keys.push_back("g." + k);
  std::string sql =
      "CREATE OR REPLACE TABLE " + Work("win" + std::to_string(i)) + " AS WITH g AS (SELECT " +
      Join(keys, ", ") + ", arg_max(" + kIdx + ", " + order + ") AS " + kIdx + ", max(" + kPos +
      ") AS " + kPos + ", arg_max(" + kOp + ", " + order + ") AS " + kOp + " FROM " + typed +
      " WHERE " + good + " GROUP BY " + Join(keys, ", ") + ") SELECT " + Join(g_keys, ", ") +
      ", g." + kIdx + ", g." + kPos + ", g." + kOp + ", k." + kPos + " IS NULL AS _cdc_new, " +
      "coalesce(NOT k._cdc_deleted, false) AS _cdc_exists, (k." + kPos + " IS NOT NULL AND g." +
      kPos + " < k." + kPos + ") AS _cdc_stale FROM g LEFT JOIN " + p.keys_table + " k ON " +
      Join(on, " AND ");
  return conn->Execute(sql);
}

Status CdcApplier::State::CountWinners(ApplyReport& report) {
  PLEXUS_ASSIGN_OR_RETURN(
      auto counts, conn->Query("SELECT count(*) FILTER (WHERE _cdc_stale), count(*) "
                               "FILTER (WHERE NOT _cdc_stale AND " + std::string(kOp) +
                               " <> 'd'), count(*) FILTER (WHERE NOT _cdc_stale AND " +
                               kOp + " = 'd') FROM " + Work("win0")));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, counts->Fetch());
  if (chunk && chunk->size() > 0) {
    report.stale = chunk->GetInt64(0, 0);
    report.upserted = chunk->GetInt64(1, 0);
    report.deleted = chunk->GetInt64(2, 0);
  }
  // The newest applied event's time (run metrics' CDC lag, issue 9).
  PLEXUS_ASSIGN_OR_RETURN(
      report.newest_event_ms,
      ScalarInt(*conn, "SELECT coalesce(max(_cdc_ts_ms), 0) FROM " + Work("typed0") +
                           " WHERE " + std::string(kReason) + " IS NULL"));
  return Status::OK();
}

std::string CdcApplier::State::MergeSql(size_t i, const PortTables& p,
                                        const std::vector<Column>& columns) {
  return internal::MergeSql(p.table, p.keys_table, Work("win" + std::to_string(i)),
                            Work("typed" + std::to_string(i)), KeyNames(p), columns);
}

}  // namespace plexus::pipeline
