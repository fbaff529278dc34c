// File: bench/bench_home.h
//
// What the benchmarks share: the home prepared by scripts/bench.sh opened with
// its catalog and query service, a raw DuckDB with the same engine options and
// the same data files attached read-only (physical names, no guard), the
// principals a benchmark reads as, and timing.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto bench, BenchHome::Open(home_dir));
//   PLEXUS_ASSIGN_OR_RETURN(auto admin, bench->ClearReader());
//   PLEXUS_ASSIGN_OR_RETURN(auto service, bench->OpenService());  // after the
//   principals PLEXUS_ASSIGN_OR_RETURN(auto result,
//   bench->raw().Query(Physical(sql, bench->ports())));
//
// Thread safety: one thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/access/query_service.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"

namespace plexus::bench {

class BenchHome {
public:
  static Result<std::unique_ptr<BenchHome>> Open(const std::string &home_dir);

  /// The home's mesh admin `admin` (created if missing, as the CLI does), made
  /// a member of every group that reads in the clear: it reads every port of
  /// other domains unmasked and unfiltered, so the guarded side of a benchmark
  /// reads the same data as the raw side.
  Result<access::Principal> ClearReader();
  /// A consumer outside every domain with `country` set and a grant on every
  /// product of `granted` (domain.product): the example mesh shows it
  /// customers' email hashed and only the customers of its country. Created if
  /// missing.
  Result<access::Principal> Consumer(const std::string &name,
                                     const std::string &country,
                                     const std::vector<std::string> &granted);
  /// The query service over the home; open it after the principals, so its
  /// policy has them.
  Result<std::unique_ptr<access::QueryService>> OpenService();

  const catalog::Home &home() const { return home_; }
  catalog::Catalog &catalog() { return *catalog_; }
  const std::vector<catalog::OutputPortRecord> &ports() const { return ports_; }
  /// The raw side: QueryService's engine options, every domain's file attached
  /// read-only.
  engine::Connection &raw() { return *raw_; }
  engine::Database &raw_database() { return *raw_db_; }

private:
  explicit BenchHome(catalog::Home home) : home_(std::move(home)) {}

  catalog::Home home_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::vector<catalog::OutputPortRecord> ports_;
  std::unique_ptr<engine::Database> raw_db_;
  std::unique_ptr<engine::Connection>
      raw_; // declared after raw_db_: closed first
};

/// A query by `principal` through the door "bench" (the audit trail tells it
/// apart).
inline access::QueryRequest BenchRequest(const access::Principal &principal) {
  access::QueryRequest request;
  request.principal = &principal;
  request.door = "bench";
  return request;
}

/// Replaces each port's logical name (domain.product.port) by its physical
/// table.
std::string Physical(std::string sql,
                     const std::vector<catalog::OutputPortRecord> &ports);

/// Reads a result to its end; the number of rows.
Result<int64_t> Drain(engine::QueryResult &result);
/// Reads a result to its end; its rows, as text (NULL as \N), one line per row,
/// sorted when `sort`: to check that two sides returned the same answer.
Result<std::vector<std::string>> Rows(engine::QueryResult &result, bool sort);

double Median(std::vector<double> values);
/// The q-quantile (0..1) by the nearest rank.
double Quantile(std::vector<double> values, double q);

using Clock = std::chrono::steady_clock;
inline double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start)
      .count();
}

/// Runs `run` (returning Status) once; its wall time in milliseconds.
template <typename F> Result<double> TimeMillis(F &&run) {
  auto start = Clock::now();
  PLEXUS_RETURN_IF_ERROR(run());
  return MicrosSince(start) / 1000;
}

} // namespace plexus::bench
