// File: plexus/spec/parse_plexus.cc
//
// Plexus's own documents (docs/mesh-format.md): pipeline.yaml, domain.yaml and mesh.yaml.
// Unknown keys are refused like in the standards, so a typo never passes silently.
#include <optional>

#include "plexus/common/text.h"
#include "plexus/spec/parse_steps_internal.h"

namespace plexus::spec {
namespace internal {
namespace {

constexpr std::string_view kPlexusApiVersion = "plexus/v1";
const KeyList kPipelineKeys = {"apiVersion", "kind",     "inputs",
                                "outputs",    "schedule", "retries"};
const KeyList kInputKeys = {"name", "file", "format", "options", "inputPort", "cdc"};
const KeyList kOutputKeys = {"port", "sql", "from", "steps"};
const KeyList kFormats = {"csv", "json", "ndjson", "parquet"};
const KeyList kDomainKeys = {"apiVersion", "kind",     "name",       "description", "owners",
                             "members",    "policies", "governance", "processors"};
const KeyList kMeshKeys = {"apiVersion", "kind",       "name",       "description",
                           "policies",   "access",     "glossary",   "governance",
                           "processors", "observability"};
const KeyList kObservabilityKeys = {"enabled", "sloInterval", "openlineage", "alerts",
                                    "runHistory"};
const KeyList kRunHistoryKeys = {"retention", "perProduct"};
const KeyList kOpenLineageKeys = {"url", "file", "namespace"};
const KeyList kAlertsKeys = {"webhook", "log"};
const KeyList kMeshAccessKeys = {"defaultVisibility", "masks"};
const KeyList kMaskRuleKeys = {"mask", "clearFor"};

void ReadInput(YamlReader& r, const YAML::Node& node, const std::string& path,
               PipelineInput* out) {
  r.CheckKeys(node, path, kInputKeys, {"name"});
  out->location = r.LocationOf(node);
  r.Text(node, "name", path, &out->name);
  r.NonEmptyText(node, "file", path, &out->file);
  r.NonEmptyText(node, "inputPort", path, &out->input_port);
  int declared = 0;
  for (std::string_view source : {"file", "inputPort", "cdc"}) {
    declared += r.Find(node, source).IsDefined() ? 1 : 0;
  }
  if (declared > 1) {
    r.Report(node, path, "an input reads one of a file, an inputPort or a cdc source, not several");
  } else if (declared == 0) {
    r.Report(node, FieldPath(path, "file"), "required field is missing (or inputPort, or cdc)");
  }
  if (YAML::Node cdc = r.Find(node, "cdc"); cdc.IsDefined()) {
    out->cdc = ReadCdc(r, cdc, FieldPath(path, "cdc"));
  }
  if (r.Find(node, "format").IsDefined()) {
    r.Enum(node, "format", path, kFormats, &out->format);
    if (!r.Find(node, "file").IsDefined() && declared == 1) {
      r.Report(r.ValueLocation(node, "format"), FieldPath(path, "format"),
               "format applies to file inputs only");
    }
  }
  if (out->cdc && r.Find(node, "options").IsDefined()) {
    r.Report(r.ValueLocation(node, "options"), FieldPath(path, "options"),
             "options are a file reader's; a kafka source takes its own under cdc.options");
    return;
  }
  ReadTextOptions(r, node, path, &out->options);
}

}  // namespace

void CheckPlexusHeader(YamlReader& r, const YAML::Node& root, std::string_view kind) {
  std::string text;
  r.Enum(root, "apiVersion", "", {kPlexusApiVersion}, &text);
  r.Enum(root, "kind", "", {kind}, &text);
}

Pipeline ReadPipeline(const YamlDocument& doc, std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  Pipeline pipeline;
  pipeline.location = SourceLocation{doc.file, 1, 1};
  pipeline.source_text = doc.text;
  if (!r.ExpectDocument(doc.root)) return pipeline;
  r.CheckKeys(doc.root, "", kPipelineKeys, {"apiVersion", "kind", "outputs"});
  CheckPlexusHeader(r, doc.root, "Pipeline");
  std::vector<YAML::Node> inputs = r.List(doc.root, "inputs", "");
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string path = ItemPath("inputs", i);
    if (!r.ExpectMap(inputs[i], path)) continue;
    PipelineInput input;
    ReadInput(r, inputs[i], path, &input);
    pipeline.inputs.push_back(std::move(input));
  }
  std::vector<YAML::Node> outputs = r.List(doc.root, "outputs", "");
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string path = ItemPath("outputs", i);
    if (!r.ExpectMap(outputs[i], path)) continue;
    r.CheckKeys(outputs[i], path, kOutputKeys, {"port"});
    PipelineOutput output;
    output.location = r.LocationOf(outputs[i]);
    r.Text(outputs[i], "port", path, &output.port);
    if (r.Find(outputs[i], "sql").IsDefined()) r.NonEmptyText(outputs[i], "sql", path, &output.sql);
    if (r.Find(outputs[i], "from").IsDefined()) {
      r.NonEmptyText(outputs[i], "from", path, &output.from);
    }
    if (r.Find(outputs[i], "sql").IsDefined() && r.Find(outputs[i], "from").IsDefined()) {
      r.Report(r.ValueLocation(outputs[i], "from"), FieldPath(path, "from"),
               "an output starts from its sql or from an input, not both (the sql reads the "
               "inputs by name)");
    }
    output.steps = ReadSteps(r, outputs[i], "steps", path);
    pipeline.outputs.push_back(std::move(output));
  }
  pipeline.schedule = ReadSchedule(r, doc.root);
  pipeline.retries = ReadRetries(r, doc.root);
  return pipeline;
}

