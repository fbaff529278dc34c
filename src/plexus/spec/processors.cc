// File: plexus/spec/processors.cc
//
// Built-in step kinds, their argument shapes, and ExpandSteps (processors.h).
#include "plexus/spec/processors.h"

#include <algorithm>
#include <map>

#include "plexus/common/text.h"

namespace plexus::spec {
namespace {

using Kind = StepValue::Kind;

/// Collects the problems of one step's argument.
class ShapeChecker {
 public:
  ShapeChecker(bool placeholders, std::vector<Diagnostic>* out)
      : placeholders_(placeholders), out_(out) {}

  void Check(const ProcessorStep& step, const std::string& field);

 private:
  void Add(const StepValue& at, const std::string& field, std::string message) {
    out_->push_back(Diagnostic{at.location, field, std::move(message)});
  }
  /// A text that is exactly `${name}`, when placeholders stand for any shape.
  bool Wildcard(const StepValue& v) const {
    if (!placeholders_ || v.kind != Kind::kText) return false;
    std::vector<std::string> names = PlaceholdersOf(v.text);
    return names.size() == 1 && v.text == "${" + names[0] + "}";
  }
  static std::string KindOf(const StepValue& v) {
    return v.kind == Kind::kList ? "a list" : v.kind == Kind::kMap ? "a map" : "text";
  }
  bool Text(const StepValue& v, const std::string& field) {
    if (Wildcard(v)) return true;
    if (v.kind != Kind::kText) {
      Add(v, field, "expected text, found " + KindOf(v));
      return false;
    }
    if (v.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      Add(v, field, "must not be empty");
      return false;
    }
    return true;
  }
  void TextList(const StepValue& v, const std::string& field, const std::string& what) {
    if (Wildcard(v)) return;
    if (v.kind != Kind::kList) {
      Add(v, field, "expected a list of " + what + ", found " + KindOf(v));
      return;
    }
    if (v.items.empty()) Add(v, field, "expected at least one " + what);
    for (size_t i = 0; i < v.items.size(); ++i) {
      Text(v.items[i], field + "[" + std::to_string(i) + "]");
    }
  }
  void TextOrList(const StepValue& v, const std::string& field, const std::string& what) {
    if (v.kind == Kind::kText) {
      Text(v, field);
    } else {
      TextList(v, field, what);
    }
  }
  void TextMap(const StepValue& v, const std::string& field, const std::string& what) {
    if (Wildcard(v)) return;
    if (v.kind != Kind::kMap) {
      Add(v, field, "expected a map of column: " + what + ", found " + KindOf(v));
      return;
    }
    if (v.fields.empty()) Add(v, field, "expected at least one column");
    for (const auto& [key, value] : v.fields) Text(value, field + "." + key);
  }
  /// A map with known keys; false (reported) when it is not a map.
  bool Object(const StepValue& v, const std::string& field,
              const std::vector<std::string_view>& allowed,
              const std::vector<std::string_view>& required) {
    if (v.kind != Kind::kMap) {
      Add(v, field, "expected a map with " + Join(allowed) + ", found " + KindOf(v));
      return false;
    }
    for (const auto& [key, value] : v.fields) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Add(value, field + "." + key, "unknown field (expected one of: " + Join(allowed) + ")");
      }
    }
    for (std::string_view key : required) {
      if (v.Field(std::string(key)) == nullptr) {
        Add(v, field + "." + std::string(key), "required field is missing");
      }
    }
    return true;
  }
  void Masks(const StepValue& v, const std::string& field);
  static std::string Join(const std::vector<std::string_view>& keys) {
    std::string out;
    for (std::string_view k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
    return out;
  }

  bool placeholders_;
  std::vector<Diagnostic>* out_;
};

void ShapeChecker::Masks(const StepValue& v, const std::string& field) {
  TextMap(v, field, "mask kind");
  if (v.kind != Kind::kMap) return;
  for (const auto& [column, mask] : v.fields) {
    if (mask.kind != Kind::kText || Wildcard(mask) || !PlaceholdersOf(mask.text).empty()) continue;
    std::string kind = AsciiLower(mask.text);
    bool known = kind == "redact" || kind == "hash" || kind == "null" || kind == "year" ||
                 ((kind.starts_with("partial(") || kind.starts_with("sql(")) &&
                  kind.ends_with(")"));
    if (!known && !kind.empty()) {
      Add(mask, field + "." + column,
          "'" + mask.text + "' is not a mask (expected redact, hash, partial(N), null, year or "
          "sql(EXPR))");
    }
  }
}

void ShapeChecker::Check(const ProcessorStep& step, const std::string& field) {
  const StepValue& v = step.value;
  std::string at = field + "." + step.kind;
  const std::string& k = step.kind;
  if (k == "sql" || k == "filter") {
    Text(v, at);
  } else if (k == "project") {
    TextList(v, at, "columns or expressions");
  } else if (k == "hash") {
    TextList(v, at, "columns");
  } else if (k == "union") {
    TextList(v, at, "input names");
  } else if (k == "rename") {
    TextMap(v, at, "new name");
  } else if (k == "cast") {
    TextMap(v, at, "type");
  } else if (k == "mask") {
    Masks(v, at);
  } else if (k == "dedupe") {
    if (Wildcard(v) || !Object(v, at, {"key", "latest"}, {"key"})) return;
    if (const StepValue* key = v.Field("key")) TextOrList(*key, at + ".key", "key columns");
    if (const StepValue* latest = v.Field("latest")) {
      TextOrList(*latest, at + ".latest", "ordering columns");
    }
  } else if (k == "lookup") {
    if (Wildcard(v) || !Object(v, at, {"input", "on", "columns"}, {"input", "on"})) return;
    if (const StepValue* input = v.Field("input")) Text(*input, at + ".input");
    if (const StepValue* on = v.Field("on")) TextOrList(*on, at + ".on", "join columns");
    if (const StepValue* columns = v.Field("columns")) TextList(*columns, at + ".columns", "columns");
  } else if (k != "use") {
    out_->push_back(Diagnostic{step.location, field,
                               "unknown step '" + k + "' (expected one of: " +
                                   Join(BuiltinStepKinds()) + ", use)"});
  }
}

std::string Where(const SourceLocation& at) {
  std::string out = at.file;
  if (at.line > 0) out += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  return out.empty() ? out : out + ": ";
}

/// Expands the uses of one chain; `stack` holds the processors being expanded (cycles).
class Expander {
 public:
  Expander(const std::vector<ProcessorDefinition>& domain,
           const std::vector<ProcessorDefinition>& mesh)
      : domain_(domain), mesh_(mesh) {}

