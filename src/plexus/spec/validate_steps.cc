// File: plexus/spec/validate_steps.cc
//
// ValidateMesh's checks of processors and of the streaming parts of pipelines
// (validate_internal.h): every problem names the file, line and field it is about.
#include <algorithm>
#include <map>
#include <set>

#include "plexus/spec/cron.h"
#include "plexus/spec/processors.h"
#include "plexus/spec/validate_internal.h"

namespace plexus::spec::internal {
namespace {

std::string Indexed(const std::string& list, size_t index) {
  return list + "[" + std::to_string(index) + "]";
}

std::string Where(const SourceLocation& at) {
  std::string out = at.file;
  if (at.line > 0) out += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  return out;
}

/// Calls `visit(text, location)` for every text of a value: scalars and map keys.
template <typename Visit>
void EachText(const StepValue& value, const Visit& visit) {
  if (value.kind == StepValue::Kind::kText) visit(value.text, value.location);
  for (const StepValue& item : value.items) EachText(item, visit);
  for (const auto& [key, field] : value.fields) {
    visit(key, field.location);
    EachText(field, visit);
  }
}

class StepValidator {
 public:
  StepValidator(const Mesh& mesh, std::vector<Diagnostic>* problems)
      : mesh_(mesh), problems_(problems) {}

  /// Where problems go from now on.
  void set_problems(std::vector<Diagnostic>* problems) { problems_ = problems; }
  void CheckDefinitions();
  void CheckPipeline(const Domain& domain, const ProductBundle& bundle, const Pipeline& pipeline);

 private:
  void Add(const SourceLocation& at, std::string field, std::string message) {
    problems_->push_back(Diagnostic{at, std::move(field), std::move(message)});
  }
  /// The processor `name` as a step of `domain` (null: of the mesh) sees it.
  const ProcessorDefinition* Find(const Domain* domain, const std::string& name) const {
    if (domain != nullptr) {
      for (const auto& d : domain->processors) {
        if (d.name == name) return &d;
      }
    }
    for (const auto& d : mesh_.processors) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }
  const Domain* ScopeOf(const ProcessorDefinition& d) const {
    for (const Domain& domain : mesh_.domains) {
      if (d.scope == domain.name) return &domain;
    }
    return nullptr;
  }
  /// Checks a `use` step; the processor when it is known and the parameters fit.
  const ProcessorDefinition* CheckUse(const ProcessorStep& use, const std::string& field,
                                      const Domain* domain);
  void CheckDefinition(const ProcessorDefinition& d, const std::string& field);
  void CheckCycle(const ProcessorDefinition& d, const std::string& field);
  void CheckOutput(const Domain& domain, const ProductBundle& bundle, const Pipeline& pipeline,
                   size_t index);
  /// The inputs `union` and `lookup` name, and row-wise steps only after a CDC input.
  void CheckStepUse(const ProcessorStep& step, const Pipeline& pipeline, const std::string& cdc,
                    const SourceLocation& at, const std::string& field, const std::string& via);
  void CheckPrimaryKey(const ProductBundle& bundle, const PipelineOutput& output,
                       const std::string& field);

