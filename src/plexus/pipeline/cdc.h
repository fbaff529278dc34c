// File: plexus/pipeline/cdc.h
//
// Change data capture: sources of Debezium change events (a folder of NDJSON files, HTTP
// pushes, PostgreSQL logical decoding with wal2json, Kafka topics), and the stream that
// applies them to a product's output ports exactly once.
//
//   ChangeSource: where events come from. It reads batches and reports, with each batch, the
//     source offsets after its last event; the applier commits those offsets in the same
//     DuckDB transaction as the data, and on restart hands them back to Open. Acknowledge
//     tells the source it may forget what precedes them (advance the replication slot, commit
//     the Kafka offsets): a crash between commit and acknowledge re-reads events the applier
//     then skips by position.
//
//   ChangeStream: one product's CDC inputs, for `plexus run` (catch up, then stop) and for
//     `plexus serve` (continuous micro-batches), and the target of pushed events (HTTP push,
//     `plexus ingest`).
//
// Event position: the order of two events for one key is their envelope's source position:
// `source.lsn` when present, else `source.pos`, else `ts_ms`; ties are broken by arrival
// order. An event older than what the table already holds for its key is skipped (stale).
//
// Thread safety: a ChangeSource and a ChangeStream are used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/home.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

/// Where a source is: partition -> position, in the source's own terms (files: "name:byte";
/// kafka: "topic/partition" -> next offset; postgres: "lsn" -> "0/16B3748").
using SourceOffsets = std::map<std::string, std::string>;

/// Change events read from a source, in source order.
struct ChangeBatch {
  std::vector<std::string> events;  ///< Debezium envelopes (JSON), with or without schema/payload
  SourceOffsets offsets;            ///< where the source is after the batch's last event
};

/// Every error a source returns names it (Describe()), so callers pass them on as they are.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  /// Positions the source just after `committed` (empty: the beginning; a postgres source then
  /// snapshots the table as op r events before it streams).
  virtual Status Open(const SourceOffsets& committed) = 0;
  /// Up to `max_events` events, waiting at most `wait` for the first; an empty batch when
  /// nothing arrived.
  virtual Result<ChangeBatch> Read(size_t max_events, std::chrono::milliseconds wait) = 0;
  /// The data and `committed` are durable: the source may release what precedes them.
  virtual Status Acknowledge(const SourceOffsets& committed) = 0;
  /// For status lines and errors: "postgres public.orders (slot plexus_sales_orders_changes)".
  virtual std::string Describe() const = 0;
};

/// The source of a CDC input (`spec.source`: files, postgres, kafka; `http` has none: its
/// events are pushed). `product_dir` resolves a files source's folder; `default_slot` names a
/// postgres slot when the spec does not.
Result<std::unique_ptr<ChangeSource>> MakeChangeSource(const spec::CdcSpec& spec,
                                                       const std::string& product_dir,
                                                       const std::string& default_slot);
Result<std::unique_ptr<ChangeSource>> MakeFileSource(const spec::CdcSpec& spec,
                                                     const std::string& product_dir);
Result<std::unique_ptr<ChangeSource>> MakePostgresSource(const spec::CdcSpec& spec,
                                                         const std::string& default_slot);
Result<std::unique_ptr<ChangeSource>> MakeKafkaSource(const spec::CdcSpec& spec);

/// What applying one batch did.
struct ApplyReport {
  int64_t events = 0;         ///< read from the source
  int64_t upserted = 0;       ///< rows inserted or replaced
  int64_t deleted = 0;        ///< rows deleted
  int64_t stale = 0;          ///< skipped: older than what the table holds for the key
  int64_t dead_lettered = 0;  ///< malformed, unknown op, missing key, type mismatch
  int64_t compacted = 0;      ///< deleted rows dropped from the tables by rewriting them
  std::vector<std::string> new_columns;  ///< source columns the contract does not have
  bool paused = false;        ///< the pipeline paused (error rate, incompatible change)
  std::string pause_reason;
  double seconds = 0;
  /// The newest applied event's ts_ms (Unix milliseconds); 0 when no event carried one. Run
  /// metrics' CDC lag is now minus this (issue 9).
  int64_t newest_event_ms = 0;
  /// CatchUp only: the output ports' contract quality rules, checked on the tables it leaves
  /// and recorded with its run (a micro-batch or a push checks none).
  std::vector<catalog::QualityResultRecord> quality;
};

