// File: plexus/pipeline/cdc_postgres.cc
//
// The PostgreSQL change source: logical decoding of one table through a replication slot with
// the wal2json output plugin (format-version 2: one JSON document per change), turned into
// Debezium envelopes.
//
// Why the SQL interface (pg_logical_slot_peek_changes) and not the streaming replication
// protocol: peeking does not consume, so what a batch read is released only by Acknowledge
// (pg_replication_slot_advance), exactly when the applier has committed it: the slot is the
// source's durable position and a crash anywhere re-reads, never loses. Decoding returns whole
// transactions, so offsets are always transaction boundaries (the end LSN of a commit record),
// which Open(committed) resumes from without splitting a transaction. The cost: each Read
// re-decodes what was read but is not yet acknowledged (one batch, as the stream acknowledges
// after each commit), and waiting is polling (every 100 ms), which is within the micro-batch
// latency the stream promises.
//
// Positions: a streamed change's source.lsn is its own WAL position, ascending within a
// transaction and, for one key, in commit order (row locks serialize writers of one key). The
// initial snapshot's rows (op r) carry source.lsn 0, below every streamed change: the slot is
// created first, then the table read in a REPEATABLE READ transaction, so a change made
// between the two is both in the snapshot and replayed afterwards, and the replay converges to
// the same rows (events carry full rows). Offsets: {"lsn": "X/Y"}, the end of the last commit
// handed out; {"lsn", "snapshot": "running"} while the snapshot is read (a restart redoes it).
//
// Values keep their meaning: integers and booleans as JSON numbers and booleans, numeric and
// floats as numbers when a double holds them exactly (up to 15 significant digits, else the
// exact text as a string, which DuckDB casts to DECIMAL without loss), NaN and infinities as
// null (as wal2json writes them), everything else as PostgreSQL's text output in ISO date
// style and UTC (timestamps, dates, json, arrays), which DuckDB casts. The session's DateStyle
// and TimeZone are set so the snapshot and the stream agree.
//
// Not handled: TRUNCATE (not decoded: truncate the product with a full refresh); an update that
// leaves a large (TOASTed) column unchanged does not carry that column.
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/cdc_postgres_internal.h"

namespace plexus::pipeline {
namespace {

using namespace postgres_internal;
using Json = nlohmann::json;
using PgConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using PgResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

constexpr auto kPollInterval = std::chrono::milliseconds(100);

class PostgresSource final : public ChangeSource {
 public:
  PostgresSource(spec::CdcSpec spec, std::string slot, std::string schema, std::string table)
      : spec_(std::move(spec)),
        slot_(std::move(slot)),
        schema_(std::move(schema)),
        table_(std::move(table)) {}

  Status Open(const SourceOffsets& committed) override;
  Result<ChangeBatch> Read(size_t max_events, std::chrono::milliseconds wait) override;
  Status Acknowledge(const SourceOffsets& committed) override;
  std::string Describe() const override {
    return "postgres " + schema_ + "." + table_ + " (slot " + slot_ + ")";
  }

 private:
  Status Connect();
  /// Runs `sql` with text parameters; a failure names the source and the server's message.
  Result<PgResultPtr> Exec(const std::string& sql, const std::vector<std::string>& params = {});
  Status CheckServer();
  Status CheckTable();
  Status EnsureSlot();
  Result<uint64_t> SlotConfirmedLsn();
  Status AdvanceSlot(uint64_t lsn);
  Status BeginSnapshot();
  Result<ChangeBatch> ReadSnapshot(size_t max_events);
  /// One peek: appends whole transactions committed after read_lsn_ to `batch`.
  Status PeekChanges(size_t max_events, ChangeBatch* batch);
  Result<std::string> Envelope(const Json& change, const std::string& xid, int64_t ts_ms);
  SourceOffsets Offsets() const;