Domain ReadDomain(const YamlDocument& doc, std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  Domain domain;
  domain.location = SourceLocation{doc.file, 1, 1};
  domain.source_text = doc.text;
  if (!r.ExpectDocument(doc.root)) return domain;
  r.CheckKeys(doc.root, "", kDomainKeys, {"apiVersion", "kind", "name"});
  CheckPlexusHeader(r, doc.root, "Domain");
  r.Text(doc.root, "name", "", &domain.name);
  r.Text(doc.root, "description", "", &domain.description);
  r.TextList(doc.root, "owners", "", &domain.owners);
  r.TextList(doc.root, "members", "", &domain.members);
  r.TextList(doc.root, "policies", "", &domain.policy_files);
  ReadDomainGovernance(r, doc.root, &domain.policy_settings);
  domain.processors = ReadProcessors(r, doc.root, domain.name);
  return domain;
}

/// mesh.yaml `access`: the default visibility of ports and the masks by classification.
void ReadMeshAccess(YamlReader& r, const YAML::Node& root, MeshAccess* access) {
  YAML::Node node = r.Find(root, "access");
  if (!node.IsDefined() || !r.ExpectMap(node, "access")) return;
  r.CheckKeys(node, "access", kMeshAccessKeys, {});
  r.Enum(node, "defaultVisibility", "access", {"public", "restricted", "private"},
         &access->default_visibility);
  YAML::Node masks = r.Find(node, "masks");
  if (!masks.IsDefined() || !r.ExpectMap(masks, "access.masks")) return;
  for (const auto& entry : masks) {
    std::string classification = AsciiLower(entry.first.Scalar());
    std::string path = "access.masks." + classification;
    if (!r.ExpectMap(entry.second, path)) continue;
    r.CheckKeys(entry.second, path, kMaskRuleKeys, {"mask"});
    MaskRule rule;
    rule.location = r.LocationOf(entry.second);
    r.NonEmptyText(entry.second, "mask", path, &rule.mask);
    r.TextList(entry.second, "clearFor", path, &rule.clear_for);
    access->masks[classification] = std::move(rule);
  }
}

/// An http:// or https:// URL with a host, read from `key` of `map` (issue 9 endpoints).
void ReadEndpoint(YamlReader& r, const YAML::Node& map, std::string_view key,
                  const std::string& path, std::string* out) {
  if (!r.NonEmptyText(map, key, path, out)) return;
  std::string_view url = *out;
  std::string_view rest = url.starts_with("http://")    ? url.substr(7)
                          : url.starts_with("https://") ? url.substr(8)
                                                        : std::string_view();
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') {
    r.Report(r.ValueLocation(map, key), FieldPath(path, key),
             "expected an http:// or https:// URL with a host, found '" + *out + "'");
    out->clear();
  }
}

/// observability.runHistory: how long `plexus serve` keeps finished runs, and how many per
/// product (a continuous CDC input records a run per micro-batch).
void ReadRunHistory(YamlReader& r, const YAML::Node& observability, const std::string& parent,
                    MeshObservability* out) {
  YAML::Node node = r.Find(observability, "runHistory");
  const std::string path = FieldPath(parent, "runHistory");
  if (!node.IsDefined() || !r.ExpectMap(node, path)) return;
  r.CheckKeys(node, path, kRunHistoryKeys, {});
  std::string retention;
  if (r.NonEmptyText(node, "retention", path, &retention)) {
    std::optional<double> seconds = ParseDurationSeconds(retention);
    if (!seconds || *seconds < 31 * 86400.0) {
      r.Report(r.ValueLocation(node, "retention"), FieldPath(path, "retention"),
               "expected a duration of at least 31d (the SLO and trust windows read 30 days), "
               "found '" + retention + "'");
    } else {
      out->run_retention_s = *seconds;
    }
  }
  int per_product = out->runs_per_product;
  if (r.Int(node, "perProduct", path, &per_product)) {
    if (per_product < 100) {
      r.Report(r.ValueLocation(node, "perProduct"), FieldPath(path, "perProduct"),
               "expected at least 100 runs, found " + std::to_string(per_product));
    } else {
      out->runs_per_product = per_product;
    }
  }
}

