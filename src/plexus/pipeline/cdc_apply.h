// File: plexus/pipeline/cdc_apply.h
//
// Applies batches of Debezium change events of one CDC input to the output ports fed by it
// (`from: <input>`), exactly once, in set-based SQL:
//
//   1. the raw event texts go into an in-memory table (ChunkAppender: arrival index, text);
//   2. one query parses them (json_transform), unwraps {schema, payload}, computes each event's
//      position (source.lsn, else source.pos, else ts_ms) and casts the row image to the port's
//      contract types; an event that is malformed, has an unknown op, no position, no key, a
//      value that does not cast or a required column NULL gets its reason;
//   3. the good events are deduplicated per primary key (latest position, then latest arrival)
//      and compared with the key state table (<table>__cdc_keys: key -> last position, also of
//      deleted keys), so an event older than what the table holds is skipped (stale);
//   4. one DuckDB transaction on the domain's data file deletes the changed keys' rows, inserts
//      the new images, updates the key state, appends the dead letters
//      (<product>__<input>__dead_letters) and replaces the input's committed source offsets
//      (plexus_cdc_offsets).
//
// A batch whose bad share exceeds CdcSpec::max_error_rate (or, with new_columns: pause, one
// bringing a column the contract lacks) is not applied at all: the report says paused.
//
// Thread safety: one thread at a time (it uses one engine::Connection).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/processors.h"
#include "plexus/pipeline/runner.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

/// A column the source sent that the port's contract lacks, added to its table (new_columns:
/// add).
struct AddedColumn {
  std::string port;  ///< the port's name
  std::string column;
  std::string type;  ///< the DuckDB type it was added as
};

namespace internal {
class LookupRelations;  // cdc_row_steps.h
}  // namespace internal

/// The part of a batch's apply that needs neither the database nor the applier's state: the
/// fast path's parse of the texts into typed columns and its latest event per key (cdc_parse.h).
/// Made by CdcApplier::ParseAhead on the applier's thread for the batch to come, run on any one
/// thread while the applier applies the current batch, then handed to Apply with the same
/// events, which uses it when the table's columns are still those it parsed for.
class CdcParseAhead {
 public:
  ~CdcParseAhead();
  /// Parses `events`, which must stay alive and unchanged until Apply takes this.
  void Run(const std::vector<std::string>& events);

 private:
  friend class CdcApplier;
  struct State;
  explicit CdcParseAhead(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// The processor steps of the output ports fed by a CDC input (docs/cdc.md, "Processor
/// steps"): each port's row images go through its steps before the contract cast.
struct CdcSteps {
  std::map<std::string, std::vector<ChainStep>> by_port;  ///< port name -> its expanded steps
  std::string salt;  ///< the hash mask's salt (Catalog::MaskSalt)
  /// What the lookup steps read (the pipeline's other inputs: cdc_lookup.h), on the applier's
  /// connection; null when no step is a lookup.
  std::shared_ptr<internal::LookupRelations> lookups;
};

class CdcApplier {
 public:
  /// `ports`: the output ports fed by the input, all of `domain` (attached read-write on
  /// `conn` as Home::AttachName(domain)); each needs a primary key in its contract. Creates the
  /// tables it needs when missing. `steps`: the ports' row-wise steps (filter, project,
  /// rename, cast, mask, hash, lookup); any other step is refused here, naming it and its
  /// file:line.
  static Result<std::unique_ptr<CdcApplier>> Open(engine::Connection* conn,
                                                  const std::string& domain,
                                                  const std::string& product,
                                                  const std::string& input,
                                                  const spec::CdcSpec& spec,
                                                  std::vector<catalog::OutputPortRecord> ports,
                                                  CdcSteps steps = {});
  ~CdcApplier();

  /// The source offsets committed with the data (empty: none yet).
  Result<SourceOffsets> Committed();
  /// Applies `events` (in arrival order) and commits `offsets` (empty: leaves the committed
  /// ones) in the same transaction. All or nothing. `parsed`: their parse, run ahead.
  Result<ApplyReport> Apply(const std::vector<std::string>& events, const SourceOffsets& offsets,
                            std::unique_ptr<CdcParseAhead> parsed = nullptr);
  /// A parse of the next batch to run on another thread (null: batches take the SQL path now,
  /// there is nothing to parse ahead).
  std::unique_ptr<CdcParseAhead> ParseAhead() const;
  /// Full refresh: empties the ports' tables, the key state and the offsets, in one
  /// transaction (the dead letters stay).
  Status Reset();

  const std::vector<catalog::OutputPortRecord>& ports() const;
  /// The columns the last Apply added.
  const std::vector<AddedColumn>& added_columns() const;
  const std::string& input() const;

 private:
  struct State;
  explicit CdcApplier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Reads a change source one batch ahead of its applier, for a catch-up: while the caller's
/// thread applies batch N, another reads batch N+1 and parses it (CdcParseAhead), so both
/// cores have work. At most one batch is ahead. Order, offsets, dead letters and the key state
/// stay the applier's: batch N+1's positions are compared with the key state after batch N's
/// commit.
///
/// Thread safety: one caller thread. The reading thread uses the source from a Next that
/// reads ahead until Settle, so the caller acknowledges, opens or reads the source only after
/// Settle or Rewind; the destructor waits for the reading thread.
class CdcReadAhead {
 public:
  CdcReadAhead(ChangeSource* source, CdcApplier* applier, size_t max_events);
  ~CdcReadAhead();
  CdcReadAhead(const CdcReadAhead&) = delete;
  CdcReadAhead& operator=(const CdcReadAhead&) = delete;

  /// The next batch: the one read ahead, else read now (waiting at most `wait` for its first
  /// event). A batch of `max_events` (the source is behind), or with `catch_up` (the caller
  /// reads all the source holds) any batch with events, starts the read and parse of the
  /// following one.
  Result<ChangeBatch> Next(std::chrono::milliseconds wait, bool catch_up);
  /// Applies the batch Next returned last (with its parse when it was read ahead).
  Result<ApplyReport> Apply(const ChangeBatch& batch);
  /// Waits for the batch being read ahead: the source is the caller's until the next Next.
  void Settle();
  /// Drops the batch read ahead, if any, and opens the source at `committed` (after a batch
  /// that was not applied, a full refresh or a backfill).
  Status Rewind(const SourceOffsets& committed);

 private:
  struct Ahead;
  ChangeSource* source_;
  CdcApplier* applier_;
  size_t max_events_;
  std::unique_ptr<Ahead> ahead_;               ///< the read ahead, while one runs or waits
  std::unique_ptr<CdcParseAhead> parsed_;      ///< the parse of the batch Next returned last
};

/// The dead-letter table of a product's CDC input, in its domain's data file.
std::string DeadLetterTable(const std::string& product, const std::string& input);

/// The contract version a port would get for a column added at the source (a minor bump).
std::string ProposedVersion(const catalog::OutputPortRecord& port);

/// Whether the product's applied pipeline has a CDC input.
bool HasCdcInputs(const catalog::ProductRecord& product);

/// `plexus run` for a product with CDC inputs: reads everything its sources hold now, applies
/// it, stops; records one run (and the ports' publications) in the catalog. `db` as
/// OpenRunEngine makes it.
RunReport CatchUpCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                            engine::Database* db, const catalog::ProductRecord& product);

/// `plexus run --full-refresh` for a CDC product: empties its ports' tables, key state and
/// offsets (one transaction per input), and resumes it when paused.
Status FullRefreshCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                             engine::Database* db, const catalog::ProductRecord& product);

}  // namespace plexus::pipeline