  spec::CdcSpec spec_;
  std::string slot_, schema_, table_, db_;
  PgConnPtr conn_{nullptr, &PQfinish};
  bool snapshotting_ = false;
  std::vector<std::string> snapshot_ahead_;  ///< a row fetched to learn the snapshot goes on
  uint64_t read_lsn_ = 0;                    ///< the end of the last commit handed out
  uint64_t acked_lsn_ = 0;    ///< the slot's confirmed position, as far as this source knows
  int64_t unacked_rows_ = 0;  ///< decoded rows up to read_lsn_ that a peek returns again
};

Status PostgresSource::Connect() {
  const char* keys[] = {"dbname", "application_name", "client_encoding", nullptr};
  const char* values[] = {spec_.dsn.c_str(), "plexus-cdc", "UTF8", nullptr};
  conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string why = conn_ ? PQerrorMessage(conn_.get()) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    conn_.reset();
    return IOError(Describe() + ": cannot connect: " + why);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto r, Exec("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; "
                                       "SET extra_float_digits = 1; SELECT current_database()"));
  db_ = PQgetvalue(r.get(), 0, 0);
  return Status::OK();
}

Result<PgResultPtr> PostgresSource::Exec(const std::string& sql,
                                         const std::vector<std::string>& params) {
  if (!conn_) PLEXUS_RETURN_IF_ERROR(Connect());
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PgResultPtr r(params.empty()
                    ? PQexec(conn_.get(), sql.c_str())
                    : PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()),
                                   nullptr, values.data(), nullptr, nullptr, 0),
                &PQclear);
  auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  std::string why = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get());
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
  if (lost) conn_.reset();  // the next call reconnects
  if (why.find("wal2json") != std::string::npos &&
      why.find("could not access file") != std::string::npos) {
    return FailedPrecondition(Describe() +
                              ": the PostgreSQL server lacks the wal2json output plugin "
                              "(Debian: postgresql-15-wal2json): " +
                              why);
  }
  if (lost) return IOError(Describe() + ": connection lost: " + why);
  return IOError(Describe() + ": " + why);
}

Status PostgresSource::CheckServer() {
  PLEXUS_ASSIGN_OR_RETURN(auto r, Exec("SHOW wal_level"));
  std::string level = PQgetvalue(r.get(), 0, 0);
  if (level != "logical") {
    return FailedPrecondition(Describe() + ": the PostgreSQL server has wal_level = " + level +
                              "; logical decoding needs wal_level = logical (set it in "
                              "postgresql.conf and restart the server)");
  }
  return Status::OK();
}

Status PostgresSource::CheckTable() {
  PLEXUS_ASSIGN_OR_RETURN(
      auto r, Exec("SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = "
                   "c.oid AND (i.indisprimary OR i.indisreplident)) FROM pg_class c JOIN "
                   "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
                   "c.relname = $2 AND c.relkind IN ('r', 'p')",
                   {schema_, table_}));
  if (PQntuples(r.get()) == 0) {
    return NotFound(Describe() + ": no table " + schema_ + "." + table_ + " in database " + db_);
  }
  std::string identity = PQgetvalue(r.get(), 0, 0);
  bool keyed = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
  if (identity == "n" || (identity == "d" && !keyed)) {
    return FailedPrecondition(Describe() + ": " + schema_ + "." + table_ +
                              " has no primary key, so its updates and deletes do not name "
                              "their row; add a primary key or ALTER TABLE ... REPLICA "
                              "IDENTITY FULL");
  }
  return Status::OK();
}

Status PostgresSource::EnsureSlot() {
  PLEXUS_ASSIGN_OR_RETURN(auto r, Exec("SELECT plugin, slot_type, database FROM "
                                       "pg_replication_slots WHERE slot_name = $1",
                                       {slot_}));
  if (PQntuples(r.get()) == 1) {
    std::string plugin = PQgetvalue(r.get(), 0, 0);
    std::string database = PQgetvalue(r.get(), 0, 2);
    if (plugin != "wal2json" || database != db_) {
      return FailedPrecondition(Describe() + ": replication slot " + slot_ +
                                " exists with plugin '" + plugin + "' on database '" + database +
                                "'; it must be a wal2json slot on " + db_ +
                                " (choose another slot name)");
    }
    return Status::OK();
  }
  auto created =
      Exec("SELECT lsn FROM pg_create_logical_replication_slot($1, 'wal2json')", {slot_});
  if (!created.ok() && created.status().message().find("already exists") == std::string::npos) {
    return created.status();
  }
  return Status::OK();
}

