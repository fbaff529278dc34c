// File: plexus/spec/parse_steps.cc
//
// pipeline.yaml's streaming parts (docs/mesh-format.md, "Processors", "Change data capture
// inputs", "Schedules"): the steps of an output, CDC inputs, `schedule`, `retries`, and the
// `processors` of domain.yaml and mesh.yaml. Argument shapes and cross-references are
// ValidateMesh's (validate_steps.cc); here: YAML types, known keys, required fields.
#include <charconv>
#include <cmath>

#include "plexus/spec/cron.h"
#include "plexus/spec/parse_steps_internal.h"
#include "plexus/spec/processors.h"

namespace plexus::spec {

std::optional<double> ParseDurationSeconds(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double seconds;
  };
  // Longest suffix first: `ms` before `s` and `m`.
  static constexpr Unit kUnits[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600},
                                    {"d", 86400}};
  double scale = 1;
  for (const Unit& unit : kUnits) {
    if (text.size() > unit.suffix.size() && text.ends_with(unit.suffix)) {
      text.remove_suffix(unit.suffix.size());
      scale = unit.seconds;
      break;
    }
  }
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value * scale;
}

bool IsProcessorName(const std::string& name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

namespace internal {
namespace {

const KeyList kUseKeys = {"use", "with"};
const KeyList kCdcKeys = {"source",   "folder",  "pattern", "dsn",     "table",
                          "slot",     "snapshot", "brokers", "topic",   "options",
                          "maxErrorRate", "newColumns", "compactAt"};
const KeyList kCdcSources = {"files", "http", "postgres", "kafka"};
const KeyList kScheduleKeys = {"every",      "cron",       "onUpstream",
                               "continuous", "maxLatency", "maxBatchEvents"};
const KeyList kRetryKeys = {"attempts", "backoff", "maxBackoff"};
const KeyList kProcessorKeys = {"description", "parameters", "steps"};
const KeyList kParameterKeys = {"default", "description"};

/// The fields of a CDC input that belong to one source only.
struct SourceField {
  std::string_view key;
  std::string_view source;
  bool required;
};
constexpr SourceField kSourceFields[] = {
    {"folder", "files", true},     {"pattern", "files", false}, {"dsn", "postgres", true},
    {"table", "postgres", true},   {"slot", "postgres", false}, {"snapshot", "postgres", false},
    {"brokers", "kafka", true},    {"topic", "kafka", true},    {"options", "kafka", false}};

std::string Quoted(const YAML::Node& value) {
  return value.IsScalar() ? "'" + value.Scalar() + "'" : std::string(KindName(value));
}

/// A duration field: `500ms`, `30s`, `15m`, `2h`, `1d` or a bare number of seconds, above 0.
bool Duration(YamlReader& r, const YAML::Node& map, std::string_view key, const std::string& path,
              double* out) {
  YAML::Node value = r.Find(map, key);
  if (!value.IsDefined()) return false;
  std::optional<double> seconds;
  if (value.IsScalar()) seconds = ParseDurationSeconds(value.Scalar());
  if (!seconds || *seconds <= 0) {
    r.Report(r.ValueLocation(map, key), FieldPath(path, key),
             "expected a duration above 0 such as 500ms, 30s, 15m, 2h, 1d or a number of "
             "seconds, found " + Quoted(value));
    return false;
  }
  *out = *seconds;
  return true;
}

/// A positive integer (int64) field.
bool PositiveInt64(YamlReader& r, const YAML::Node& map, std::string_view key,
                   const std::string& path, int64_t* out) {
  YAML::Node value = r.Find(map, key);
  if (!value.IsDefined()) return false;
  int64_t parsed = 0;
  if (value.IsScalar()) {
    const std::string& s = value.Scalar();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (ec == std::errc() && end == s.data() + s.size() && parsed > 0) {
      *out = parsed;
      return true;
    }
  }
  r.Report(r.ValueLocation(map, key), FieldPath(path, key),
           "expected a whole number above 0, found " + Quoted(value));
  return false;
}

ProcessorStep ReadUse(YamlReader& r, const YAML::Node& node, const std::string& path) {
  ProcessorStep step;
  step.kind = "use";
  step.location = r.LocationOf(node);
  r.CheckKeys(node, path, kUseKeys, {});
  YAML::Node name = r.Find(node, "use");
  step.value = ReadStepValue(r, name, FieldPath(path, "use"));
  step.value.location = r.ValueLocation(node, "use");
  if (!name.IsScalar() || !IsProcessorName(name.Scalar())) {
    r.Report(r.ValueLocation(node, "use"), FieldPath(path, "use"),
             "expected a processor's name ([a-z][a-z0-9_]*), found " + Quoted(name));
  }
  YAML::Node with = r.Find(node, "with");
  std::string with_path = FieldPath(path, "with");
  if (!with.IsDefined() || with.IsNull() || !r.ExpectMap(with, with_path)) return step;
  r.CheckKeys(with, with_path, {}, {});
  for (const auto& entry : with) {
    if (!entry.first.IsScalar()) continue;  // reported by CheckKeys
    std::string key = entry.first.Scalar();
    StepValue value = ReadStepValue(r, entry.second, FieldPath(with_path, key));
    if (entry.second.IsNull()) value.location = r.LocationOf(entry.first);
    step.with.emplace_back(key, std::move(value));
  }
  return step;
}

std::optional<ProcessorStep> ReadStep(YamlReader& r, const YAML::Node& node,
                                      const std::string& path) {
  if (!r.ExpectMap(node, path)) return std::nullopt;
  if (r.Find(node, "use").IsDefined()) return ReadUse(r, node, path);
  if (node.size() != 1) {
    r.Report(node, path,
             "a step is a map of one key, the step's kind (" + JoinKeys(BuiltinStepKinds()) +
                 "), or {use: processor, with: {...}}; found " + std::to_string(node.size()) +
                 " keys");
    return std::nullopt;
  }
  auto entry = node.begin();
  if (!entry->first.IsScalar()) {
    r.Report(entry->first, path, "a step's kind must be text");
    return std::nullopt;
  }
  ProcessorStep step;
  step.kind = entry->first.Scalar();
  step.location = r.LocationOf(node);
  if (!Contains(BuiltinStepKinds(), step.kind)) {
    r.Report(entry->first, path,
             "unknown step '" + step.kind + "' (expected one of: " +
                 JoinKeys(BuiltinStepKinds()) + ", use)");
    return std::nullopt;
  }
  step.value = ReadStepValue(r, entry->second, FieldPath(path, step.kind));
  if (entry->second.IsNull()) step.value.location = r.LocationOf(entry->first);
  return step;
}

ProcessorParameter ReadParameter(YamlReader& r, const std::string& name, const YAML::Node& key,
                                 const YAML::Node& node, const std::string& path) {
  ProcessorParameter parameter;
  parameter.name = name;
  parameter.location = r.LocationOf(key);
  if (!IsProcessorName(name)) {
    r.Report(key, path, "'" + name + "' is not a valid parameter name ([a-z][a-z0-9_]*)");
  }
  if (node.IsNull()) return parameter;  // `p:` alone: no default, no description
  if (!r.ExpectMap(node, path)) return parameter;
  r.CheckKeys(node, path, kParameterKeys, {});
  std::string value;
  if (r.Text(node, "default", path, &value)) parameter.default_value = value;
  r.Text(node, "description", path, &parameter.description);
  return parameter;
}

ProcessorDefinition ReadProcessor(YamlReader& r, const std::string& name, const YAML::Node& key,
                                  const YAML::Node& node, const std::string& path,
                                  const std::string& scope) {
  ProcessorDefinition definition;
  definition.name = name;
  definition.scope = scope;
  definition.location = r.LocationOf(key);
  if (!IsProcessorName(name)) {
    r.Report(key, path, "'" + name + "' is not a valid processor name ([a-z][a-z0-9_]*)");
  }
  if (!r.ExpectMap(node, path)) return definition;
  r.CheckKeys(node, path, kProcessorKeys, {"steps"});
  r.Text(node, "description", path, &definition.description);
  YAML::Node parameters = r.Find(node, "parameters");
  std::string parameters_path = FieldPath(path, "parameters");
  if (parameters.IsDefined() && !parameters.IsNull() && r.ExpectMap(parameters, parameters_path)) {
    r.CheckKeys(parameters, parameters_path, {}, {});
    for (const auto& entry : parameters) {
      if (!entry.first.IsScalar()) continue;
      std::string parameter = entry.first.Scalar();
      definition.parameters.push_back(ReadParameter(r, parameter, entry.first, entry.second,
                                                    FieldPath(parameters_path, parameter)));
    }
  }
  definition.steps = ReadSteps(r, node, "steps", path);
  if (r.Find(node, "steps").IsSequence() && r.Find(node, "steps").size() == 0) {
    r.Report(r.ValueLocation(node, "steps"), FieldPath(path, "steps"),
             "a processor needs at least one step");
  }
  return definition;
}

/// A share in [0, 1] at `key` (absent: `out` unchanged).
void ReadShare(YamlReader& r, const YAML::Node& node, const std::string& path, const char* key,
               const char* example, double* out) {
  YAML::Node value = r.Find(node, key);
  if (!value.IsDefined()) return;
  double share = -1;
  if (value.IsScalar()) {
    const std::string& s = value.Scalar();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), share);
    if (ec != std::errc() || end != s.data() + s.size()) share = -1;
  }
  if (share < 0 || share > 1) {
    r.Report(r.ValueLocation(node, key), FieldPath(path, key),
             std::string("expected a share between 0 and 1 (") + example + "), found " +
                 Quoted(value));
    return;
  }
  *out = share;
}

}  // namespace

