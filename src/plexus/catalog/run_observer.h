// File: plexus/catalog/run_observer.h
//
// Every pipeline run starts and finishes through Catalog::StartRun and Catalog::FinishRun
// (batch runs, CDC micro-batches, pushes, backfills): a RunObserver set on the catalog hears of
// each, after the write committed. The observe module uses it for OpenLineage events and
// alerts; it reads what it needs (publications, quality results, metrics) by run id.
//
// Thread safety: called on the thread of the run, outside the catalog's lock. An observer must
// return quickly (queue the work) and must not fail the run: it returns nothing.
#pragma once

#include <cstdint>
#include <string>

namespace plexus::catalog {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void RunStarted(int64_t run_id, const std::string& product_id,
                          const std::string& trigger) = 0;
  /// `status`: succeeded or failed. Everything the run records (publications, quality results,
  /// metrics) is written before FinishRun.
  virtual void RunFinished(int64_t run_id, const std::string& product_id,
                           const std::string& status) = 0;
};

}  // namespace plexus::catalog