Result<uint64_t> PostgresSource::SlotConfirmedLsn() {
  PLEXUS_ASSIGN_OR_RETURN(auto r, Exec("SELECT confirmed_flush_lsn::text FROM "
                                       "pg_replication_slots WHERE slot_name = $1",
                                       {slot_}));
  if (PQntuples(r.get()) != 1 || PQgetisnull(r.get(), 0, 0)) {
    return NotFound(Describe() + ": replication slot " + slot_ + " vanished");
  }
  return ParseLsn(PQgetvalue(r.get(), 0, 0));
}

Status PostgresSource::AdvanceSlot(uint64_t lsn) {
  if (lsn <= acked_lsn_) return Status::OK();
  PLEXUS_ASSIGN_OR_RETURN(
      auto r, Exec("SELECT end_lsn::text FROM pg_replication_slot_advance($1, $2::pg_lsn)",
                   {slot_, FormatLsn(lsn)}));
  PLEXUS_ASSIGN_OR_RETURN(acked_lsn_, ParseLsn(PQgetvalue(r.get(), 0, 0)));
  return Status::OK();
}

Status PostgresSource::Open(const SourceOffsets& committed) {
  snapshotting_ = false;
  snapshot_ahead_.clear();
  conn_.reset();
  PLEXUS_RETURN_IF_ERROR(Connect());
  PLEXUS_RETURN_IF_ERROR(CheckServer());
  PLEXUS_RETURN_IF_ERROR(CheckTable());
  PLEXUS_RETURN_IF_ERROR(EnsureSlot());  // before the snapshot: no change falls between
  PLEXUS_ASSIGN_OR_RETURN(acked_lsn_, SlotConfirmedLsn());
  unacked_rows_ = 0;
  auto lsn = committed.find("lsn");
  if (lsn != committed.end()) {
    PLEXUS_ASSIGN_OR_RETURN(uint64_t resume, ParseLsn(lsn->second));
    // Committed but not acknowledged before a crash: release it now.
    if (!committed.count("snapshot")) PLEXUS_RETURN_IF_ERROR(AdvanceSlot(resume));
  }
  read_lsn_ = acked_lsn_;
  bool snapshot_done = lsn != committed.end() && !committed.count("snapshot");
  if (spec_.snapshot && !snapshot_done) PLEXUS_RETURN_IF_ERROR(BeginSnapshot());
  return Status::OK();
}

