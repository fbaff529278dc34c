// File: plexus/spec/processors.h
//
// Processor steps (docs/mesh-format.md, "Processors"): the built-in step kinds, the shape each
// one's argument must have, and the expansion of `use` steps into the named processor's steps
// with its parameters substituted.
//
//   // the chain of an output, as the pipeline runner executes it
//   PLEXUS_ASSIGN_OR_RETURN(std::vector<ProcessorStep> steps,
//                           ExpandSteps(output.steps, domain_processors, mesh_processors));
//   // every step is now a built-in (kind sql, filter, project, ...), never `use`
//
// Thread safety: free functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"
#include "plexus/spec/parse.h"

namespace plexus::spec {

/// sql, filter, project, rename, cast, dedupe, mask, hash, union, lookup (not `use`).
const std::vector<std::string_view>& BuiltinStepKinds();

/// True for the steps that map each row to at most one row without looking at other rows
/// (filter, project, rename, cast, mask, hash, lookup): the only ones an output built from a
/// CDC input may use, since change events are applied row by row.
bool IsRowWiseStep(std::string_view kind);

/// True when `name` is a processor or parameter name: [a-z][a-z0-9_]*, at most 63.
bool IsProcessorName(const std::string& name);

/// The problems with a built-in step's argument: sql and filter a non-empty text; project and
/// hash a list of texts; rename and cast a map of texts; dedupe a map with `key` and optional
/// `latest` (each a text or a list of texts); mask a map of column -> mask kind (redact, hash,
/// partial(N), null, year, sql(EXPR)); union a list of input names; lookup a map with `input`,
/// `on` (a text or a list) and optional `columns` (a list). Each problem's field is `field`
/// (the step, e.g. `outputs[0].steps[2]`) plus `.<kind>` and the path inside the argument.
/// With `placeholders`, a text that is exactly `${param}` stands for any shape (a processor
/// definition, before its parameters are known). An unknown kind is reported too.
std::vector<Diagnostic> CheckStepArgument(const ProcessorStep& step, const std::string& field,
                                          bool placeholders);

/// The names `${name}` used in `text`, in order (repeats kept).
std::vector<std::string> PlaceholdersOf(std::string_view text);

/// Replaces every `use` step by the steps of the processor it names, looked up in
/// `domain_processors` first, then `mesh_processors` (a mesh processor's own nested uses see
/// mesh processors only). In every text of those steps (values and map keys) `${param}` becomes
/// the use's `with` value, else the parameter's default; a text that is exactly `${param}`
/// takes the value whatever its shape (a list, a map). Nested uses expand recursively.
/// kInvalidArgument naming the use's `file:line:column` when the processor is unknown, a
/// parameter without default is not set, a `with` names no parameter, a `${name}` names no
/// parameter, a list or map is spliced into a longer text, or processors use each other in a
/// cycle. Built-in steps pass through unchanged.
Result<std::vector<ProcessorStep>> ExpandSteps(
    const std::vector<ProcessorStep>& steps,
    const std::vector<ProcessorDefinition>& domain_processors,
    const std::vector<ProcessorDefinition>& mesh_processors);

}  // namespace plexus::spec