void ReadTextOptions(YamlReader& r, const YAML::Node& node, const std::string& path,
                     std::map<std::string, std::string>* out) {
  YAML::Node options = r.Find(node, "options");
  std::string field = FieldPath(path, "options");
  if (!options.IsDefined() || options.IsNull() || !r.ExpectMap(options, field)) return;
  r.CheckKeys(options, field, {}, {});  // duplicates and keys that are not text
  for (const auto& entry : options) {
    if (!entry.first.IsScalar()) continue;
    std::string key = entry.first.Scalar();
    if (!entry.second.IsScalar()) {
      r.Report(entry.second, FieldPath(field, key),
               "expected text, found " + std::string(KindName(entry.second)));
      continue;
    }
    out->emplace(key, entry.second.Scalar());  // a duplicate keeps the first, as reported
  }
}

StepValue ReadStepValue(YamlReader& r, const YAML::Node& node, const std::string& path) {
  StepValue value;
  value.location = r.LocationOf(node);
  if (node.IsSequence()) {
    value.kind = StepValue::Kind::kList;
    size_t i = 0;
    for (auto it = node.begin(); it != node.end(); ++it, ++i) {
      value.items.push_back(ReadStepValue(r, *it, ItemPath(path, i)));
    }
  } else if (node.IsMap()) {
    value.kind = StepValue::Kind::kMap;
    r.CheckKeys(node, path, {}, {});  // duplicate keys, keys that are not text
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) continue;
      std::string key = entry.first.Scalar();
      StepValue field = ReadStepValue(r, entry.second, FieldPath(path, key));
      if (entry.second.IsNull()) field.location = r.LocationOf(entry.first);
      value.fields.emplace_back(key, std::move(field));
    }
  } else if (node.IsScalar()) {
    value.text = node.Scalar();
  }
  return value;
}