Status PostgresSource::BeginSnapshot() {
  std::unique_ptr<char, decltype(&PQfreemem)> schema(
      PQescapeIdentifier(conn_.get(), schema_.c_str(), schema_.size()), &PQfreemem);
  std::unique_ptr<char, decltype(&PQfreemem)> table(
      PQescapeIdentifier(conn_.get(), table_.c_str(), table_.size()), &PQfreemem);
  if (!schema || !table) return Internal(Describe() + ": cannot quote the table's name");
  PLEXUS_ASSIGN_OR_RETURN(auto begin, Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  PLEXUS_ASSIGN_OR_RETURN(auto declare, Exec(std::string("DECLARE plexus_snapshot NO SCROLL "
                                                         "CURSOR FOR SELECT * FROM ") +
                                             schema.get() + "." + table.get()));
  snapshotting_ = true;
  return Status::OK();
}

Result<ChangeBatch> PostgresSource::ReadSnapshot(size_t max_events) {
  if (!conn_) {  // the connection, and so the snapshot's cursor, was lost: start it again
    snapshot_ahead_.clear();
    PLEXUS_RETURN_IF_ERROR(Connect());
    PLEXUS_RETURN_IF_ERROR(BeginSnapshot());
  }
  ChangeBatch batch;
  batch.events = std::move(snapshot_ahead_);
  snapshot_ahead_.clear();
  size_t want = max_events > batch.events.size() ? max_events - batch.events.size() : 0;
  PLEXUS_ASSIGN_OR_RETURN(
      auto r, Exec("FETCH FORWARD " + std::to_string(want + 1) + " FROM plexus_snapshot"));
  int rows = PQntuples(r.get()), cols = PQnfields(r.get());
  int64_t ts_ms = NowMillis();
  Json source = {{"connector", "postgresql"},
                 {"db", db_},
                 {"schema", schema_},
                 {"table", table_},
                 {"lsn", 0},
                 {"snapshot", "true"},
                 {"ts_ms", ts_ms}};
  for (int i = 0; i < rows; ++i) {
    Json after = Json::object();
    for (int c = 0; c < cols; ++c) {
      const char* name = PQfname(r.get(), c);
      if (PQgetisnull(r.get(), i, c)) {
        after[name] = nullptr;
        continue;
      }
      std::string text = PQgetvalue(r.get(), i, c);
      switch (PQftype(r.get(), c)) {
        case 16:
          after[name] = text == "t";
          break;  // bool
        case 20:
        case 21:
        case 23:
        case 26:  // int8 int2 int4 oid
        case 700:
        case 701:
        case 1700:
          after[name] = NumberFromText(text);
          break;
        default:
          after[name] = std::move(text);
      }
    }
    Json event = {{"op", "r"},
                  {"before", nullptr},
                  {"after", std::move(after)},
                  {"source", source},
                  {"ts_ms", ts_ms}};
    batch.events.push_back(event.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  if (batch.events.size() > max_events) {  // the look-ahead row: the snapshot goes on
    snapshot_ahead_.push_back(std::move(batch.events.back()));
    batch.events.pop_back();
  } else {
    PLEXUS_ASSIGN_OR_RETURN(auto done, Exec("COMMIT"));
    snapshotting_ = false;
  }
  batch.offsets = Offsets();
  return batch;
}

SourceOffsets PostgresSource::Offsets() const {
  SourceOffsets offsets{{"lsn", FormatLsn(read_lsn_)}};
  if (snapshotting_) offsets["snapshot"] = "running";
  return offsets;
}

Result<std::string> PostgresSource::Envelope(const Json& change, const std::string& xid,
                                             int64_t ts_ms) {
  auto row = [](const Json& columns) {
    Json out = Json::object();
    for (const auto& c : columns) out[c.at("name").get<std::string>()] = c.at("value");
    return out;
  };
  std::string action = change.at("action").get<std::string>();
  Json event;
  if (action == "I") {
    event = {{"op", "c"}, {"before", nullptr}, {"after", row(change.at("columns"))}};
  } else if (action == "U") {
    event = {{"op", "u"},
             {"before", change.contains("identity") ? row(change["identity"]) : Json()},
             {"after", row(change.at("columns"))}};
  } else {
    event = {{"op", "d"},
             {"before", change.contains("identity") ? row(change["identity"]) : Json()},
             {"after", nullptr}};
  }
  PLEXUS_ASSIGN_OR_RETURN(uint64_t lsn, ParseLsn(change.at("lsn").get<std::string>()));
  event["source"] = {{"connector", "postgresql"},
                     {"db", db_},
                     {"schema", change.value("schema", schema_)},
                     {"table", change.value("table", table_)},
                     {"lsn", lsn},
                     {"txId", NumberFromText(xid)},
                     {"ts_ms", ts_ms}};
  event["ts_ms"] = ts_ms;
  return event.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status PostgresSource::PeekChanges(size_t max_events, ChangeBatch* batch) {
  std::string limit = std::to_string(unacked_rows_ + static_cast<int64_t>(max_events) + 2);
  PLEXUS_ASSIGN_OR_RETURN(
      auto r, Exec("SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_changes($1, "
                   "NULL, $2::int, 'format-version', '2', 'include-lsn', 'true', "
                   "'include-timestamp', 'true', 'include-pk', 'true', 'add-tables', $3, "
                   "'actions', 'insert,update,delete')",
                   {slot_, limit, Wal2JsonName(schema_) + "." + Wal2JsonName(table_)}));
  int rows = PQntuples(r.get());
  std::vector<std::string> txn;
  int64_t ts_ms = 0;
  for (int i = 0; i < rows; ++i) {
    const char* data = PQgetvalue(r.get(), i, 2);
    PLEXUS_ASSIGN_OR_RETURN(Json change, ParseExact(data, PQgetlength(r.get(), i, 2)));
    std::string action = change.value("action", "");
    try {
      if (action == "B") {
        txn.clear();
        ts_ms = TimestampMillis(change.value("timestamp", ""));
        if (ts_ms == 0) ts_ms = NowMillis();
      } else if (action == "I" || action == "U" || action == "D") {
        PLEXUS_ASSIGN_OR_RETURN(std::string event,
                                Envelope(change, PQgetvalue(r.get(), i, 1), ts_ms));
        txn.push_back(std::move(event));
      } else if (action == "C") {
        PLEXUS_ASSIGN_OR_RETURN(uint64_t end, ParseLsn(PQgetvalue(r.get(), i, 0)));
        if (end <= read_lsn_) continue;  // handed out before, not yet acknowledged
        if (!batch->events.empty() && batch->events.size() + txn.size() > max_events) break;
        for (auto& e : txn) batch->events.push_back(std::move(e));
        txn.clear();
        read_lsn_ = end;
        unacked_rows_ = i + 1;
      }
    } catch (const Json::exception& e) {
      return Internal(Describe() + ": unexpected wal2json change (" + e.what() +
                      "): " + std::string(data).substr(0, 200));
    }
  }
  return Status::OK();
}

Result<ChangeBatch> PostgresSource::Read(size_t max_events, std::chrono::milliseconds wait) {
  if (max_events == 0) max_events = 1;
  if (snapshotting_) return ReadSnapshot(max_events);
  auto deadline = std::chrono::steady_clock::now() + wait;
  ChangeBatch batch;
  for (;;) {
    uint64_t before = read_lsn_;
    PLEXUS_RETURN_IF_ERROR(PeekChanges(max_events, &batch));
    if (!batch.events.empty()) break;
    if (read_lsn_ != before && acked_lsn_ == before) {
      // Only transactions without changes to this table: nothing to commit, so release them
      // now, or the slot would hold the server's WAL back.
      PLEXUS_RETURN_IF_ERROR(AdvanceSlot(read_lsn_));
      unacked_rows_ = 0;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kPollInterval, deadline - now));
  }
  batch.offsets = Offsets();
  return batch;
}

Status PostgresSource::Acknowledge(const SourceOffsets& committed) {
  if (committed.count("snapshot")) return Status::OK();  // the slot waits for the snapshot
  auto lsn = committed.find("lsn");
  if (lsn == committed.end()) return Status::OK();
  PLEXUS_ASSIGN_OR_RETURN(uint64_t upto, ParseLsn(lsn->second));
  if (snapshotting_) return Status::OK();
  PLEXUS_RETURN_IF_ERROR(AdvanceSlot(std::min(upto, read_lsn_)));
  if (acked_lsn_ >= read_lsn_) unacked_rows_ = 0;
  return Status::OK();
}

bool ValidSlotName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Result<std::unique_ptr<ChangeSource>> MakePostgresSource(const spec::CdcSpec& spec,
                                                         const std::string& default_slot) {
  std::string where = spec.location.file.empty()
                          ? std::string("postgres cdc input")
                          : spec.location.file + ":" + std::to_string(spec.location.line);
  if (spec.dsn.empty()) return InvalidArgument(where + ": cdc.dsn is required for postgres");
  if (spec.table.empty()) {
    return InvalidArgument(where + ": cdc.table (schema.table) is required for postgres");
  }
  std::string slot = spec.slot;
  if (slot.empty()) {  // the product's own name: made a valid slot name
    for (char c : default_slot) {
      slot += std::isalnum(static_cast<unsigned char>(c))
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                  : '_';
    }
    if (slot.size() > 63) slot.resize(63);
  }
  if (!ValidSlotName(slot)) {
    return InvalidArgument(where + ": cdc.slot '" + slot +
                           "' is not a replication slot name (lower-case letters, digits and "
                           "underscores, at most 63)");
  }
  auto dot = spec.table.find('.');
  std::string schema = dot == std::string::npos ? "public" : spec.table.substr(0, dot);
  std::string table = dot == std::string::npos ? spec.table : spec.table.substr(dot + 1);
  if (schema.empty() || table.empty()) {
    return InvalidArgument(where + ": cdc.table '" + spec.table + "' is not schema.table");
  }
  return std::unique_ptr<ChangeSource>(
      std::make_unique<PostgresSource>(spec, std::move(slot), std::move(schema), std::move(table)));
}

}  // namespace plexus::pipeline