/// mesh.yaml `observability` (issue 9): OpenLineage's endpoint and file, the alerts' webhook
/// and log, how often SLOs are evaluated, and the switch.
void ReadMeshObservability(YamlReader& r, const YAML::Node& root, MeshObservability* out) {
  YAML::Node node = r.Find(root, "observability");
  if (!node.IsDefined() || !r.ExpectMap(node, "observability")) return;
  const std::string path = "observability";
  out->location = r.LocationOf(node);
  r.CheckKeys(node, path, kObservabilityKeys, {});
  r.Bool(node, "enabled", path, &out->enabled);
  std::string interval;
  if (r.NonEmptyText(node, "sloInterval", path, &interval)) {
    std::optional<double> seconds = ParseDurationSeconds(interval);
    if (!seconds || *seconds < 1) {
      r.Report(r.ValueLocation(node, "sloInterval"), FieldPath(path, "sloInterval"),
               "expected a duration of at least 1s (30s, 5m, 1h), found '" + interval + "'");
    } else {
      out->slo_interval_s = *seconds;
    }
  }
  ReadRunHistory(r, node, path, out);
  YAML::Node lineage = r.Find(node, "openlineage");
  std::string lineage_path = FieldPath(path, "openlineage");
  if (lineage.IsDefined() && r.ExpectMap(lineage, lineage_path)) {
    r.CheckKeys(lineage, lineage_path, kOpenLineageKeys, {});
    ReadEndpoint(r, lineage, "url", lineage_path, &out->openlineage_url);
    r.NonEmptyText(lineage, "file", lineage_path, &out->openlineage_file);
    r.NonEmptyText(lineage, "namespace", lineage_path, &out->openlineage_namespace);
  }
  YAML::Node alerts = r.Find(node, "alerts");
  std::string alerts_path = FieldPath(path, "alerts");
  if (alerts.IsDefined() && r.ExpectMap(alerts, alerts_path)) {
    r.CheckKeys(alerts, alerts_path, kAlertsKeys, {});
    ReadEndpoint(r, alerts, "webhook", alerts_path, &out->alerts_webhook);
    r.Bool(alerts, "log", alerts_path, &out->alerts_log);
  }
}

Mesh ReadMeshFile(const YamlDocument& doc, std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  Mesh mesh;
  mesh.location = SourceLocation{doc.file, 1, 1};
  mesh.source_text = doc.text;
  if (!r.ExpectDocument(doc.root)) return mesh;
  r.CheckKeys(doc.root, "", kMeshKeys, {"apiVersion", "kind", "name"});
  CheckPlexusHeader(r, doc.root, "Mesh");
  r.Text(doc.root, "name", "", &mesh.name);
  r.Text(doc.root, "description", "", &mesh.description);
  r.TextList(doc.root, "policies", "", &mesh.policy_files);
  if (r.NonEmptyText(doc.root, "glossary", "", &mesh.glossary_file)) {
    mesh.glossary_location = r.ValueLocation(doc.root, "glossary");
  }
  ReadMeshAccess(r, doc.root, &mesh.access);
  ReadMeshGovernance(r, doc.root, &mesh.governance);
  mesh.processors = ReadProcessors(r, doc.root, "mesh");
  ReadMeshObservability(r, doc.root, &mesh.observability);
  return mesh;
}

}  // namespace internal

Result<Pipeline> ParsePipelineFile(const std::string& path, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::LoadYaml(path, sink));
  Pipeline pipeline = internal::ReadPipeline(doc, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return pipeline;
}

Result<Pipeline> ParsePipelineText(const std::string& text, const std::string& name,
                                   std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::ParseYamlText(text, name, sink));
  Pipeline pipeline = internal::ReadPipeline(doc, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return pipeline;
}

Result<std::vector<ProcessorDefinition>> ParseProcessorsText(const std::string& text,
                                                             const std::string& name,
                                                             const std::string& scope,
                                                             std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::ParseYamlText(text, name, sink));
  internal::YamlReader r(doc.file, sink);
  std::vector<ProcessorDefinition> processors;
  if (r.ExpectDocument(doc.root)) processors = internal::ReadProcessors(r, doc.root, scope);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return processors;
}

}  // namespace plexus::spec
