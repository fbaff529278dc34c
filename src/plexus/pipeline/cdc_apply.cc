#include "plexus/pipeline/cdc_apply.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "plexus/common/text.h"
#include "plexus/pipeline/cdc_apply_sql.h"
#include "plexus/pipeline/cdc_key_state.h"
#include "plexus/pipeline/cdc_parse.h"
#include "plexus/pipeline/cdc_row_steps.h"
#include "plexus/spec/parse.h"

namespace plexus::pipeline {
namespace {

using engine::QuoteIdentifier;
using engine::QuoteLiteral;
using internal::Join;
using internal::JsonKey;

// Internal column names of the working tables (a contract column is unlikely to start so).
constexpr const char* kIdx = internal::kCdcIdx;
constexpr const char* kOp = internal::kCdcOp;
constexpr const char* kPos = internal::kCdcPos;
constexpr const char* kReason = internal::kCdcReason;

std::atomic<int64_t> next_applier_id{1};

/// A column of a port's table.
using Column = internal::ChangeColumn;
using NamedTypes = std::vector<std::pair<std::string, std::string>>;

struct PortTables {
  catalog::OutputPortRecord port;
  std::string table;       ///< qualified product table
  std::string keys_table;  ///< qualified key state table
  std::string table_name;  ///< unqualified
  std::vector<Column> columns;
};

/// The minor bump of a semantic version: 1.2.3 -> 1.3.0.
std::string MinorBump(const std::string& version) {
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch) < 2) return "";
  return std::to_string(major) + "." + std::to_string(minor + 1) + ".0";
}

Result<int64_t> ScalarInt(engine::Connection& conn, const std::string& sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(sql));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
  if (!chunk || chunk->size() == 0) return int64_t{0};
  return chunk->GetInt64(0, 0);
}

/// PLEXUS_CDC_PROFILE=1: each step's time of each batch on stderr (for the benchmark).
struct Profile {
  bool on = std::getenv("PLEXUS_CDC_PROFILE") != nullptr;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  std::string line;
  void Mark(const char* what) {
    if (!on) return;
    auto now = std::chrono::steady_clock::now();
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %s=%.0fms", what,
                  std::chrono::duration<double, std::milli>(now - last).count());
    line += buf;
    last = now;
  }
  ~Profile() {
    if (on && !line.empty()) std::fprintf(stderr, "cdc apply:%s\n", line.c_str());
  }
};

}  // namespace

struct CdcApplier::State {
  engine::Connection* conn = nullptr;
  std::string domain, product, input;
  spec::CdcSpec spec;
  std::string attach;
  std::string offsets_table;
  std::string dead_table;
  std::vector<PortTables> ports;
  std::vector<catalog::OutputPortRecord> port_records;
  std::vector<AddedColumn> added;
  std::string suffix;  ///< of the in-memory working tables
  // Processor steps (cdc_row_steps.h; null: no port has any), and the columns each port's
  // steps gave this batch.
  std::unique_ptr<internal::ChangeRowSteps> row_steps;
  std::vector<std::vector<RelationColumn>> stepped;
  // The fast path's key state in memory (cdc_key_state.h; one integer key), and the count of
  // writes of its table it is in step with.
  std::unique_ptr<internal::IntKeyState> key_state;
  uint64_t key_state_writes = 0;

  bool HasSteps(size_t i) const { return row_steps != nullptr && row_steps->Has(i); }

  std::string Qualified(const std::string& table) const {
    return QuoteIdentifier(attach) + ".main." + QuoteIdentifier(table);
  }
  std::string Work(const std::string& what) const { return "cdc_" + what + "_" + suffix; }