std::vector<ProcessorStep> ReadSteps(YamlReader& r, const YAML::Node& map, std::string_view key,
                                     const std::string& path) {
  std::vector<ProcessorStep> steps;
  std::vector<YAML::Node> items = r.List(map, key, path);
  std::string field = FieldPath(path, key);
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::optional<ProcessorStep> step = ReadStep(r, items[i], ItemPath(field, i))) {
      steps.push_back(std::move(*step));
    }
  }
  return steps;
}

CdcSpec ReadCdc(YamlReader& r, const YAML::Node& node, const std::string& path) {
  CdcSpec cdc;
  cdc.location = r.LocationOf(node);
  if (!r.ExpectMap(node, path)) return cdc;
  r.CheckKeys(node, path, kCdcKeys, {"source"});
  bool known = r.Enum(node, "source", path, kCdcSources, &cdc.source);
  for (const SourceField& f : kSourceFields) {
    bool present = r.Find(node, f.key).IsDefined();
    if (!known) continue;
    if (present && cdc.source != f.source) {
      r.Report(r.ValueLocation(node, f.key), FieldPath(path, f.key),
               std::string(f.key) + " applies to source " + std::string(f.source) +
                   " only (this input's source is " + cdc.source + ")");
    } else if (!present && f.required && cdc.source == f.source) {
      r.Report(node, FieldPath(path, f.key),
               "required field is missing (source " + cdc.source + " needs it)");
    }
  }
  r.NonEmptyText(node, "folder", path, &cdc.folder);
  r.NonEmptyText(node, "pattern", path, &cdc.pattern);
  r.NonEmptyText(node, "dsn", path, &cdc.dsn);
  r.NonEmptyText(node, "table", path, &cdc.table);
  r.NonEmptyText(node, "slot", path, &cdc.slot);
  r.Bool(node, "snapshot", path, &cdc.snapshot);
  r.NonEmptyText(node, "brokers", path, &cdc.brokers);
  r.NonEmptyText(node, "topic", path, &cdc.topic);
  ReadTextOptions(r, node, path, &cdc.options);
  ReadShare(r, node, path, "maxErrorRate", "0.05 is 5%", &cdc.max_error_rate);
  ReadShare(r, node, path, "compactAt", "0.5: when half the stored rows are deleted ones",
            &cdc.compact_at);
  r.Enum(node, "newColumns", path, {"add", "ignore", "pause"}, &cdc.new_columns);
  return cdc;
}

