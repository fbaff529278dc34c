// The CDC applier (cdc_apply.h): opening it (the tables it needs), a batch's dispatch to the fast
// path (cdc_apply_fast.cc) or the SQL path (cdc_apply_merge.cc), its transaction, the committed
// offsets and a full refresh's reset.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>

#include "plexus/common/text.h"
#include "plexus/pipeline/cdc_apply_internal.h"
#include "plexus/pipeline/cdc_apply_sql.h"

namespace plexus::pipeline {
namespace {

using engine::QuoteIdentifier;
using engine::QuoteLiteral;
using internal::Join;
using internal::ScalarInt;

constexpr const char* kPos = internal::kCdcPos;

std::atomic<int64_t> next_applier_id{1};

/// The minor bump of a semantic version: 1.2.3 -> 1.3.0.
std::string MinorBump(const std::string& version) {
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch) < 2) return "";
  return std::to_string(major) + "." + std::to_string(minor + 1) + ".0";
}

}  // namespace

namespace internal {

Result<int64_t> ScalarInt(engine::Connection& conn, const std::string& sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(sql));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
  if (!chunk || chunk->size() == 0) return int64_t{0};
  return chunk->GetInt64(0, 0);
}

}  // namespace internal

Status CdcApplier::State::LoadColumns(PortTables& p) {
  PLEXUS_ASSIGN_OR_RETURN(
      auto result,
      conn->Query("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = " +
                  QuoteLiteral(attach) + " AND schema_name = 'main' AND table_name = " +
                  QuoteLiteral(p.table_name) + " ORDER BY column_index"));
  p.columns.clear();
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->size(); r++) {
      Column c;
      c.name = chunk->Text(0, r);
      c.type = chunk->Text(1, r);
      for (const auto& cc : p.port.columns) {
        if (AsciiLower(cc.name) == AsciiLower(c.name)) {
          c.key = cc.primary_key;
          c.required = cc.required || cc.primary_key;
        }
      }
      p.columns.push_back(c);
    }
  }
  return Status::OK();
}

std::vector<std::string> CdcApplier::State::KeyNames(const PortTables& p) const {
  std::vector<std::string> keys;
  for (const auto& c : p.columns) {
    if (c.key) keys.push_back(QuoteIdentifier(c.name));
  }
  return keys;
}

Status CdcApplier::State::Prepare() {
  PLEXUS_RETURN_IF_ERROR(conn->Execute(
      "CREATE TABLE IF NOT EXISTS " + offsets_table +
      " (product VARCHAR, input VARCHAR, source_partition VARCHAR, source_position VARCHAR)"));
  PLEXUS_RETURN_IF_ERROR(conn->Execute(
      "CREATE TABLE IF NOT EXISTS " + dead_table +
      " (received_at TIMESTAMP, source_position VARCHAR, reason VARCHAR, event VARCHAR)"));
  for (auto& p : ports) {
    std::vector<std::string> defs, keys;
    for (const auto& c : p.port.columns) {
      defs.push_back(QuoteIdentifier(c.name) + " " + c.engine_type);
      if (c.primary_key) keys.push_back(c.name);
    }
    if (keys.empty()) {
      return FailedPrecondition("output port " + p.port.SqlName() + " is fed by the CDC input " +
                                input + " but its contract declares no primary key");
    }
    PLEXUS_RETURN_IF_ERROR(
        conn->Execute("CREATE TABLE IF NOT EXISTS " + p.table + " (" + Join(defs, ", ") + ")"));
    PLEXUS_RETURN_IF_ERROR(LoadColumns(p));
    // A column the contract gained since the table was made.
    for (const auto& cc : p.port.columns) {
      bool found = false;
      for (const auto& c : p.columns) found = found || AsciiLower(c.name) == AsciiLower(cc.name);
      if (!found) {
        PLEXUS_RETURN_IF_ERROR(conn->Execute("ALTER TABLE " + p.table + " ADD COLUMN " +
                                             QuoteIdentifier(cc.name) + " " + cc.engine_type));
      }
    }
    PLEXUS_RETURN_IF_ERROR(LoadColumns(p));
    PLEXUS_ASSIGN_OR_RETURN(
        int64_t has_keys,
        ScalarInt(*conn, "SELECT count(*) FROM duckdb_tables() WHERE database_name = " +
                             QuoteLiteral(attach) + " AND schema_name = 'main' AND table_name = " +
                             QuoteLiteral(p.table_name + "__cdc_keys")));
    if (has_keys == 0) {
      std::vector<std::string> key_defs;
      for (const auto& c : p.columns) {
        if (c.key) key_defs.push_back(QuoteIdentifier(c.name) + " " + c.type);
      }
      std::string keys_sql = Join(KeyNames(p), ", ");
      // Rows already in the table (a batch build) hold their keys at the lowest position.
      PLEXUS_RETURN_IF_ERROR(conn->Execute(
          "BEGIN TRANSACTION; CREATE TABLE " + p.keys_table + " (" + Join(key_defs, ", ") +
          ", " + kPos + " BIGINT, _cdc_deleted BOOLEAN); INSERT INTO " + p.keys_table +
          " SELECT DISTINCT " + keys_sql + ", -9223372036854775807, false FROM " + p.table +
          "; COMMIT"));
      internal::BumpKeyStateWrites(p.keys_table);
    }
  }
  return Status::OK();
}

