// File: plexus/spec/parse_product.cc
//
// ODPS v1.0.0 product files: the object shapes of odps-json-schema-v1.0.0.json (top level,
// description, ports, team, members, and the untyped lists beside them).
#include "plexus/spec/format_internal.h"
#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {
namespace internal {
namespace {

const KeyList kProductKeys = {
    "apiVersion", "kind",   "id",         "name",           "version",         "status",
    "domain",     "tenant", "authoritativeDefinitions",     "description",     "customProperties",
    "tags",       "inputPorts",           "outputPorts",    "managementPorts", "support",
    "team",       "productCreatedTs"};
const KeyList kProductRequired = {"apiVersion", "kind", "id", "status"};
/// The ODPS v1.0.0 schema reads v0.9.0 documents too (its apiVersion enum lists both, and the
/// official examples are v0.9.0): they are read with v1.0.0's rules.
const KeyList kSupportedOdps = {"v0.9.0", "v1.0.0"};
const KeyList kDescriptionKeys = {"purpose", "limitations", "usage", "authoritativeDefinitions",
                                  "customProperties"};
const KeyList kInputPortKeys = {"name", "version", "contractId", "tags", "customProperties",
                                "authoritativeDefinitions"};
const KeyList kInputPortRequired = {"name", "version", "contractId"};
const KeyList kOutputPortKeys = {"name", "description", "type", "version", "contractId", "sbom",
                                 "inputContracts", "tags", "customProperties",
                                 "authoritativeDefinitions"};
const KeyList kOutputPortRequired = {"name", "version"};
const KeyList kTeamKeys = {"name", "description", "members", "tags", "customProperties",
                           "authoritativeDefinitions"};
const KeyList kMemberKeys = {"username", "name", "description", "role", "dateIn", "dateOut",
                             "replacedByUsername", "tags", "customProperties",
                             "authoritativeDefinitions"};
const KeyList kManagementPortKeys = {"name", "content", "type", "url", "channel", "description",
                                     "tags", "customProperties", "authoritativeDefinitions"};
const KeyList kSupportKeys = {"channel", "url", "description", "tool", "scope", "invitationUrl",
                              "tags", "customProperties", "authoritativeDefinitions"};

/// customProperties and authoritativeDefinitions, which may appear on most ODPS objects.
void CheckExtras(YamlReader& r, const YAML::Node& map, const std::string& path) {
  r.CheckObjectList(map, "customProperties", path, kCustomPropertyKeys, kCustomPropertyRequired);
  r.CheckObjectList(map, "authoritativeDefinitions", path, kAuthoritativeDefinitionKeys,
                    kAuthoritativeDefinitionRequired);
}

void ReadDescription(YamlReader& r, const YAML::Node& root, Product* product) {
  YAML::Node node = r.Find(root, "description");
  if (!node.IsDefined()) return;
  if (!r.ExpectMap(node, "description")) return;
  r.CheckKeys(node, "description", kDescriptionKeys, {});
  r.Text(node, "purpose", "description", &product->purpose);
  r.Text(node, "limitations", "description", &product->limitations);
  r.Text(node, "usage", "description", &product->usage);
  CheckExtras(r, node, "description");
}

void ReadInputPorts(YamlReader& r, const YAML::Node& root, Product* product) {
  std::vector<YAML::Node> items = r.List(root, "inputPorts", "");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = ItemPath("inputPorts", i);
    if (!r.ExpectMap(items[i], path)) continue;
    r.CheckKeys(items[i], path, kInputPortKeys, kInputPortRequired);
    InputPort port;
    port.location = r.LocationOf(items[i]);
    r.Text(items[i], "name", path, &port.name);
    r.Text(items[i], "version", path, &port.version);
    r.Text(items[i], "contractId", path, &port.contract_id);
    std::vector<std::string> tags;
    r.TextList(items[i], "tags", path, &tags);
    CheckExtras(r, items[i], path);
    product->input_ports.push_back(std::move(port));
  }
}

void ReadOutputPorts(YamlReader& r, const YAML::Node& root, Product* product) {
  std::vector<YAML::Node> items = r.List(root, "outputPorts", "");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = ItemPath("outputPorts", i);
    if (!r.ExpectMap(items[i], path)) continue;
    r.CheckKeys(items[i], path, kOutputPortKeys, kOutputPortRequired);
    OutputPort port;
    port.location = r.LocationOf(items[i]);
    r.Text(items[i], "name", path, &port.name);
    r.Text(items[i], "description", path, &port.description);
    r.Text(items[i], "type", path, &port.type);
    r.Text(items[i], "version", path, &port.version);
    r.Text(items[i], "contractId", path, &port.contract_id);
    std::vector<std::string> tags;
    r.TextList(items[i], "tags", path, &tags);
    r.CheckObjectList(items[i], "sbom", path, {"type", "url"}, {"url"});
    r.CheckObjectList(items[i], "inputContracts", path, {"id", "version"}, {"id", "version"});
    CheckExtras(r, items[i], path);
    product->output_ports.push_back(std::move(port));
  }
}