Schedule ReadSchedule(YamlReader& r, const YAML::Node& root) {
  Schedule schedule;
  YAML::Node node = r.Find(root, "schedule");
  schedule.location = r.LocationOf(node.IsDefined() ? node : root);
  if (!node.IsDefined() || !r.ExpectMap(node, "schedule")) return schedule;
  r.CheckKeys(node, "schedule", kScheduleKeys, {});
  Duration(r, node, "every", "schedule", &schedule.every_s);
  if (r.NonEmptyText(node, "cron", "schedule", &schedule.cron)) {
    if (Result<CronSchedule> cron = ParseCron(schedule.cron); !cron.ok()) {
      r.Report(r.ValueLocation(node, "cron"), "schedule.cron", cron.status().message());
    }
  }
  r.Bool(node, "onUpstream", "schedule", &schedule.on_upstream);
  r.Bool(node, "continuous", "schedule", &schedule.continuous);
  Duration(r, node, "maxLatency", "schedule", &schedule.max_latency_s);
  PositiveInt64(r, node, "maxBatchEvents", "schedule", &schedule.max_batch_events);
  return schedule;
}

RetryPolicy ReadRetries(YamlReader& r, const YAML::Node& root) {
  RetryPolicy retries;
  YAML::Node node = r.Find(root, "retries");
  retries.location = r.LocationOf(node.IsDefined() ? node : root);
  if (!node.IsDefined() || !r.ExpectMap(node, "retries")) return retries;
  r.CheckKeys(node, "retries", kRetryKeys, {});
  int64_t attempts = 0;
  if (PositiveInt64(r, node, "attempts", "retries", &attempts)) {
    retries.attempts = static_cast<int>(std::min<int64_t>(attempts, 1000));
  }
  Duration(r, node, "backoff", "retries", &retries.backoff_s);
  bool has_max = Duration(r, node, "maxBackoff", "retries", &retries.max_backoff_s);
  if (has_max && retries.max_backoff_s < retries.backoff_s) {
    r.Report(r.ValueLocation(node, "maxBackoff"), "retries.maxBackoff",
             "must not be shorter than backoff");
  }
  return retries;
}

std::vector<ProcessorDefinition> ReadProcessors(YamlReader& r, const YAML::Node& root,
                                                const std::string& scope) {
  std::vector<ProcessorDefinition> out;
  YAML::Node node = r.Find(root, "processors");
  if (!node.IsDefined() || node.IsNull() || !r.ExpectMap(node, "processors")) return out;
  r.CheckKeys(node, "processors", {}, {});
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) continue;
    std::string name = entry.first.Scalar();
    out.push_back(ReadProcessor(r, name, entry.first, entry.second,
                                FieldPath("processors", name), scope));
  }
  return out;
}

}  // namespace internal
}  // namespace plexus::spec
