// File: plexus/pipeline/processors_internal.h
//
// Private to the pipeline module: the SQL of one built-in step
// (processor_steps.cc), used by the chain compiler (processors.cc).
#pragma once

#include <string>
#include <vector>

#include "plexus/pipeline/processors.h"

namespace plexus::pipeline::internal {

/// The relation a step wraps: its SELECT and, when the context has a probe, its
/// columns.
struct StepRelation {
  std::string sql;
  bool known =
      false; ///< columns below are the relation's (a probe described it)
  std::vector<RelationColumn> columns;
  /// CDC change rows (cdc_row_steps.cc), when `change_op` is set (the op column's name):
  /// a filter keeps every row and turns the ones it drops into deletes of their key (so an
  /// update whose new image is filtered out removes the old row); a cast is a TRY_CAST whose
  /// failure on a non-delete row sets `change_reason` (the reason column) to a type mismatch;
  /// a project keeps the `carry` columns (the change's index, op, position...) in front.
  std::string change_op;
  std::string change_reason;
  std::vector<std::string> carry;
};

/// The SELECT of one built-in step over `prev` (see processors.h for each
/// kind's shape). kInvalidArgument, without the step's name (the caller adds
/// it), for a bad argument.
Result<std::string> CompileStep(const spec::ProcessorStep &step,
                                const StepRelation &prev,
                                const ChainContext &context);

} // namespace plexus::pipeline::internal