void CdcApplier::State::DropWork() {
  std::string sql;
  for (const char* t : {"raw", "dead", "src", "fkeys", "fdrops"}) {
    sql += "DROP TABLE IF EXISTS " + Work(t) + ";";
  }
  for (size_t i = 0; i < ports.size(); i++) {
    sql += "DROP TABLE IF EXISTS " + Work("typed" + std::to_string(i)) + ";";
    sql += "DROP TABLE IF EXISTS " + Work("win" + std::to_string(i)) + ";";
    sql += "DROP TABLE IF EXISTS " + Work("stepped" + std::to_string(i)) + ";";
  }
  (void)conn->Execute(sql);
}

std::string CdcApplier::State::OffsetsSql(const SourceOffsets& offsets) const {
  std::string where = " WHERE product = " + QuoteLiteral(product) +
                      " AND input = " + QuoteLiteral(input);
  std::string sql = "DELETE FROM " + offsets_table + where + ";";
  for (const auto& [partition, position] : offsets) {
    sql += "INSERT INTO " + offsets_table + " VALUES (" + QuoteLiteral(product) + ", " +
           QuoteLiteral(input) + ", " + QuoteLiteral(partition) + ", " +
           QuoteLiteral(position) + ");";
  }
  return sql;
}

Status CdcApplier::State::Transaction(const std::string& body, bool writes_keys) {
  Status s = conn->Execute("BEGIN TRANSACTION;" + body + "COMMIT;");
  if (!s.ok()) (void)conn->Execute("ROLLBACK");
  if (writes_keys) {
    for (const auto& p : ports) internal::BumpKeyStateWrites(p.keys_table);
  }
  return s;
}

Result<ApplyReport> CdcApplier::State::ApplyBatch(const std::vector<std::string>& events,
                                                  const SourceOffsets& offsets,
                                                  std::unique_ptr<CdcParseAhead> parsed) {
  added.clear();
  if (events.empty()) {
    if (!offsets.empty()) PLEXUS_RETURN_IF_ERROR(Transaction(OffsetsSql(offsets), false));
    return ApplyReport{};
  }
  Profile prof;
  Result<ApplyReport> report = ApplyReport{};
  std::optional<ApplyReport> fast;
  if (FastEligible()) {
    PLEXUS_ASSIGN_OR_RETURN(fast, ApplyFast(events, offsets, std::move(parsed), prof));
    if (!fast) prof.Mark("fallback");
  }
  if (fast) {
    report = std::move(*fast);
  } else {
    report = ApplySql(events, offsets, prof);
    for (auto& p : ports) p.live_exact[0] = p.live_exact[1] = false;
  }
  if (report.ok() && !report->paused) {
    Status compacted = Compact(*report, prof);
    // The batch is committed: a failed compaction is tried again after the next one.
    if (!compacted.ok()) {
      std::fprintf(stderr, "plexus: %s.%s, CDC input %s: %s\n", domain.c_str(), product.c_str(),
                   input.c_str(), compacted.ToString().c_str());
    }
  }
  return report;
}