  const Mesh& mesh_;
  std::vector<Diagnostic>* problems_;
  std::set<const ProcessorDefinition*> bad_;  ///< definitions with a problem of their own
  std::set<const ProcessorDefinition*> in_reported_cycle_;
};

const ProcessorDefinition* StepValidator::CheckUse(const ProcessorStep& use,
                                                   const std::string& field,
                                                   const Domain* domain) {
  const std::string& name = use.value.text;
  const ProcessorDefinition* d = Find(domain, name);
  if (d == nullptr) {
    Add(use.value.location, field + ".use",
        "no processor named '" + name + "' " +
            (domain != nullptr ? "in domain.yaml of '" + domain->name + "' or in mesh.yaml"
                               : "in mesh.yaml (a mesh processor uses mesh processors only)"));
    return nullptr;
  }
  size_t before = problems_->size();
  std::set<std::string> given;
  for (const auto& [key, value] : use.with) {
    given.insert(key);
    bool known = std::any_of(d->parameters.begin(), d->parameters.end(),
                             [&](const ProcessorParameter& p) { return p.name == key; });
    if (!known) {
      std::string names;
      for (const ProcessorParameter& p : d->parameters) names += (names.empty() ? "" : ", ") + p.name;
      Add(value.location, field + ".with." + key,
          "processor '" + name + "' has no parameter '" + key + "'" +
              (names.empty() ? " (it takes none)" : " (its parameters: " + names + ")"));
    }
  }
  for (const ProcessorParameter& p : d->parameters) {
    if (!p.default_value && given.count(p.name) == 0) {
      Add(use.location, field + ".with." + p.name,
          "processor '" + name + "' needs parameter '" + p.name + "' (it has no default)");
    }
  }
  return problems_->size() == before ? d : nullptr;
}

void StepValidator::CheckDefinition(const ProcessorDefinition& d, const std::string& field) {
  size_t before = problems_->size();
  std::set<std::string> parameters;
  for (const ProcessorParameter& p : d.parameters) {
    if (!IsProcessorName(p.name)) {
      Add(p.location, field + ".parameters." + p.name,
          "'" + p.name + "' is not a valid parameter name ([a-z][a-z0-9_]*)");
    }
    parameters.insert(p.name);
  }
  if (d.steps.empty()) Add(d.location, field + ".steps", "a processor needs at least one step");
  const Domain* domain = ScopeOf(d);
  for (size_t i = 0; i < d.steps.size(); ++i) {
    const ProcessorStep& step = d.steps[i];
    std::string step_field = Indexed(field + ".steps", i);
    if (step.kind == "use") {
      CheckUse(step, step_field, domain);
    } else {
      for (Diagnostic& problem : CheckStepArgument(step, step_field, true)) {
        problems_->push_back(std::move(problem));
      }
    }
    auto check_text = [&](const std::string& text, const SourceLocation& at) {
      for (const std::string& name : PlaceholdersOf(text)) {
        if (parameters.count(name) > 0) continue;
        Add(at, step_field, "${" + name + "} names no parameter of processor '" + d.name + "'");
      }
    };
    EachText(step.value, check_text);
    for (const auto& [key, value] : step.with) EachText(value, check_text);
  }
  CheckCycle(d, field);
  if (problems_->size() > before) bad_.insert(&d);
}

void StepValidator::CheckCycle(const ProcessorDefinition& d, const std::string& field) {
  // Depth-first through the processors `d` uses, looking for `d` again.
  std::vector<const ProcessorDefinition*> path = {&d};
  std::set<const ProcessorDefinition*> seen;
  std::vector<std::pair<const ProcessorDefinition*, size_t>> stack = {{&d, 0}};
  while (!stack.empty()) {
    auto& [at, next] = stack.back();
    if (next == at->steps.size()) {
      stack.pop_back();
      path.pop_back();
      continue;
    }
    const ProcessorStep& step = at->steps[next++];
    if (step.kind != "use") continue;
    const ProcessorDefinition* used = Find(at->scope == "mesh" ? nullptr : ScopeOf(*at),
                                           step.value.text);
    if (used == &d) {
      bool reported = std::any_of(path.begin(), path.end(), [&](const ProcessorDefinition* p) {
        return in_reported_cycle_.count(p) > 0;
      });
      if (!reported) {
        std::string cycle;
        for (const ProcessorDefinition* p : path) cycle += p->name + " -> ";
        Add(d.location, field, "processors use each other in a cycle (" + cycle + d.name + ")");
        in_reported_cycle_.insert(path.begin(), path.end());
      }
      bad_.insert(&d);
      return;
    }
    if (used == nullptr || !seen.insert(used).second) continue;
    path.push_back(used);
    stack.emplace_back(used, 0);
  }
}

void StepValidator::CheckDefinitions() {
  std::map<std::string, const ProcessorDefinition*> mesh_names;
  for (const ProcessorDefinition& d : mesh_.processors) {
    if (!mesh_names.emplace(d.name, &d).second) {
      Add(d.location, "processors." + d.name, "processor '" + d.name + "' is defined twice");
    }
    CheckDefinition(d, "processors." + d.name);
  }
  for (const Domain& domain : mesh_.domains) {
    std::set<std::string> names;
    for (const ProcessorDefinition& d : domain.processors) {
      std::string field = "processors." + d.name;
      if (domain.name == "mesh") {
        Add(d.location, field,
            "a domain named 'mesh' may not define processors: 'mesh' is the mesh's own scope");
      }
      if (!names.insert(d.name).second) {
        Add(d.location, field, "processor '" + d.name + "' is defined twice");
      }
      if (auto mesh_one = mesh_names.find(d.name); mesh_one != mesh_names.end()) {
        Add(d.location, field,
            "mesh.yaml already defines a processor '" + d.name + "' (" +
                Where(mesh_one->second->location) + "); a domain processor takes another name");
      }
      CheckDefinition(d, field);
    }
  }
}

void StepValidator::CheckStepUse(const ProcessorStep& step, const Pipeline& pipeline,
                                 const std::string& cdc, const SourceLocation& at,
                                 const std::string& field, const std::string& via) {
  auto is_input = [&](const std::string& name) {
    return std::any_of(pipeline.inputs.begin(), pipeline.inputs.end(),
                       [&](const PipelineInput& input) { return input.name == name; });
  };
  auto check_input = [&](const StepValue& value, const std::string& value_field) {
    if (value.kind != StepValue::Kind::kText || is_input(value.text)) return;
    Add(via.empty() ? value.location : at, via.empty() ? value_field : field,
        via + step.kind + " names '" + value.text + "', which is not an input of this pipeline");
  };
  if (step.kind == "union" && step.value.kind == StepValue::Kind::kList) {
    for (size_t i = 0; i < step.value.items.size(); ++i) {
      check_input(step.value.items[i], Indexed(field + ".union", i));
    }
  }
  if (step.kind == "lookup") {
    if (const StepValue* input = step.value.Field("input")) {
      check_input(*input, field + ".lookup.input");
      // A lookup joins a table's current rows: a change stream has none to join.
      auto named = std::find_if(pipeline.inputs.begin(), pipeline.inputs.end(),
                                [&](const PipelineInput& in) { return in.name == input->text; });
      if (input->kind == StepValue::Kind::kText && named != pipeline.inputs.end() &&
          named->cdc) {
        Add(via.empty() ? input->location : at, via.empty() ? field + ".lookup.input" : field,
            via + "lookup names '" + input->text +
                "', a CDC input: a lookup reads a file input or an input port");
      }
    }
  }
  if (!cdc.empty() && !IsRowWiseStep(step.kind)) {
    Add(at, field,
        via + "'" + step.kind + "' is not a row-wise step: an output built from the CDC input '" +
            cdc + "' may use only filter, project, rename, cast, mask, hash and lookup");
  }
}

void StepValidator::CheckPrimaryKey(const ProductBundle& bundle, const PipelineOutput& output,
                                    const std::string& field) {
  for (const OutputPort& port : bundle.product.output_ports) {
    if (port.name != output.port) continue;
    auto contract = bundle.contracts.find(port.contract_id);
    if (contract == bundle.contracts.end()) return;  // reported by the port checks
    const auto& schema = contract->second.schema;
    const SchemaObject* table = nullptr;
    for (const SchemaObject& object : schema) {
      if (object.name == port.name) table = &object;
    }
    if (table == nullptr && schema.size() == 1) table = &schema[0];
    if (table == nullptr) return;  // reported by the port checks
    bool keyed = std::any_of(table->properties.begin(), table->properties.end(),
                             [](const Property& p) { return p.primary_key; });
    if (!keyed) {
      Add(output.location, field,
          "output port '" + port.name + "' is built from a CDC input, so its contract '" +
              port.contract_id +
              "' needs a primary key to merge changes by (primaryKey: true on its key columns)");
    }
    return;
  }
}

void StepValidator::CheckOutput(const Domain& domain, const ProductBundle& bundle,
                                const Pipeline& pipeline, size_t index) {
  const PipelineOutput& output = pipeline.outputs[index];
  std::string path = Indexed("outputs", index);
  const PipelineInput* start = nullptr;
  for (const PipelineInput& input : pipeline.inputs) {
    if (input.name == output.from) start = &input;
  }
  if (!output.from.empty() && start == nullptr) {
    std::string names;
    for (const PipelineInput& input : pipeline.inputs) names += (names.empty() ? "" : ", ") + input.name;
    Add(output.location, path + ".from",
        "no input named '" + output.from + "' (the inputs: " + names + ")");
  }
  if (output.from.empty() && output.sql.empty() && pipeline.inputs.size() == 1) {
    start = &pipeline.inputs[0];
  }
  std::string cdc = start != nullptr && start->cdc ? start->name : std::string();
  if (!cdc.empty()) CheckPrimaryKey(bundle, output, path + (output.from.empty() ? "" : ".from"));
  for (size_t j = 0; j < output.steps.size(); ++j) {
    const ProcessorStep& step = output.steps[j];
    std::string field = Indexed(path + ".steps", j);
    if (step.kind != "use") {
      for (Diagnostic& problem : CheckStepArgument(step, field, false)) {
        problems_->push_back(std::move(problem));
      }
      CheckStepUse(step, pipeline, cdc, step.location, field, "");
      continue;
    }
    const ProcessorDefinition* d = CheckUse(step, field, &domain);
    if (d == nullptr || bad_.count(d) > 0) continue;
    Result<std::vector<ProcessorStep>> expanded =
        ExpandSteps({step}, domain.processors, mesh_.processors);
    if (!expanded.ok()) {
      std::string message = expanded.status().message();
      std::string prefix = Where(step.location) + ": ";
      if (message.starts_with(prefix)) message.erase(0, prefix.size());
      Add(step.location, field + ".use", message);
      continue;
    }
    std::string via = "processor '" + d->name + "': ";
    for (const ProcessorStep& inner : *expanded) {
      std::string inner_via = via + "its step at " + Where(inner.location) + ": ";
      for (const Diagnostic& problem : CheckStepArgument(inner, "", false)) {
        std::string inner_field = problem.field.starts_with(".") ? problem.field.substr(1)
                                                                 : problem.field;
        Add(step.location, field + ".use", inner_via + inner_field + ": " + problem.message);
      }
      CheckStepUse(inner, pipeline, cdc, step.location, field + ".use", via);
    }
  }
}

void StepValidator::CheckPipeline(const Domain& domain, const ProductBundle& bundle,
                                  const Pipeline& pipeline) {
  for (size_t i = 0; i < pipeline.outputs.size(); ++i) CheckOutput(domain, bundle, pipeline, i);
  const Schedule& schedule = pipeline.schedule;
  bool has_cdc = std::any_of(pipeline.inputs.begin(), pipeline.inputs.end(),
                             [](const PipelineInput& input) { return input.cdc.has_value(); });
  if (schedule.continuous && !has_cdc) {
    Add(schedule.location, "schedule.continuous",
        "continuous mode needs a CDC input (inputs[].cdc); schedule the pipeline with every, "
        "cron or onUpstream instead");
  }
  if (!schedule.cron.empty()) {
    if (Result<CronSchedule> cron = ParseCron(schedule.cron); !cron.ok()) {
      Add(schedule.location, "schedule.cron", cron.status().message());
    }
  }
}

}  // namespace

void CheckProcessorDefinitions(const Mesh& mesh, std::vector<Diagnostic>* problems) {
  StepValidator(mesh, problems).CheckDefinitions();
}

void CheckPipelineSteps(const Mesh& mesh, const Domain& domain, const ProductBundle& bundle,
                        const Pipeline& pipeline, std::vector<Diagnostic>* problems) {
  // The definitions' own problems are reported once, by CheckProcessorDefinitions; here they
  // only tell which processors not to expand.
  std::vector<Diagnostic> definition_problems;
  StepValidator validator(mesh, &definition_problems);
  validator.CheckDefinitions();
  validator.set_problems(problems);
  validator.CheckPipeline(domain, bundle, pipeline);
}

}  // namespace plexus::spec::internal
