// File: plexus/spec/parse_plexus.cc
//
// Plexus's own documents (docs/mesh-format.md): pipeline.yaml, domain.yaml and mesh.yaml.
// Unknown keys are refused like in the standards, so a typo never passes silently.
#include "plexus/common/text.h"
#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {
namespace internal {
namespace {

constexpr std::string_view kPlexusApiVersion = "plexus/v1";
const KeyList kPipelineKeys = {"apiVersion", "kind", "inputs", "outputs"};
const KeyList kInputKeys = {"name", "file", "format", "options", "inputPort"};
const KeyList kOutputKeys = {"port", "sql"};
const KeyList kFormats = {"csv", "json", "ndjson", "parquet"};
const KeyList kDomainKeys = {"apiVersion", "kind",    "name",     "description",
                             "owners",     "members", "policies", "governance"};
const KeyList kMeshKeys = {"apiVersion", "kind",   "name",     "description",
                           "policies",   "access", "glossary", "governance"};
const KeyList kMeshAccessKeys = {"defaultVisibility", "masks"};
const KeyList kMaskRuleKeys = {"mask", "clearFor"};

void ReadOptions(YamlReader& r, const YAML::Node& input, const std::string& path,
                 PipelineInput* out) {
  YAML::Node options = r.Find(input, "options");
  std::string field = FieldPath(path, "options");
  if (!options.IsDefined() || options.IsNull() || !r.ExpectMap(options, field)) return;
  for (const auto& entry : options) {
    if (!entry.first.IsScalar()) continue;
    std::string key = entry.first.Scalar();
    if (!entry.second.IsScalar()) {
      r.Report(entry.second, FieldPath(field, key),
               "expected text, found " + std::string(KindName(entry.second)));
      continue;
    }
    if (out->options.count(key) > 0) {
      r.Report(entry.first, FieldPath(field, key), "duplicate key");
      continue;
    }
    out->options[key] = entry.second.Scalar();
  }
}

void ReadInput(YamlReader& r, const YAML::Node& node, const std::string& path,
               PipelineInput* out) {
  r.CheckKeys(node, path, kInputKeys, {"name"});
  out->location = r.LocationOf(node);
  r.Text(node, "name", path, &out->name);
  bool has_file = r.NonEmptyText(node, "file", path, &out->file);
  bool has_port = r.NonEmptyText(node, "inputPort", path, &out->input_port);
  bool declares_file = r.Find(node, "file").IsDefined();
  bool declares_port = r.Find(node, "inputPort").IsDefined();
  if (declares_file && declares_port) {
    r.Report(node, path, "an input reads either a file or an inputPort, not both");
  } else if (!declares_file && !declares_port) {
    r.Report(node, FieldPath(path, "file"), "required field is missing (or inputPort)");
  }
  if (r.Find(node, "format").IsDefined()) {
    r.Enum(node, "format", path, kFormats, &out->format);
    if (has_port && !has_file) {
      r.Report(r.ValueLocation(node, "format"), FieldPath(path, "format"),
               "format applies to file inputs only");
    }
  }
  ReadOptions(r, node, path, out);
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
    pipeline.outputs.push_back(std::move(output));
  }
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

}  // namespace plexus::spec