Status CdcApplier::State::Compact(ApplyReport& report, Profile& prof) {
  constexpr int64_t kMinDeleted = 1000;
  for (auto& p : ports) {
    std::string keys_name = p.table_name + "__cdc_keys";
    PLEXUS_ASSIGN_OR_RETURN(
        auto result,
        conn->Query("SELECT table_name = " + QuoteLiteral(keys_name) +
                    ", estimated_size FROM duckdb_tables() WHERE database_name = " +
                    QuoteLiteral(attach) + " AND schema_name = 'main' AND table_name IN (" +
                    QuoteLiteral(p.table_name) + ", " + QuoteLiteral(keys_name) + ")"));
    // estimated_size: the rows a table stores, deleted ones included, until a checkpoint
    // drops the row groups whose rows are all deleted.
    int64_t stored[2] = {-1, -1};
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
      if (!chunk) break;
      engine::VectorRef is_keys = chunk->Column(0), size = chunk->Column(1);
      for (size_t r = 0; r < chunk->size(); r++) stored[is_keys.Bool(r) ? 1 : 0] = size.Int64(r);
    }
    // After the SQL path the live rows are counted again (a scan of each table) once the key
    // state, which gains a row per change applied, has grown by an eighth: not at every
    // micro-batch.
    int64_t grown = stored[1] - p.keys_stored_at_count;
    bool recount = !p.live[0] || !p.live[1] ||
                   grown >= std::max(kMinDeleted, p.keys_stored_at_count / 8);
    if (recount) p.keys_stored_at_count = stored[1];
    const std::string names[2] = {p.table_name, keys_name};
    for (int t = 0; t < 2; t++) {
      std::optional<int64_t>& live = p.live[t];
      if (stored[t] < 0) continue;
      const std::string table = Qualified(names[t]);
      if (recount && (!live || !p.live_exact[t])) {
        PLEXUS_ASSIGN_OR_RETURN(live, internal::ScalarInt(*conn, "SELECT count(*) FROM " + table));
        p.live_exact[t] = true;
      }
      if (!p.live_exact[t]) continue;
      int64_t deleted = stored[t] - *live;
      if (deleted < kMinDeleted || static_cast<double>(deleted) <= spec.compact_at * stored[t]) {
        continue;
      }
      // The live rows copied into a new table that takes the old one's place, in one
      // transaction: a crash keeps either. (Copies appended to the same table would share
      // its last row group with the deleted rows, which then never goes.)
      const std::string fresh = Qualified(names[t] + "__compacting");
      Status s = conn->Execute("BEGIN TRANSACTION; CREATE OR REPLACE TABLE " + fresh +
                               " AS SELECT * FROM " + table);
      Result<int64_t> kept = s.ok() ? internal::ScalarInt(*conn, "SELECT count(*) FROM " + fresh)
                                    : Result<int64_t>(s);
      if (kept.ok() && *kept != *live) {
        kept = Internal("compacting " + table + " would keep " + std::to_string(*kept) +
                        " rows of " + std::to_string(*live) + "; left as it was");
      }
      s = kept.ok() ? conn->Execute("DROP TABLE " + table + "; ALTER TABLE " + fresh +
                                    " RENAME TO " + QuoteIdentifier(names[t]) + "; COMMIT")
                    : kept.status();
      if (!s.ok()) {
        (void)conn->Execute("ROLLBACK");
        live = std::nullopt;
        return s;
      }
      if (t == 1) p.keys_stored_at_count = *live;
      report.compacted += deleted;
      prof.Mark(t == 0 ? "compact" : "compact-keys");
    }
  }
  prof.Mark("compaction");
  return Status::OK();
}

CdcApplier::CdcApplier(std::unique_ptr<State> state) : state_(std::move(state)) {}
CdcApplier::~CdcApplier() = default;

std::string DeadLetterTable(const std::string& product, const std::string& input) {
  return product + "__" + input + "__dead_letters";
}