  Status Expand(const std::vector<ProcessorStep>& steps, bool mesh_only,
                std::vector<ProcessorStep>* out);

 private:
  const ProcessorDefinition* Find(const std::string& name, bool mesh_only) const {
    if (!mesh_only) {
      for (const auto& d : domain_) {
        if (d.name == name) return &d;
      }
    }
    for (const auto& d : mesh_) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }
  Status ExpandUse(const ProcessorStep& use, bool mesh_only, std::vector<ProcessorStep>* out);

  const std::vector<ProcessorDefinition>& domain_;
  const std::vector<ProcessorDefinition>& mesh_;
  std::vector<std::string> stack_;
};

using Arguments = std::map<std::string, StepValue>;

/// `text` with each `${name}` replaced; `whole` receives the value when the text is exactly one
/// placeholder (any shape).
Status SubstituteText(const std::string& text, const Arguments& args, const std::string& context,
                      StepValue* out) {
  std::vector<std::string> names = PlaceholdersOf(text);
  for (const std::string& name : names) {
    if (args.count(name) == 0) {
      return InvalidArgument(context + "${" + name + "} names no parameter of the processor");
    }
  }
  if (names.size() == 1 && text == "${" + names[0] + "}") {
    SourceLocation keep = out->location;
    *out = args.at(names[0]);
    out->location = keep;
    return Status::OK();
  }
  std::string result;
  size_t at = 0;
  while (true) {
    size_t open = text.find("${", at);
    size_t close = open == std::string::npos ? open : text.find('}', open);
    if (open == std::string::npos || close == std::string::npos) break;
    std::string name = text.substr(open + 2, close - open - 2);
    const StepValue& value = args.at(name);
    if (value.kind != Kind::kText) {
      return InvalidArgument(context + "parameter '" + name +
                             "' is a list or a map and cannot be part of a longer text");
    }
    result += text.substr(at, open - at) + value.text;
    at = close + 1;
  }
  result += text.substr(at);
  out->kind = Kind::kText;
  out->text = std::move(result);
  return Status::OK();
}

Status Substitute(const Arguments& args, const std::string& context, StepValue* value) {
  switch (value->kind) {
    case Kind::kText:
      return SubstituteText(value->text, args, context, value);
    case Kind::kList:
      for (StepValue& item : value->items) PLEXUS_RETURN_IF_ERROR(Substitute(args, context, &item));
      return Status::OK();
    case Kind::kMap:
      for (auto& [key, field] : value->fields) {
        StepValue name;
        PLEXUS_RETURN_IF_ERROR(SubstituteText(key, args, context, &name));
        if (name.kind != Kind::kText) {
          return InvalidArgument(context + "a map key must be text, parameter '" + key +
                                 "' is a list or a map");
        }
        key = name.text;
        PLEXUS_RETURN_IF_ERROR(Substitute(args, context, &field));
      }
      return Status::OK();
  }
  return Status::OK();
}

Status Expander::ExpandUse(const ProcessorStep& use, bool mesh_only,
                           std::vector<ProcessorStep>* out) {
  const std::string& name = use.value.text;
  std::string context = Where(use.location) + "use of processor '" + name + "': ";
  const ProcessorDefinition* definition = Find(name, mesh_only);
  if (definition == nullptr) {
    return InvalidArgument(Where(use.location) + "processor '" + name + "' is not defined" +
                           (mesh_only ? " in mesh.yaml" : " (in domain.yaml or mesh.yaml)"));
  }
  if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
    std::string cycle;
    for (const std::string& s : stack_) cycle += s + " -> ";
    return InvalidArgument(context + "processors use each other in a cycle (" + cycle + name +
                           ")");
  }
  Arguments args;
  for (const auto& [key, value] : use.with) {
    const auto& params = definition->parameters;
    bool known = std::any_of(params.begin(), params.end(),
                             [&](const ProcessorParameter& p) { return p.name == key; });
    if (!known) return InvalidArgument(context + "'" + key + "' is not one of its parameters");
    args[key] = value;
  }
  for (const ProcessorParameter& p : definition->parameters) {
    if (args.count(p.name) > 0) continue;
    if (!p.default_value) {
      return InvalidArgument(context + "parameter '" + p.name + "' has no default: set it in `with`");
    }
    StepValue value;
    value.text = *p.default_value;
    value.location = p.location;
    args[p.name] = std::move(value);
  }
  stack_.push_back(name);
  std::vector<ProcessorStep> steps = definition->steps;
  for (ProcessorStep& step : steps) {
    std::string step_context = Where(step.location) + "processor '" + name + "': ";
    PLEXUS_RETURN_IF_ERROR(Substitute(args, step_context, &step.value));
    for (auto& [key, value] : step.with) {
      PLEXUS_RETURN_IF_ERROR(Substitute(args, step_context, &value));
    }
  }
  Status status = Expand(steps, mesh_only || definition->scope == "mesh", out);
  stack_.pop_back();
  return status;
}

