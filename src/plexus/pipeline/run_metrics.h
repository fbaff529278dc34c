// File: plexus/pipeline/run_metrics.h
//
// What a batch run measures per output port and per processor step (issue 9), EXACT and at
// the least cost. The staging table's row count is known anyway (the contract check counts
// it); a step that keeps the number of rows (project, rename, cast, mask, hash, lookup — a
// lookup refuses a repeated key — and an `sql` step that is a plain SELECT of scalar
// expressions FROM input) hands its count through, so only the input of a step that may change
// the count (filter, dedupe, union, another sql) is counted, all in ONE counting query over
// those step boundaries. A chain of 1:1 steps costs no query at all.
//
//   ChainCounter counter(written, expanded, prefixes, start);
//   counter.Classify(conn, expanded);           // parses sql steps (json_serialize_sql)
//   if (!counter.CountSelect().empty()) ...     // the runner reads the files it counts over
//                                               // once (InputSet::Materialize)
//   ... build the staging table: N rows ...
//   CountChain(conn, guard, inputs, counter);   // the one counting query, if any
//   auto steps = counter.Figures(N);            // one record per written step
//
// Thread safety: a ChainCounter belongs to one run; its connection is used on that thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/processors.h"

namespace plexus::pipeline {

/// True when the `sql` step's SELECT keeps the number of rows of `input`: one SELECT of scalar
/// expressions (functions DuckDB lists as scalar, casts, operators, window functions) FROM
/// input, with no WHERE, GROUP BY, HAVING, QUALIFY, DISTINCT, LIMIT, join or set operation.
/// Anything it cannot tell is counted (false). Parses with DuckDB (no data read).
Result<bool> SqlStepKeepsRows(engine::Connection& conn, const std::string& select);

/// The step counts of one output's chain.
class ChainCounter {
 public:
  /// `written`: the output's steps as written (a `use` is one position, named after its
  /// processor); `expanded`: ExpandChain's steps, `prefixes` the SELECT after each
  /// (CompileChain); `start`: the chain's start relation.
  ChainCounter(const std::vector<spec::ProcessorStep>& written,
               const std::vector<ChainStep>& expanded, std::vector<std::string> prefixes,
               std::string start);
  /// Decides which positions keep their row count (parses sql steps on `conn`).
  Status Classify(engine::Connection& conn, const std::vector<ChainStep>& expanded);
  /// One SELECT of one row: count(*) of each boundary to count (the chain's start is boundary
  /// -1), in boundaries() order; empty when every count follows from the output's rows.
  std::string CountSelect() const;
  const std::vector<int>& boundaries() const { return boundaries_; }
  /// The values of CountSelect's columns, in order.
  void SetCounts(std::vector<int64_t> counts) { counts_ = std::move(counts); }
  /// Rows in of the chain (its start), given the rows it produced.
  int64_t RowsIn(int64_t rows_out) const;
  /// One record per written step (position, processor, rows in and out), given the rows the
  /// chain produced.
  std::vector<catalog::RunMetricRecord> Figures(int64_t rows_out) const;

 private:
  struct Position {
    std::string processor;  ///< the step's kind, or the used processor's name
    int last = -1;          ///< the index of its last expanded step
    bool keeps_rows = false;
  };
  /// The relation after each position: c[p + 1] (c[0] the start).
  std::vector<int64_t> Counts(int64_t rows_out) const;
  std::string BoundarySql(int position) const;

  std::vector<Position> positions_;
  std::vector<std::string> prefixes_;
  std::string start_;
  std::vector<int> boundaries_;  ///< positions whose output is counted (-1: the start)
  std::vector<int64_t> counts_;
};

/// Runs the (classified) counter's CountSelect, through `guard` with `resolver` (the run's
/// inputs), when there is one, and hands the counts to it.
Status CountChain(engine::Connection& conn, const access::SqlGuard& guard,
                  const access::RelationResolver& resolver, ChainCounter& counter);

/// Estimated bytes of `rows` rows of the port's columns (their declared types' widths;
/// strings and blobs at 16 bytes, DuckDB's inline string size).
int64_t EstimatedBytes(const catalog::OutputPortRecord& port, int64_t rows);

}  // namespace plexus::pipeline