void ReadTeam(YamlReader& r, const YAML::Node& root, Product* product) {
  YAML::Node team = r.Find(root, "team");
  if (!team.IsDefined() || !r.ExpectMap(team, "team")) return;
  r.CheckKeys(team, "team", kTeamKeys, {});
  r.Text(team, "name", "team", &product->team_name);
  std::vector<std::string> tags;
  r.TextList(team, "tags", "team", &tags);
  CheckExtras(r, team, "team");
  std::vector<YAML::Node> members = r.List(team, "members", "team");
  for (size_t i = 0; i < members.size(); ++i) {
    std::string path = ItemPath("team.members", i);
    if (!r.ExpectMap(members[i], path)) continue;
    r.CheckKeys(members[i], path, kMemberKeys, {"username"});
    TeamMember member;
    r.Text(members[i], "username", path, &member.username);
    r.Text(members[i], "name", path, &member.name);
    r.Text(members[i], "role", path, &member.role);
    std::string unused;
    for (std::string_view key : {"description", "dateIn", "dateOut", "replacedByUsername"}) {
      r.Text(members[i], key, path, &unused);
    }
    r.TextList(members[i], "tags", path, &tags);
    CheckExtras(r, members[i], path);
    product->team.push_back(std::move(member));
  }
}

void ReadHeader(YamlReader& r, const YAML::Node& root, Product* product) {
  r.CheckKeys(root, "", kProductKeys, kProductRequired);
  if (r.Text(root, "apiVersion", "", &product->api_version) &&
      !Contains(kSupportedOdps, product->api_version)) {
    r.Report(r.ValueLocation(root, "apiVersion"), "apiVersion",
             "unsupported ODPS version '" + product->api_version +
                 "' (supported: " + JoinKeys(kSupportedOdps) + ")");
  }
  r.Enum(root, "kind", "", {"DataProduct"}, &product->kind);
  r.Text(root, "id", "", &product->id);
  r.Text(root, "name", "", &product->name);
  r.Text(root, "version", "", &product->version);
  r.Enum(root, "status", "", kStatuses, &product->status);
  r.Text(root, "domain", "", &product->domain);
  r.Text(root, "tenant", "", &product->tenant);
  std::string created;
  r.Text(root, "productCreatedTs", "", &created);
  r.TextList(root, "tags", "", &product->tags);
}

}  // namespace

Product ReadProduct(const YamlDocument& doc, std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  Product product;
  product.location = SourceLocation{doc.file, 1, 1};
  product.source_text = doc.text;
  if (!r.ExpectDocument(doc.root)) return product;
  ReadHeader(r, doc.root, &product);
  ReadDescription(r, doc.root, &product);
  ReadInputPorts(r, doc.root, &product);
  ReadOutputPorts(r, doc.root, &product);
  ReadTeam(r, doc.root, &product);
  CheckExtras(r, doc.root, "");
  r.CheckObjectList(doc.root, "managementPorts", "", kManagementPortKeys, {"name", "content"});
  r.CheckObjectList(doc.root, "support", "", kSupportKeys, {"channel", "url"});
  CheckValueFormats(r, doc.root, "odps");
  return product;
}

}  // namespace internal

Result<Product> ParseProductFile(const std::string& path, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::LoadYaml(path, sink));
  Product product = internal::ReadProduct(doc, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return product;
}

}  // namespace plexus::spec