Result<std::unique_ptr<CdcApplier>> CdcApplier::Open(engine::Connection* conn,
                                                     const std::string& domain,
                                                     const std::string& product,
                                                     const std::string& input,
                                                     const spec::CdcSpec& spec,
                                                     std::vector<catalog::OutputPortRecord> ports,
                                                     CdcSteps steps) {
  auto state = std::make_unique<State>();
  state->conn = conn;
  state->domain = domain;
  state->product = product;
  state->input = input;
  state->spec = spec;
  state->attach = catalog::Home::AttachName(domain);
  state->offsets_table = state->Qualified("plexus_cdc_offsets");
  state->dead_table = state->Qualified(DeadLetterTable(product, input));
  state->suffix = std::to_string(next_applier_id++);
  state->port_records = ports;
  if (ports.empty()) {
    return FailedPrecondition("the CDC input " + input + " of " + domain + "." + product +
                              " feeds no output port (an output needs `from: " + input + "`)");
  }
  std::vector<std::vector<ChainStep>> port_steps;
  for (auto& port : ports) {
    auto it = steps.by_port.find(port.name);
    port_steps.push_back(it == steps.by_port.end() ? std::vector<ChainStep>{} : it->second);
    Status checked = internal::CheckChangeSteps(port_steps.back());
    if (!checked.ok()) {
      return checked.WithPrefix("output " + port.name + " of " + domain + "." + product +
                                " (CDC input " + input + ")");
    }
    State::PortTables p;
    p.table_name = port.PhysicalTable();
    p.table = state->Qualified(p.table_name);
    p.keys_table = state->Qualified(p.table_name + "__cdc_keys");
    p.port = std::move(port);
    state->ports.push_back(std::move(p));
  }
  state->stepped.resize(state->ports.size());
  PLEXUS_RETURN_IF_ERROR(state->Prepare());
  if (std::any_of(port_steps.begin(), port_steps.end(), [](const auto& s) { return !s.empty(); })) {
    PLEXUS_ASSIGN_OR_RETURN(
        state->row_steps,
        internal::ChangeRowSteps::Open(conn, std::move(port_steps), std::move(steps.salt),
                                       state->Qualified("plexus_cdc_source_columns"), product,
                                       input, std::move(steps.lookups)));
  }
  return std::unique_ptr<CdcApplier>(new CdcApplier(std::move(state)));
}

Result<SourceOffsets> CdcApplier::Committed() {
  auto& s = *state_;
  PLEXUS_ASSIGN_OR_RETURN(
      auto result, s.conn->Query("SELECT source_partition, source_position FROM " + s.offsets_table +
                                 " WHERE product = " + QuoteLiteral(s.product) +
                                 " AND input = " + QuoteLiteral(s.input)));
  SourceOffsets out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->size(); r++) out[chunk->Text(0, r)] = chunk->Text(1, r);
  }
  return out;
}

Result<ApplyReport> CdcApplier::Apply(const std::vector<std::string>& events,
                                      const SourceOffsets& offsets,
                                      std::unique_ptr<CdcParseAhead> parsed) {
  auto start = std::chrono::steady_clock::now();
  auto report = state_->ApplyBatch(events, offsets, std::move(parsed));
  state_->DropWork();
  if (report.ok()) {
    report->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return report;
}

Status CdcApplier::Reset() {
  auto& s = *state_;
  std::string body;
  for (const auto& p : s.ports) {
    body += "DELETE FROM " + p.table + "; DELETE FROM " + p.keys_table + ";";
  }
  body += s.OffsetsSql({});
  for (auto& p : s.ports) {
    p.live[0] = p.live[1] = std::nullopt;
    p.keys_stored_at_count = 0;
  }
  return s.Transaction(body, true);
}

const std::vector<catalog::OutputPortRecord>& CdcApplier::ports() const {
  return state_->port_records;
}
const std::vector<AddedColumn>& CdcApplier::added_columns() const { return state_->added; }
const std::string& CdcApplier::input() const { return state_->input; }

std::string ProposedVersion(const catalog::OutputPortRecord& port) {
  return MinorBump(port.contract_version.empty() ? port.version : port.contract_version);
}

}  // namespace plexus::pipeline
