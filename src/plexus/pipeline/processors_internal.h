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
};

/// The SELECT of one built-in step over `prev` (see processors.h for each
/// kind's shape). kInvalidArgument, without the step's name (the caller adds
/// it), for a bad argument.
Result<std::string> CompileStep(const spec::ProcessorStep &step,
                                const StepRelation &prev,
                                const ChainContext &context);

} // namespace plexus::pipeline::internal
