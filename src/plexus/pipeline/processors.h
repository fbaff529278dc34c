// File: plexus/pipeline/processors.h
//
// An output's chain of processor steps (docs/mesh-format.md, "Processors")
// compiled to ONE DuckDB SELECT over the pipeline's input names. Each built-in
// step wraps the relation so far, which it names `input`:
//
//   filter  SELECT * FROM (prev) AS input WHERE (expr)
//   project SELECT a, b * 2 AS c FROM (prev) AS input
//   rename  SELECT * RENAME ("id" AS "order_id") FROM (prev) AS input
//   cast    SELECT * REPLACE (CAST("d" AS DATE) AS "d") FROM (prev) AS input
//   dedupe  SELECT * FROM (prev) AS input
//           QUALIFY row_number() OVER (PARTITION BY key ORDER BY latest DESC
//           NULLS LAST) = 1
//   mask    SELECT * REPLACE (<access::MaskExpression> AS "c") FROM (prev) AS
//   input hash    the mask `hash`: sha256 of the catalog's salt and the value,
//   as consumers see it union   SELECT * FROM (prev) AS input UNION ALL BY NAME
//   SELECT * FROM "other" ... lookup  SELECT input.*, lookup."x" FROM (prev) AS
//   input
//           LEFT JOIN "other" AS lookup ON input."k" = lookup."k"
//   sql     WITH input AS (prev) SELECT * FROM (<the step's SELECT>) AS input
//
// The SQL reads nothing but the pipeline's inputs: the caller passes it through
// SqlGuard::Check with the pipeline's InputSet, exactly like an output's own
// `sql`.
//
// Batch pipelines (runner.cc):
//
//   GuardedProbe probe(conn, guard, inputs);      // DESCRIBEs each step's
//   relation ChainContext context{salt, inputs.names(), &probe};
//   PLEXUS_ASSIGN_OR_RETURN(auto steps, ExpandChain(output.steps, domain_procs,
//   mesh_procs)); PLEXUS_ASSIGN_OR_RETURN(std::string start, ChainStart(output,
//   inputs.names())); PLEXUS_ASSIGN_OR_RETURN(std::string sql,
//   CompileChain(start, steps, context)); PLEXUS_ASSIGN_OR_RETURN(auto guarded,
//   guard.Check(sql, inputs));
//
// CDC micro-batches (for the change applier): only row-wise steps
// (spec::IsRowWiseStep: filter, project, rename, cast, mask, hash, lookup) make
// sense on change events, which are applied row by row. Compile them once per
// batch over the batch's relation:
//
//   // `relation_sql` is a SELECT over a name your resolver knows (e.g. the
//   batch's temp
//   // table, `SELECT * FROM batch`); the probe's resolver must resolve that
//   name and the
//   // pipeline's inputs (a lookup reads another input).
//   PLEXUS_ASSIGN_OR_RETURN(std::string sql, CompileRowSteps(relation_sql,
//   steps, context)); PLEXUS_ASSIGN_OR_RETURN(auto guarded, guard.Check(sql,
//   resolver));
//
// The CDC applier does this in cdc_row_steps.h: each change row (an image with
// its op and position) goes through the steps; a filter that drops an image
// turns it into a delete of its key, and the key is read after the steps (a
// renamed or hashed key still deletes the right row). A lookup joins its input one
// row per key and dead-letters a change that meets a repeated key (a batch
// pipeline's lookup instead checks the key is unique when it is compiled, and
// fails the run).
//
// Errors name the step: "step 3 (rename at .../pipeline.yaml:14): column id
// does not exist (columns: a, b)". With a probe, each step's relation is bound
// once (LIMIT 0), so a column that does not exist or a type DuckDB does not
// know fails at its own step; a value that does not convert (a CAST of 'abc' to
// INTEGER) fails when the whole SELECT runs.
//
// Thread safety: free functions; a GuardedProbe uses its connection (one thread
// at a time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

/// One column of a relation: its name and its DuckDB type.
struct RelationColumn {
  std::string name;
  std::string type; ///< e.g. VARCHAR, DECIMAL(12,2)
};

