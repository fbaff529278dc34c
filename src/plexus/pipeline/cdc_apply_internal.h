// File: plexus/pipeline/cdc_apply_internal.h (pipeline-internal)
//
// The CDC applier's state (cdc_apply.h), shared by the files that implement it:
//   cdc_apply.cc        opening (the tables), a batch's dispatch and transaction, reset;
//   cdc_apply_merge.cc  the SQL path: raw texts, new and source columns, typing, dead letters,
//                       winners, the merge (its SQL text is cdc_apply_sql.cc's);
//   cdc_apply_fast.cc   the fast path (cdc_parse.h) and the key state held in memory
//                       (cdc_key_state.h).
//
// Thread safety: one thread at a time (the applier's).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/cdc_key_state.h"
#include "plexus/pipeline/cdc_parse.h"
#include "plexus/pipeline/cdc_row_steps.h"

namespace plexus::pipeline {
namespace internal {

using NamedTypes = std::vector<std::pair<std::string, std::string>>;

/// A port fed by the input, and its tables.
struct PortTables {
  catalog::OutputPortRecord port;
  std::string table;       ///< qualified product table
  std::string keys_table;  ///< qualified key state table
  std::string table_name;  ///< unqualified
  std::vector<ChangeColumn> columns;
  /// The live rows of the table [0] and of its key state table [1] as last counted or kept
  /// by the fast path (nullopt: not counted yet), whether that is still exact (a batch of the
  /// SQL path makes it not), and the rows the key state table stored when they were counted:
  /// compaction (CdcApplier::State::Compact) compares them with the rows the tables store.
  std::optional<int64_t> live[2];
  bool live_exact[2] = {false, false};
  int64_t keys_stored_at_count = 0;
};

/// The first column of the first row of `sql` as an integer (0 when there is no row).
Result<int64_t> ScalarInt(engine::Connection& conn, const std::string& sql);

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

}  // namespace internal

struct CdcParseAhead::State {
  std::vector<internal::ChangeColumn> columns;  ///< the table's, when it was made
  std::unique_ptr<internal::ParsedBatch> parsed;
};

struct CdcApplier::State {
  using Column = internal::ChangeColumn;
  using NamedTypes = internal::NamedTypes;
  using PortTables = internal::PortTables;
  using Profile = internal::Profile;

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
    return engine::QuoteIdentifier(attach) + ".main." + engine::QuoteIdentifier(table);
  }
  std::string Work(const std::string& what) const { return "cdc_" + what + "_" + suffix; }
  std::string SteppedTable(size_t i) const { return Work("stepped" + std::to_string(i)); }

  // cdc_apply.cc: the tables, a batch, its transaction.
  Status LoadColumns(PortTables& p);
  std::vector<std::string> KeyNames(const PortTables& p) const;
  Status Prepare();
  void DropWork();
  std::string OffsetsSql(const SourceOffsets& offsets) const;
  /// Runs `body` in one transaction. `writes_keys`: it writes the ports' key state tables, so
  /// any in-memory key state of them (this applier's or another's) is loaded again before its
  /// next use.
  Status Transaction(const std::string& body, bool writes_keys);
  /// After a batch's commit: rewrites each port's table and key state table whose deleted
  /// rows outnumber the share spec.compact_at of its rows (DuckDB's own vacuum is off,
  /// engine::DatabaseOptions::vacuum), each in its own transaction. Adds the deleted rows it
  /// dropped to `report`. A failure leaves the table as it was and is returned.
  Status Compact(ApplyReport& report, Profile& prof);
  /// A batch: through the fast path when it takes it, else the SQL path.
  Result<ApplyReport> ApplyBatch(const std::vector<std::string>& events,
                                 const SourceOffsets& offsets,
                                 std::unique_ptr<CdcParseAhead> parsed);

  // cdc_apply_merge.cc: the SQL path.
  Result<ApplyReport> ApplySql(const std::vector<std::string>& events,
                               const SourceOffsets& offsets, Profile& prof);
  Status LoadRaw(const std::vector<std::string>& events);
  /// Source columns that no port's table has, in a sample of the batch's row images (every
  /// 16th event and the last: a column added at the source is in every image after it): name
  /// -> DuckDB type.
  Result<NamedTypes> NewColumns(size_t count);
  /// The row images typed from the source into Work("src"): the types of a sample first, then,
  /// when a value does not fit its sampled type, of every event.
  Status TypeSource(size_t count, Profile& prof);
  /// Each port's columns the batch brings that its table lacks (name, DuckDB type): of a port
  /// without steps, the row images' new keys (NewColumns); of a port with steps, the new
  /// columns of its steps' result, which it leaves in SteppedTable(i).
  Status FreshColumns(size_t count, std::vector<NamedTypes>& fresh, Profile& prof);
  /// Parses and types the envelopes into `table` (cdc_apply_sql.h, TypeSql).
  Status Type(const std::string& table, const std::vector<Column>& columns, size_t count);
  /// The batch's bad events (of any port), with their text and a refined "malformed" reason.
  Status Dead();
  /// True (and the report says paused, with the most frequent reason) when the batch's share
  /// of dead letters exceeds maxErrorRate.
  Result<bool> PausedByErrorRate(ApplyReport& report);
  /// The batch's latest good event per key (its key, index, position and op), marked stale
  /// when the table holds a newer one.
  Status Winners(size_t i, const PortTables& p, size_t count);
  /// The report's counts (stale, upserted, deleted, the newest event's time) from port 0's
  /// winners.
  Status CountWinners(ApplyReport& report);
  /// The statements of the port's merge (run inside the batch's transaction).
  std::string MergeSql(size_t i, const PortTables& p, const std::vector<Column>& columns);

  // cdc_apply_fast.cc: the fast path.
  /// Whether the batch may take the fast path (cdc_parse.h): one port without steps whose
  /// columns are all of types it writes, and keys it can compare.
  bool FastEligible() const;
  /// The port's key state in memory, loaded when missing or when its table was written by
  /// anything but this applier's fast path since (nullptr: the key is not one integer column,
  /// or the table holds more keys than IntKeyState::kMaxKeys; then a join reads it).
  Result<const internal::IntKeyState*> KeyStateInMemory();
  /// After the SQL path committed a batch: the in-memory key state (when one is loaded) takes
  /// the key states the merge wrote, the winners' that are not stale (MergeSql), instead of
  /// being loaded again whole. Should that fail, it is dropped (and loaded when next needed).
  void KeepKeyStateInStep();
  /// The batch through the fast path (with its parse run ahead when that parsed these events
  /// for the table's columns); nullopt when it takes the SQL path instead.
  Result<std::optional<ApplyReport>> ApplyFast(const std::vector<std::string>& events,
                                               const SourceOffsets& offsets,
                                               std::unique_ptr<CdcParseAhead> parsed,
                                               Profile& prof);
};

}  // namespace plexus::pipeline
