// File: plexus/spec/validate_internal.h
//
// Private to the spec module: the parts of ValidateMesh that live outside validate.cc.
#pragma once

#include <vector>

#include "plexus/spec/parse.h"

namespace plexus::spec::internal {

/// The processor definitions of mesh.yaml and every domain.yaml (validate_steps.cc): argument
/// shapes (a whole `${param}` stands for any shape), `${name}` naming a parameter, nested
/// uses, cycles, and no domain processor named like a mesh one.
void CheckProcessorDefinitions(const Mesh& mesh, std::vector<Diagnostic>* problems);

/// The streaming parts of one product's pipeline (validate_steps.cc): each output's `from` and
/// steps (shapes, the inputs union and lookup name, `use` of a known processor with known and
/// complete parameters), outputs built from a CDC input (row-wise steps only, a primary key in
/// the port's contract), `schedule.continuous` (a CDC input) and `schedule.cron`.
void CheckPipelineSteps(const Mesh& mesh, const Domain& domain, const ProductBundle& bundle,
                        const Pipeline& pipeline, std::vector<Diagnostic>* problems);

}  // namespace plexus::spec::internal