/// One product's CDC inputs applied to its output ports.
class ChangeStream {
 public:
  virtual ~ChangeStream() = default;
  /// `db` has the product's domain attached read-write (and its upstream domains read-only),
  /// as OpenRunEngine makes it.
  static Result<std::unique_ptr<ChangeStream>> Open(const catalog::Home& home,
                                                    catalog::Catalog* catalog,
                                                    engine::Database* db,
                                                    const std::string& product);
  /// One micro-batch per source input: reads what has arrived (waiting at most `wait`),
  /// applies it, and records a run in the catalog when anything was read.
  virtual Result<ApplyReport> Step(std::chrono::milliseconds wait) = 0;
  /// Applies events pushed to the input `input` (HTTP push, `plexus ingest`): all of them or,
  /// on error, none.
  virtual Result<ApplyReport> Push(const std::string& input, std::vector<std::string> events) = 0;
  /// Whether the pipeline is paused, and why ("" when it is not).
  virtual std::string paused() const = 0;
  /// `plexus run`: reads everything the sources hold now, applies it in micro-batches, stops;
  /// records one run in the catalog, with the output ports' quality rules checked on the
  /// tables it leaves (unless it paused).
  virtual Result<ApplyReport> CatchUp() = 0;
  /// Full refresh: empties the output ports' tables, the key state and the committed offsets
  /// (one transaction per input), resumes the pipeline, and reopens the sources at the start.
  virtual Status FullRefresh() = 0;
  /// Clears a pause (after the source or max_error_rate was fixed); the next Step retries.
  virtual Status Resume() = 0;
  /// Why the runs this stream records start (runs.triggered_by): "manual" (the default;
  /// `plexus run`), "continuous", "schedule", "backfill"... Pushes always record "push".
  virtual void SetTrigger(std::string trigger) = 0;
  /// Backfill: rewinds the committed offsets of the source input `input` to `from` (one
  /// transaction on the offsets table) and reopens its source there; CatchUp then re-reads.
  /// `from`: files, a file name of the folder (re-read from its start); kafka,
  /// "partition:offset" pairs separated by commas (other partitions keep their offsets).
  /// Replayed events older than the table's state for their key are skipped as stale, so a
  /// backfill never rolls data back; events never applied (dead-lettered, then fixed) are.
  /// postgres and http inputs are refused (use a full refresh).
  virtual Status Backfill(const std::string& input, const std::string& from) = 0;
};

/// Called after each micro-batch a CatchUp applies (`plexus run` and `plexus ingest` draw a
/// progress line with it): the running total and the batches so far.
using CatchUpProgress = std::function<void(const ApplyReport& total, int64_t batches)>;
/// The process's progress callback for CatchUp (empty: none, the default; plexus serve never
/// sets one). Set it before the runs, from the thread that runs them.
void SetCatchUpProgress(CatchUpProgress progress);

struct RunReport;  // runner.h
/// CatchUpCdcProduct (cdc_apply.h) recording its run under `trigger`.
RunReport CatchUpCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                            engine::Database* db, const catalog::ProductRecord& product,
                            const std::string& trigger);
/// `plexus backfill` without a server: ChangeStream::Backfill, then a catch-up recorded as a
/// run with trigger "backfill". `db` as OpenRunEngine makes it.
RunReport BackfillCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                             engine::Database* db, const catalog::ProductRecord& product,
                             const std::string& input, const std::string& from);

}  // namespace plexus::pipeline