  Status LoadColumns(PortTables& p) {
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

  std::vector<std::string> KeyNames(const PortTables& p) const {
    std::vector<std::string> keys;
    for (const auto& c : p.columns) {
      if (c.key) keys.push_back(QuoteIdentifier(c.name));
    }
    return keys;
  }

  Status Prepare() {
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

  void DropWork() {
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

  Status LoadRaw(const std::vector<std::string>& events) {
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

  /// Source columns that no port's table has, in a sample of the batch's row images (every
  /// 16th event and the last: a column added at the source is in every image after it): name
  /// -> DuckDB type.
  Result<std::vector<std::pair<std::string, std::string>>> NewColumns(size_t count) {
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
    std::vector<std::pair<std::string, std::string>> out;
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

  /// The row images typed from the source into Work("src"): the types of a sample first, then,
  /// when a value does not fit its sampled type, of every event.
  Status TypeSource(size_t count, Profile& prof) {
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

  std::string SteppedTable(size_t i) const { return Work("stepped" + std::to_string(i)); }

  /// Each port's columns the batch brings that its table lacks (name, DuckDB type): of a port
  /// without steps, the row images' new keys (NewColumns); of a port with steps, the new
  /// columns of its steps' result, which it leaves in SteppedTable(i).
  Status FreshColumns(size_t count, std::vector<NamedTypes>& fresh, Profile& prof) {
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

  /// Parses and types the envelopes into `table` (cdc_apply_sql.h, TypeSql).
  Status Type(const std::string& table, const std::vector<Column>& columns, size_t count) {
    return conn->Execute(internal::TypeSql(table, Work("raw"), columns, count));
  }

  /// The batch's bad events (of any port), with their text and a refined "malformed" reason.
  Status Dead() {
    std::vector<std::string> typed;
    for (size_t i = 0; i < ports.size(); i++) typed.push_back(Work("typed" + std::to_string(i)));
    return conn->Execute(internal::DeadSql(Work("dead"), Work("raw"), typed));
  }

  /// The batch's latest good event per key (its key, index, position and op), marked stale
  /// when the table holds a newer one.
  Status Winners(size_t i, const PortTables& p, size_t count) {
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

  /// The statements of the port's merge (run inside the batch's transaction).
  std::string MergeSql(size_t i, const PortTables& p, const std::vector<Column>& columns) {
    return internal::MergeSql(p.table, p.keys_table, Work("win" + std::to_string(i)),
                              Work("typed" + std::to_string(i)), KeyNames(p), columns);
  }

  std::string OffsetsSql(const SourceOffsets& offsets) const {
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

  /// Whether the batch may take the fast path (cdc_parse.h): one port without steps whose
  /// columns are all of types it writes, and keys it can compare.
  bool FastEligible() const {
    if (!internal::FastPathEnabled() || ports.size() != 1 || row_steps != nullptr) return false;
    for (const auto& c : ports[0].columns) {
      auto kind = internal::FastKindOf(c.type);
      if (!kind || (c.key && *kind == internal::FastKind::kDouble)) return false;
    }
    return true;
  }

  /// The port's key state in memory, loaded when missing or when its table was written by
  /// anything but this applier's fast path since (nullptr: the key is not one integer column,
  /// or the table holds more keys than IntKeyState::kMaxKeys; then a join reads it).
  Result<const internal::IntKeyState*> KeyStateInMemory() {
    const PortTables& p = ports[0];
    std::vector<const Column*> keys;
    for (const auto& c : p.columns) {
      if (c.key) keys.push_back(&c);
    }
    auto kind = keys.size() == 1 ? internal::FastKindOf(keys[0]->type) : std::nullopt;
    if (!kind || (*kind != internal::FastKind::kInt64 && *kind != internal::FastKind::kInt32 &&
                  *kind != internal::FastKind::kInt16 && *kind != internal::FastKind::kInt8)) {
      return nullptr;
    }
    uint64_t writes = internal::KeyStateWrites(p.keys_table);
    if (key_state == nullptr || writes != key_state_writes) {
      key_state.reset();
      PLEXUS_ASSIGN_OR_RETURN(key_state, internal::IntKeyState::Load(
                                             *conn, p.keys_table, QuoteIdentifier(keys[0]->name)));
      key_state_writes = writes;
    }
    return key_state.get();
  }

  /// After the SQL path committed a batch: the in-memory key state (when one is loaded) takes
  /// the key states the merge wrote, the winners' that are not stale (MergeSql), instead of
  /// being loaded again whole. Should that fail, it is dropped (and loaded when next needed).
  void KeepKeyStateInStep() {
    if (key_state == nullptr) return;
    uint64_t writes = internal::KeyStateWrites(ports[0].keys_table);
    auto result = conn->Query("SELECT " + KeyNames(ports[0])[0] + ", " + kPos + ", " + kOp +
                              " = 'd' FROM " + Work("win0") + " WHERE NOT _cdc_stale ORDER BY 1");
    std::vector<int64_t> keys, positions;
    std::vector<uint8_t> deleted;
    bool read = writes == key_state_writes + 1 && result.ok();  // else someone else wrote too
    while (read) {
      auto chunk = (*result)->Fetch();
      if (!chunk.ok()) read = false;
      if (!read || !*chunk) break;
      engine::VectorRef key = (*chunk)->Column(0), position = (*chunk)->Column(1);
      engine::VectorRef is_delete = (*chunk)->Column(2);
      for (size_t r = 0; r < (*chunk)->size(); r++) {
        keys.push_back(key.Int64(r));
        positions.push_back(position.Int64(r));
        deleted.push_back(is_delete.Bool(r));
      }
    }
    if (!read) {
      key_state.reset();
      return;
    }
    key_state->Set(keys, key_state->Find(keys), positions, deleted,
                   std::vector<uint8_t>(keys.size(), 0));
    key_state_writes = writes;
    if (key_state->size() > internal::IntKeyState::kMaxKeys) key_state.reset();
  }

  /// The batch through the fast path; nullopt when it takes the SQL path instead.
  Result<std::optional<ApplyReport>> ApplyFast(const std::vector<std::string>& events,
                                               const SourceOffsets& offsets, Profile& prof) {
    const PortTables& p = ports[0];
    internal::FastTables tables{attach, p.table_name, p.table_name + "__cdc_keys",
                                Work("fkeys"), Work("fdrops")};
    auto mark = [&](const char* step) { prof.Mark(step); };
    PLEXUS_ASSIGN_OR_RETURN(const internal::IntKeyState* in_memory, KeyStateInMemory());
    PLEXUS_ASSIGN_OR_RETURN(auto fast, internal::FastBatch::Prepare(*conn, p.columns, events,
                                                                    std::move(tables), in_memory,
                                                                    mark));
    if (!fast) return std::optional<ApplyReport>();
    PLEXUS_RETURN_IF_ERROR(conn->Execute("BEGIN TRANSACTION"));
    Status written = fast->Write(*conn, mark);
    if (written.ok() && !offsets.empty()) written = conn->Execute(OffsetsSql(offsets));
    if (written.ok()) written = conn->Execute("COMMIT");
    uint64_t writes = internal::BumpKeyStateWrites(p.keys_table);
    if (!written.ok()) {
      (void)conn->Execute("ROLLBACK");
      key_state.reset();  // loaded again from the table, which holds what was committed
      return written;
    }
    if (key_state != nullptr) {
      fast->Remember(*key_state);
      key_state_writes = writes;
      if (key_state->size() > internal::IntKeyState::kMaxKeys) key_state.reset();
    }
    prof.Mark("commit");
    ApplyReport report;
    report.events = static_cast<int64_t>(events.size());
    report.upserted = fast->upserted();
    report.deleted = fast->deleted();
    report.stale = fast->stale();
    report.newest_event_ms = fast->newest_ts_ms();
    return std::optional<ApplyReport>(std::move(report));
  }

  /// Runs `body` in one transaction. `writes_keys`: it writes the ports' key state tables, so
  /// any in-memory key state of them (this applier's or another's) is loaded again before its
  /// next use.
  Status Transaction(const std::string& body, bool writes_keys) {
    Status s = conn->Execute("BEGIN TRANSACTION;" + body + "COMMIT;");
    if (!s.ok()) (void)conn->Execute("ROLLBACK");
    if (writes_keys) {
      for (const auto& p : ports) internal::BumpKeyStateWrites(p.keys_table);
    }
    return s;
  }

  Result<ApplyReport> ApplyBatch(const std::vector<std::string>& events,
                                 const SourceOffsets& offsets) {
    ApplyReport report;
    report.events = static_cast<int64_t>(events.size());
    added.clear();
    if (events.empty()) {
      if (!offsets.empty()) PLEXUS_RETURN_IF_ERROR(Transaction(OffsetsSql(offsets), false));
      return report;
    }
    Profile prof;
    if (FastEligible()) {
      PLEXUS_ASSIGN_OR_RETURN(auto fast, ApplyFast(events, offsets, prof));
      if (fast) return std::move(*fast);
      prof.Mark("fallback");
    }
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
      return report;
    }
    std::string body = alter;
    for (size_t i = 0; i < ports.size(); i++) {
      PLEXUS_RETURN_IF_ERROR(Winners(i, ports[i], events.size()));
      if (i == 0) {
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
      }
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
};

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
    PortTables p;
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
                                       input));
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
                                      const SourceOffsets& offsets) {
  auto start = std::chrono::steady_clock::now();
  auto report = state_->ApplyBatch(events, offsets);
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