/// What the compiler asks of the relations it builds. Every SELECT it passes
/// reads only the pipeline's input names (and the `input` alias it makes
/// itself).
class RelationProbe {
public:
  virtual ~RelationProbe() = default;
  /// The columns of `select`; an error when it does not bind (a column or type
  /// unknown).
  virtual Result<std::vector<RelationColumn>>
  Columns(const std::string &select) const = 0;
  /// The value of `select`, one row of one integer column.
  virtual Result<int64_t> Count(const std::string &select) const = 0;
};

/// A probe that runs each SELECT through `guard` with `resolver` on `conn`
/// (errors of DuckDB pass through access::ConsumerErrorMessage: an upstream
/// port's secured SELECT holds the hash salt). All three must outlive the
/// probe.
class GuardedProbe final : public RelationProbe {
public:
  GuardedProbe(engine::Connection &conn, const access::SqlGuard &guard,
               const access::RelationResolver &resolver)
      : conn_(conn), guard_(guard), resolver_(resolver) {}
  Result<std::vector<RelationColumn>>
  Columns(const std::string &select) const override;
  Result<int64_t> Count(const std::string &select) const override;

private:
  engine::Connection &conn_;
  const access::SqlGuard &guard_;
  const access::RelationResolver &resolver_;
};

/// What compiling a chain needs.
struct ChainContext {
  std::string salt; ///< the hash mask's salt (Catalog::MaskSalt)
  std::vector<std::string>
      inputs; ///< the pipeline's input names: what union and lookup name
  /// nullptr: columns and types are unknown (column lineage traces the SQL,
  /// never runs it); arguments are then checked for shape only, a mask becomes
  /// the bare column, and a lookup without `columns` brings `lookup.* EXCLUDE
  /// (keys)`.
  const RelationProbe *probe = nullptr;
};

/// A built-in step of a chain, and the `use` it was expanded from (for error
/// messages).
struct ChainStep {
  spec::ProcessorStep step;
  std::string via; ///< e.g. "use of clean_emails at pipeline.yaml:14"; empty
                   ///< when written so
  int written = -1; ///< ExpandChain: the index of the written step it comes from
                    ///< (run metrics count per written step)
};

/// The output's steps with every `use` replaced by the named processor's steps
/// (spec::ExpandSteps: the domain's processors first, then the mesh's).
Result<std::vector<ChainStep>>
ExpandChain(const std::vector<spec::ProcessorStep> &steps,
            const std::vector<spec::ProcessorDefinition> &domain_processors,
            const std::vector<spec::ProcessorDefinition> &mesh_processors);

/// The relation an output's chain starts from: its `sql`, else `SELECT * FROM
/// <from>`, else the only input. kInvalidArgument when `from` is not an input,
/// or there is no `sql`, no `from` and not exactly one input.
Result<std::string> ChainStart(const spec::PipelineOutput &output,
                               const std::vector<std::string> &inputs);

/// One SELECT: `start` (a SELECT over the inputs) and each step in turn. No
/// steps: `start` unchanged. kInvalidArgument naming the step when an argument
/// is wrong; a `use` step left unexpanded is refused.
Result<std::string> CompileChain(const std::string &start,
                                 const std::vector<ChainStep> &steps,
                                 const ChainContext &context);
Result<std::string> CompileChain(const std::string &start,
                                 const std::vector<spec::ProcessorStep> &steps,
                                 const ChainContext &context);
/// As CompileChain, also giving the SELECT after each step (`prefixes`[i]: the relation
/// step i makes; the last is the result), for run metrics (run_metrics.h).
Result<std::string> CompileChain(const std::string &start,
                                 const std::vector<ChainStep> &steps,
                                 const ChainContext &context,
                                 std::vector<std::string> *prefixes);

/// As CompileChain, for the row-wise steps only (spec::IsRowWiseStep); sql,
/// dedupe and union are refused, naming the step (they need the whole relation,
/// not one change at a time).
Result<std::string>
CompileRowSteps(const std::string &relation_sql,
                const std::vector<spec::ProcessorStep> &steps,
                const ChainContext &context);

} // namespace plexus::pipeline
