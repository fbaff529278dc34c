// File: plexus/spec/parse_contract.cc
//
// ODCS contract files (v3.1.0; v3.0.x accepted): the top level, description, team, schema
// objects and their properties, after odcs-json-schema-v3.1.0.json. Quality rules,
// relationships, servers and SLAs are checked in parse_contract_rules.cc.
#include "plexus/spec/format_internal.h"
#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {
namespace internal {
namespace {

const KeyList kContractKeys = {
    "version",       "kind",        "apiVersion",       "id",
    "name",          "tenant",      "tags",             "status",
    "servers",       "dataProduct", "description",      "domain",
    "schema",        "support",     "price",            "team",
    "roles",         "slaDefaultElement", "slaProperties", "authoritativeDefinitions",
    "customProperties", "contractCreatedTs"};
const KeyList kContractRequired = {"version", "apiVersion", "kind", "id", "status"};
const KeyList kSupportedOdcs = {"v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0"};
const KeyList kSchemaObjectKeys = {
    "id",   "name",       "physicalType", "description", "businessName", "authoritativeDefinitions",
    "tags", "customProperties", "logicalType", "physicalName", "dataGranularityDescription",
    "properties", "relationships", "quality"};
const KeyList kPropertyKeys = {
    "id",           "name",        "physicalType",      "description",     "businessName",
    "authoritativeDefinitions",    "tags",              "customProperties", "primaryKey",
    "primaryKeyPosition",          "logicalType",       "logicalTypeOptions", "physicalName",
    "required",     "unique",      "partitioned",       "partitionKeyPosition", "classification",
    "encryptedName", "transformSourceObjects", "transformLogic", "transformDescription",
    "examples",     "criticalDataElement", "relationships", "quality", "properties", "items"};
/// ODCS v3.1.0's logical types, for every version: the v3.0.x schemas lack timestamp and time,
/// but the official examples use them with v3.0.2.
const KeyList kLogicalTypes = {"string", "date",   "timestamp", "time",   "number",
                               "integer", "object", "array",     "boolean"};
const KeyList kTeamKeys = {"id", "name", "description", "members", "tags", "customProperties",
                           "authoritativeDefinitions"};
const KeyList kMemberKeys = {"id", "username", "name", "description", "role", "dateIn", "dateOut",
                             "replacedByUsername", "tags", "customProperties",
                             "authoritativeDefinitions"};
const KeyList kRoleKeys = {"id", "role", "description", "access", "firstLevelApprovers",
                           "secondLevelApprovers", "customProperties"};
const KeyList kSupportKeys = {"id", "channel", "url", "description", "tool", "scope",
                              "invitationUrl", "customProperties"};
const KeyList kPriceKeys = {"id", "priceAmount", "priceCurrency", "priceUnit"};

/// The keys logicalTypeOptions may hold for each logical type.
KeyList OptionKeys(const std::string& logical_type) {
  if (logical_type == "string") return {"minLength", "maxLength", "pattern", "format"};
  if (logical_type == "date") {
    return {"format", "exclusiveMaximum", "maximum", "exclusiveMinimum", "minimum"};
  }
  if (logical_type == "timestamp" || logical_type == "time") {
    return {"format", "exclusiveMaximum", "maximum", "exclusiveMinimum", "minimum", "timezone",
            "defaultTimezone"};
  }
  if (logical_type == "integer" || logical_type == "number") {
    return {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "format"};
  }
  if (logical_type == "object") return {"maxProperties", "minProperties", "required"};
  if (logical_type == "array") return {"maxItems", "minItems", "uniqueItems"};
  return {};
}

struct ContractContext {
  YamlReader& r;
  bool v31;  ///< apiVersion v3.1.0 (or unknown): the strictest rules apply
};

void CheckExtras(YamlReader& r, const YAML::Node& map, const std::string& path) {
  r.CheckObjectList(map, "customProperties", path, kCustomPropertyKeys, kCustomPropertyRequired);
  r.CheckObjectList(map, "authoritativeDefinitions", path, kAuthoritativeDefinitionKeys,
                    kAuthoritativeDefinitionRequired);
}

void ReadProperty(ContractContext& c, const YAML::Node& node, const std::string& path,
                  bool is_item, Property* out);

/// A property's authoritativeDefinitions, into the model (CheckExtras reports their shape):
/// the glossary links of the column (glossary.h).
void ReadAuthoritativeDefinitions(YamlReader& r, const YAML::Node& map,
                                  std::vector<AuthoritativeDefinition>* out) {
  YAML::Node list = r.Find(map, "authoritativeDefinitions");
  if (!list.IsDefined() || !list.IsSequence()) return;
  for (const YAML::Node& item : list) {
    if (!item.IsMap()) continue;
    auto text = [&item](const char* key) {
      YAML::Node value = item[key];
      return value && value.IsScalar() ? value.Scalar() : std::string();
    };
    out->push_back(AuthoritativeDefinition{text("url"), text("type"), text("description"),
                                           r.ValueLocation(item, "url")});
  }
}

/// The customProperties Plexus's access layer acts on: `visibility`, `rowFilter` and
/// `rowFilterExempt` on the contract (`contract` set), `mask` on a property (`property` set).
/// Other custom properties are left to their tools.
void ReadAccessProperties(YamlReader& r, const YAML::Node& map, const std::string& path,
                          Contract* contract, Property* property) {
  YAML::Node list = r.Find(map, "customProperties");
  if (!list.IsDefined() || !list.IsSequence()) return;  // CheckExtras reports the shape
  std::string list_path = FieldPath(path, "customProperties");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& item = list[i];
    std::string name;
    if (!item.IsMap() || !item["property"] || !item["property"].IsScalar()) continue;
    name = item["property"].Scalar();
    std::string field = FieldPath(list_path, name);
    std::string item_path = ItemPath(list_path, i);
    if (contract != nullptr && name == "rowFilterExempt") {
      r.TextList(item, "value", item_path, &contract->row_filter_exempt);
      continue;
    }
    std::string* out = nullptr;
    if (contract != nullptr && name == "visibility") out = &contract->visibility;
    if (contract != nullptr && name == "rowFilter") out = &contract->row_filter;
    if (property != nullptr && name == "mask") out = &property->mask;
    if (out == nullptr) continue;
    if (!r.NonEmptyText(item, "value", item_path, out)) continue;
    if (contract != nullptr && name == "rowFilter") {
      contract->row_filter_location = r.ValueLocation(item, "value");
    }
    if (contract != nullptr && name == "visibility" &&
        !Contains({"public", "restricted", "private"}, *out)) {
      r.Report(r.ValueLocation(item, "value"), field,
               "visibility must be one of public, restricted, private (not '" + *out + "')");
    }
  }
}

/// The parts of a property that depend on its logical type: options, nested properties, items.
void ReadTypeDetails(ContractContext& c, const YAML::Node& node, const std::string& path,
                     const std::string& logical_type) {
  YamlReader& r = c.r;
  YAML::Node options = r.Find(node, "logicalTypeOptions");
  std::string options_path = FieldPath(path, "logicalTypeOptions");
  if (options.IsDefined() && r.ExpectMap(options, options_path) && !logical_type.empty()) {
    r.CheckKeys(options, options_path, OptionKeys(logical_type), {});
  }
  std::vector<YAML::Node> nested = r.List(node, "properties", path);
  if (!nested.empty() && logical_type != "object" && !logical_type.empty()) {
    r.Report(r.ValueLocation(node, "properties"), FieldPath(path, "properties"),
             "only a property of logicalType object may have properties");
  }
  for (size_t i = 0; i < nested.size(); ++i) {
    Property unused;
    ReadProperty(c, nested[i], ItemPath(FieldPath(path, "properties"), i), false, &unused);
  }
  YAML::Node items = r.Find(node, "items");
  if (!items.IsDefined()) return;
  if (logical_type != "array" && !logical_type.empty()) {
    r.Report(r.ValueLocation(node, "items"), FieldPath(path, "items"),
             "only a property of logicalType array may have items");
  }
  Property unused;
  ReadProperty(c, items, FieldPath(path, "items"), true, &unused);
}

void ReadProperty(ContractContext& c, const YAML::Node& node, const std::string& path,
                  bool is_item, Property* out) {
  YamlReader& r = c.r;
  if (!r.ExpectMap(node, path)) return;
  r.CheckKeys(node, path, kPropertyKeys, is_item ? KeyList{} : KeyList{"name"});
  out->location = r.LocationOf(node);
  r.Text(node, "name", path, &out->name);
  r.Text(node, "businessName", path, &out->business_name);
  r.Text(node, "description", path, &out->description);
  r.Enum(node, "logicalType", path, kLogicalTypes, &out->logical_type);
  r.NonEmptyText(node, "physicalType", path, &out->physical_type);
  r.Bool(node, "required", path, &out->required);
  r.Bool(node, "primaryKey", path, &out->primary_key);
  r.Int(node, "primaryKeyPosition", path, &out->primary_key_position);
  r.Bool(node, "unique", path, &out->unique);
  r.Text(node, "classification", path, &out->classification);
  r.TextList(node, "tags", path, &out->tags);
  if (!is_item) ReadAccessProperties(r, node, path, nullptr, out);
  bool flag = false;
  int position = 0;
  std::string text;
  r.Bool(node, "partitioned", path, &flag);
  r.Bool(node, "criticalDataElement", path, &flag);
  r.Int(node, "partitionKeyPosition", path, &position);
  for (std::string_view key : {"id", "physicalName", "encryptedName", "transformLogic",
                               "transformDescription"}) {
    r.Text(node, key, path, &text);
  }
  std::vector<std::string> sources;
  r.TextList(node, "transformSourceObjects", path, &sources);
  r.List(node, "examples", path);
  CheckExtras(r, node, path);
  ReadAuthoritativeDefinitions(r, node, &out->authoritative_definitions);
  ReadTypeDetails(c, node, path, out->logical_type);
  CheckRelationships(r, node, path, /*property_level=*/true);
  CheckQualityList(r, node, path, c.v31, &out->quality, out->name);
}

void ReadSchemaObject(ContractContext& c, const YAML::Node& node, const std::string& path,
                      SchemaObject* out) {
  YamlReader& r = c.r;
  r.CheckKeys(node, path, kSchemaObjectKeys, {"name"});
  out->location = r.LocationOf(node);
  r.Text(node, "name", path, &out->name);
  r.Text(node, "physicalName", path, &out->physical_name);
  r.Text(node, "description", path, &out->description);
  std::string text;
  r.Enum(node, "logicalType", path, {"object"}, &text);
  for (std::string_view key :
       {"id", "physicalType", "businessName", "dataGranularityDescription"}) {
    r.Text(node, key, path, &text);
  }
  std::vector<std::string> tags;
  r.TextList(node, "tags", path, &tags);
  CheckExtras(r, node, path);
  std::vector<YAML::Node> properties = r.List(node, "properties", path);
  for (size_t i = 0; i < properties.size(); ++i) {
    Property property;
    ReadProperty(c, properties[i], ItemPath(FieldPath(path, "properties"), i), false, &property);
    out->properties.push_back(std::move(property));
  }
  CheckRelationships(r, node, path, /*property_level=*/false);
  CheckQualityList(r, node, path, c.v31, &out->quality);
}

void ReadTeam(YamlReader& r, const YAML::Node& root) {
  YAML::Node team = r.Find(root, "team");
  if (!team.IsDefined()) return;
  if (team.IsSequence()) {  // deprecated before v3.1.0: a list of members
    r.CheckObjectList(root, "team", "", kMemberKeys, {"username"});
    return;
  }
  if (!r.ExpectMap(team, "team")) return;
  r.CheckKeys(team, "team", kTeamKeys, {});
  std::string text;
  r.Text(team, "name", "team", &text);
  r.CheckObjectList(team, "members", "team", kMemberKeys, {"username"});
  CheckExtras(r, team, "team");
}

void ReadDescription(YamlReader& r, const YAML::Node& root, Contract* contract) {
  YAML::Node node = r.Find(root, "description");
  if (!node.IsDefined() || !r.ExpectMap(node, "description")) return;
  r.Text(node, "purpose", "description", &contract->description);
  std::string text;
  r.Text(node, "usage", "description", &text);
  r.Text(node, "limitations", "description", &text);
  CheckExtras(r, node, "description");
}

void ReadHeader(YamlReader& r, const YAML::Node& root, Contract* contract) {
  r.CheckKeys(root, "", kContractKeys, kContractRequired);
  if (r.Text(root, "apiVersion", "", &contract->api_version) &&
      !Contains(kSupportedOdcs, contract->api_version)) {
    r.Report(r.ValueLocation(root, "apiVersion"), "apiVersion",
             "unsupported ODCS version '" + contract->api_version +
                 "' (supported: " + JoinKeys(kSupportedOdcs) + ")");
  }
  r.Enum(root, "kind", "", {"DataContract"}, &contract->kind);
  r.Text(root, "id", "", &contract->id);
  r.Text(root, "name", "", &contract->name);
  r.Text(root, "version", "", &contract->version);
  // ODCS lists statuses as examples only (the official examples use 'production', 'in
  // development'...): any text parses; ValidateMesh holds a mesh's contracts to kStatuses.
  r.NonEmptyText(root, "status", "", &contract->status);
  r.Text(root, "domain", "", &contract->domain);
  r.Text(root, "dataProduct", "", &contract->data_product);
  r.TextList(root, "tags", "", &contract->tags);
  ReadAccessProperties(r, root, "", contract, nullptr);
  std::string text;
  for (std::string_view key : {"tenant", "slaDefaultElement", "contractCreatedTs"}) {
    r.Text(root, key, "", &text);
  }
}

void ReadOtherSections(YamlReader& r, const YAML::Node& root, Contract* contract) {
  ReadTeam(r, root);
  CheckExtras(r, root, "");
  r.CheckObjectList(root, "roles", "", kRoleKeys, {"role"});
  r.CheckObjectList(root, "support", "", kSupportKeys, {"channel"});
  YAML::Node price = r.Find(root, "price");
  if (price.IsDefined() && r.ExpectMap(price, "price")) {
    r.CheckKeys(price, "price", kPriceKeys, {});
    r.Number(price, "priceAmount", "price");
  }
  CheckServers(r, root);
  CheckSlaProperties(r, root, &contract->sla);
}

}  // namespace

Contract ReadContract(const YamlDocument& doc, std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  Contract contract;
  contract.location = SourceLocation{doc.file, 1, 1};
  contract.source_text = doc.text;
  if (!r.ExpectDocument(doc.root)) return contract;
  ReadHeader(r, doc.root, &contract);
  ReadDescription(r, doc.root, &contract);
  ContractContext c{r, contract.api_version.rfind("v3.0.", 0) != 0};
  std::vector<YAML::Node> objects = r.List(doc.root, "schema", "");
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string path = ItemPath("schema", i);
    if (!r.ExpectMap(objects[i], path)) continue;
    SchemaObject object;
    ReadSchemaObject(c, objects[i], path, &object);
    contract.schema.push_back(std::move(object));
  }
  ReadOtherSections(r, doc.root, &contract);
  CheckValueFormats(r, doc.root, "odcs");
  return contract;
}

}  // namespace internal

Result<Contract> ParseContractFile(const std::string& path, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::LoadYaml(path, sink));
  Contract contract = internal::ReadContract(doc, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return contract;
}

}  // namespace plexus::spec