Status Expander::Expand(const std::vector<ProcessorStep>& steps, bool mesh_only,
                        std::vector<ProcessorStep>* out) {
  for (const ProcessorStep& step : steps) {
    if (step.kind == "use") {
      PLEXUS_RETURN_IF_ERROR(ExpandUse(step, mesh_only, out));
    } else {
      out->push_back(step);
    }
  }
  return Status::OK();
}

}  // namespace

const std::vector<std::string_view>& BuiltinStepKinds() {
  static const std::vector<std::string_view> kinds = {
      "sql", "filter", "project", "rename", "cast", "dedupe", "mask", "hash", "union", "lookup"};
  return kinds;
}

bool IsRowWiseStep(std::string_view kind) {
  return kind == "filter" || kind == "project" || kind == "rename" || kind == "cast" ||
         kind == "mask" || kind == "hash" || kind == "lookup";
}

std::vector<Diagnostic> CheckStepArgument(const ProcessorStep& step, const std::string& field,
                                          bool placeholders) {
  std::vector<Diagnostic> out;
  ShapeChecker(placeholders, &out).Check(step, field);
  return out;
}

std::vector<std::string> PlaceholdersOf(std::string_view text) {
  std::vector<std::string> names;
  for (size_t at = text.find("${"); at != std::string_view::npos; at = text.find("${", at)) {
    size_t close = text.find('}', at);
    if (close == std::string_view::npos) break;
    names.emplace_back(text.substr(at + 2, close - at - 2));
    at = close + 1;
  }
  return names;
}

Result<std::vector<ProcessorStep>> ExpandSteps(
    const std::vector<ProcessorStep>& steps,
    const std::vector<ProcessorDefinition>& domain_processors,
    const std::vector<ProcessorDefinition>& mesh_processors) {
  std::vector<ProcessorStep> out;
  PLEXUS_RETURN_IF_ERROR(Expander(domain_processors, mesh_processors).Expand(steps, false, &out));
  return out;
}

}  // namespace plexus::spec
