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
// Thread safety: one Run at a time per process (it opens the domains' data files for writing).
#pragma once

#include <cstdint>
#include <map>
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
};

/// A hardened engine with every domain the runs of `products` touch attached: their own
/// domains read-write, their upstream domains read-only. File reads are limited to the home
/// and the products' folders.
Result<std::unique_ptr<engine::Database>> OpenRunEngine(
    const catalog::Home& home, const std::vector<const catalog::ProductRecord*>& products);

class PipelineRunner {
 public:
  PipelineRunner(catalog::Home home, catalog::Catalog* catalog)
      : home_(std::move(home)), catalog_(catalog) {}

  /// Runs the named products (domain.product or id); empty: every product with a pipeline.
  /// Upstream products run before their consumers; a consumer of a product that failed in the
  /// same call is skipped. Returns one report per product; a Status only when the run could not
  /// start at all (unknown product, data files locked).
  Result<std::vector<RunReport>> Run(const std::vector<std::string>& products);

 private:
  catalog::Home home_;
  catalog::Catalog* catalog_;
};

}  // namespace plexus::pipeline
