// File: plexus/pipeline/processors.cc
//
// The chain compiler (processors.h): the start relation, `use` expansion, and
// the steps in turn, each described by the probe so the next one (and its
// error) knows the columns.
#include "plexus/pipeline/processors.h"

#include "plexus/common/text.h"
#include "plexus/pipeline/processors_internal.h"
#include "plexus/spec/processors.h"

namespace plexus::pipeline {
namespace {

std::string Position(const spec::SourceLocation &at) {
  if (at.line <= 0)
    return at.file;
  return (at.file.empty() ? "line " : at.file + ":") + std::to_string(at.line);
}

/// "step 2 (rename at pipeline.yaml:14)", with the use it came from when
/// expanded.
std::string StepName(const ChainStep &chain_step, size_t index) {
  std::string at = Position(chain_step.step.location);
  std::string out =
      "step " + std::to_string(index + 1) + " (" + chain_step.step.kind;
  if (!at.empty())
    out += " at " + at;
  if (!chain_step.via.empty())
    out += ", from the " + chain_step.via;
  return out + ")";
}

/// A probe's error, named as the step's: DuckDB's binder errors keep their
/// first line only.
Status AtStep(const Status &status, const std::string &step) {
  return Status(status.code() == StatusCode::kPermissionDenied
                    ? status.code()
                    : StatusCode::kInvalidArgument,
                step + ": " + status.message());
}

Result<std::string> Compile(const std::string &start,
                            const std::vector<ChainStep> &steps,
                            const ChainContext &context, bool row_wise,
                            std::vector<std::string> *prefixes = nullptr) {
  if (steps.empty())
    return start;
  internal::StepRelation relation;
  relation.sql = start;
  if (context.probe != nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(relation.columns, context.probe->Columns(start));
    relation.known = true;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const spec::ProcessorStep &step = steps[i].step;
    std::string name = StepName(steps[i], i);
    if (row_wise && !spec::IsRowWiseStep(step.kind)) {
      return InvalidArgument(
          name + ": a " + step.kind +
          " step reads the whole relation; a change stream's output may use "
          "only filter, project, rename, cast, mask, hash and lookup");
    }
    auto sql = internal::CompileStep(step, relation, context);
    if (!sql.ok())
      return AtStep(sql.status(), name);
    relation.sql = std::move(sql).value();
    if (prefixes != nullptr)
      prefixes->push_back(relation.sql);
    if (context.probe != nullptr) {
      auto columns = context.probe->Columns(relation.sql);
      if (!columns.ok())
        return AtStep(columns.status(), name);
      relation.columns = std::move(columns).value();
    }
  }
  return relation.sql;
}

std::vector<ChainStep>
AsWritten(const std::vector<spec::ProcessorStep> &steps) {
  std::vector<ChainStep> out;
  for (const auto &step : steps)
    out.push_back(ChainStep{step, ""});
  return out;
}

} // namespace

Result<std::vector<RelationColumn>>
GuardedProbe::Columns(const std::string &select) const {
  PLEXUS_ASSIGN_OR_RETURN(
      access::GuardedQuery guarded,
      guard_.Check("SELECT * FROM (\n" + select + "\n) AS input LIMIT 0",
                   resolver_));
  auto result = conn_.Query(guarded.sql);
  if (!result.ok()) {
    return InvalidArgument(
        access::ConsumerErrorMessage(result.status().message()));
  }
  std::vector<RelationColumn> columns;
  for (const auto &c : (*result)->columns())
    columns.push_back(RelationColumn{c.name, c.type_name});
  return columns;
}

Result<int64_t> GuardedProbe::Count(const std::string &select) const {
  PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery guarded,
                          guard_.Check(select, resolver_));
  auto result = conn_.Query(guarded.sql);
  if (!result.ok()) {
    return InvalidArgument(
        access::ConsumerErrorMessage(result.status().message()));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, (*result)->Fetch());
  if (!chunk || chunk->size() == 0 || chunk->column_count() == 0) {
    return Internal("the count returned no row");
  }
  return chunk->GetInt64(0, 0);
}

Result<std::vector<ChainStep>>
ExpandChain(const std::vector<spec::ProcessorStep> &steps,
            const std::vector<spec::ProcessorDefinition> &domain_processors,
            const std::vector<spec::ProcessorDefinition> &mesh_processors) {
  std::vector<ChainStep> out;
  for (size_t i = 0; i < steps.size(); ++i) {
    const spec::ProcessorStep &step = steps[i];
    if (step.kind != "use") {
      out.push_back(ChainStep{step, "", static_cast<int>(i)});
      continue;
    }
    PLEXUS_ASSIGN_OR_RETURN(
        auto expanded,
        spec::ExpandSteps({step}, domain_processors, mesh_processors));
    std::string at = Position(step.location);
    std::string via =
        "use of " + step.value.text + (at.empty() ? "" : " at " + at);
    for (auto &s : expanded)
      out.push_back(ChainStep{std::move(s), via, static_cast<int>(i)});
  }
  return out;
}

Result<std::string> ChainStart(const spec::PipelineOutput &output,
                               const std::vector<std::string> &inputs) {
  if (!output.sql.empty()) {
    if (!output.from.empty())
      return InvalidArgument("an output has sql or from, not both");
    return output.sql;
  }
  if (!output.from.empty()) {
    for (const auto &input : inputs) {
      if (AsciiLower(input) == AsciiLower(output.from)) {
        return "SELECT * FROM " + engine::QuoteIdentifier(input);
      }
    }
    std::string known;
    for (const auto &n : inputs)
      known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument(
        "from: " + output.from +
        " is not an input of the pipeline (inputs: " + known + ")");
  }
  if (inputs.size() != 1) {
    return InvalidArgument("output " + output.port +
                           " has no sql and the pipeline has " +
                           std::to_string(inputs.size()) + " inputs");
  }
  return "SELECT * FROM " + engine::QuoteIdentifier(inputs.front());
}

Result<std::string> CompileChain(const std::string &start,
                                 const std::vector<ChainStep> &steps,
                                 const ChainContext &context) {
  return Compile(start, steps, context, false);
}

Result<std::string> CompileChain(const std::string &start,
                                 const std::vector<ChainStep> &steps,
                                 const ChainContext &context,
                                 std::vector<std::string> *prefixes) {
  return Compile(start, steps, context, false, prefixes);
}

Result<std::string> CompileChain(const std::string &start,
                                 const std::vector<spec::ProcessorStep> &steps,
                                 const ChainContext &context) {
  return Compile(start, AsWritten(steps), context, false);
}

Result<std::string>
CompileRowSteps(const std::string &relation_sql,
                const std::vector<spec::ProcessorStep> &steps,
                const ChainContext &context) {
  return Compile(relation_sql, AsWritten(steps), context, true);
}

} // namespace plexus::pipeline
