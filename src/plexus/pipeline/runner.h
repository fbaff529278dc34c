// File: plexus/pipeline/runner.h
//
// Runs products' pipelines: reads the inputs (files, or upstream products through input
// ports), evaluates each output port's SELECT through the SQL guard, writes it to a staging
// table in the domain's data file, checks it against the port's contract, and only then swaps
// it in, in one transaction. A failing run leaves the previous data in place and is recorded
// in the catalog as failed, with its reason.
//
//   PipelineRunner runner(home, catalog.get());
//   PLEXUS_ASSIGN_OR_RETURN(auto reports, runner.Run({"orders.orders"}));
//
// Thread safety: without a SharedEngine, one Run at a time per process (it opens the domains'
// data files for writing); on serve's SharedEngine, runs of different products may run at once
// (the scheduler never starts two of one product).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::pipeline {

/// What one product's run did.
struct RunReport {
  std::string product;  ///< domain.product
  std::string status;   ///< succeeded, failed, skipped
  std::string reason;   ///< why it failed or was skipped
  std::map<std::string, int64_t> rows;  ///< output port -> rows published
  double seconds = 0;
  int64_t run_id = 0;
  /// The quality rules checked, one result per rule of each output built (recorded in the
  /// catalog with the run).
  std::vector<catalog::QualityResultRecord> quality;
  /// CDC products: the contract bumps proposed for source columns the contracts lack (issue 7)
  /// and, when the pipeline is paused, why.
  std::vector<catalog::SchemaProposalRecord> proposals;
  std::string paused;
  /// CDC products: what the catch-up applied (also when it paused: what came before).
  struct Changes {
    int64_t events = 0;         ///< read from the sources
    int64_t upserted = 0;       ///< rows inserted or replaced
    int64_t deleted = 0;        ///< rows deleted
    int64_t stale = 0;          ///< skipped: older than what the table holds for their key
    int64_t dead_lettered = 0;  ///< sent to the input's dead-letter table
    int64_t compacted = 0;      ///< deleted rows dropped by rewriting the tables
  };
  std::optional<Changes> changes;
  /// What the run measured (run_metrics.h; empty when RunOptions::metrics is false): per
  /// output port (position -1) rows in (the chain's start), out (published), rejected (by the
  /// contract or an error-severity quality rule), bytes in/out and seconds; per processor step
  /// (position 0, 1, ...) rows in and out. Recorded with the run before it finishes.
  std::vector<catalog::RunMetricRecord> metrics;
};

/// A hardened engine with every domain the runs of `products` touch attached: their own
/// domains read-write, their upstream domains read-only. File reads are limited to the home
/// and the products' folders.
Result<std::unique_ptr<engine::Database>> OpenRunEngine(
    const catalog::Home& home, const std::vector<const catalog::ProductRecord*>& products);

/// `plexus serve`'s one engine, shared by the consumers' queries and the pipelines that run
/// inside the server: hardened and locked like the others, its domains attached read-write
/// (AttachDomain), so a run commits while consumers read (each query sees the snapshot it
/// started with). File reads are limited to the home, the folders of the meshes of the
/// products applied when it opened (and `extra_folders`): the locked configuration cannot
/// widen later, so a product applied afterwards from another folder cannot read its files
/// until the server restarts (ReadableFolder says so).
///
/// Thread safety: shareable; AttachDomain may be called from any thread.
class SharedEngine {
 public:
  static Result<std::unique_ptr<SharedEngine>> Open(const catalog::Home& home,
                                                    const catalog::Catalog& catalog,
                                                    const std::vector<std::string>& extra_folders);
  engine::Database* database() { return db_.get(); }
  /// Attaches the domain's data file read-write (creating it) unless it is attached already.
  Status AttachDomain(const std::string& domain);
  /// kFailedPrecondition, asking for a restart, when `dir` is outside the readable folders.
  Status ReadableFolder(const std::string& dir) const;
  const std::vector<std::string>& folders() const { return folders_; }

 private:
  SharedEngine(catalog::Home home, std::unique_ptr<engine::Database> db,
               std::vector<std::string> folders)
      : home_(std::move(home)), db_(std::move(db)), folders_(std::move(folders)) {}
  catalog::Home home_;
  std::unique_ptr<engine::Database> db_;
  std::vector<std::string> folders_;  ///< readable besides the home's data and temp folders
};

/// How a PipelineRunner runs: on its own engine (the CLI) or serve's, and why (run history).
struct RunOptions {
  /// serve's engine; null: the runner opens its own (OpenRunEngine), which needs the domains'
  /// data files free (no server holding them).
  SharedEngine* shared = nullptr;
  std::string trigger = "manual";  ///< manual, schedule, cron, upstream, retry, continuous
  int attempt = 1;
  bool full_refresh = false;  ///< CDC: rebuild from the source (batch runs rebuild anyway)
  /// Measure and record run metrics (issue 9); false: count nothing, record nothing.
  bool metrics = true;
  /// Called as each product starts (plexus run draws its progress line with it).
  std::function<void(const std::string& product)> on_product;
  /// Called, on the running thread, with the connection the batch runs use once it is open,
  /// and with nullptr before it closes: plexus run polls its Progress() for its progress bar.
  std::function<void(engine::Connection* connection)> on_connection;
};

class PipelineRunner {
 public:
  PipelineRunner(catalog::Home home, catalog::Catalog* catalog, RunOptions options = {})
      : home_(std::move(home)), catalog_(catalog), options_(std::move(options)) {}

  /// Runs the named products (domain.product or id); empty: every product with a pipeline.
  /// Upstream products run before their consumers; a consumer of a product that failed in the
  /// same call is skipped. Returns one report per product; a Status only when the run could not
  /// start at all (unknown product, data files locked).
  Result<std::vector<RunReport>> Run(const std::vector<std::string>& products);

 private:
  /// A connection to the engine the runs of `products` use: serve's shared one (their domains
  /// attached, their folders checked) or a new one kept in `own`.
  Result<std::unique_ptr<engine::Connection>> Connect(
      const std::vector<const catalog::ProductRecord*>& products,
      std::unique_ptr<engine::Database>* own);

  catalog::Home home_;
  catalog::Catalog* catalog_;
  RunOptions options_;
};

}  // namespace plexus::pipeline
