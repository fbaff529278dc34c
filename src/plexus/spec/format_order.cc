// File: plexus/spec/format_order.cc
//
// The canonical key order of `plexus fmt`: for each object of ODCS v3.1.0 and ODPS v1.0.0, the
// order in which the standard lists its fields, and which object each field holds.
#include "plexus/spec/format_internal.h"

namespace plexus::spec::internal {
namespace {

struct ObjectOrder {
  std::string_view object;
  KeyList keys;
};

const std::vector<ObjectOrder>& Orders() {
  static const std::vector<ObjectOrder> kOrders = {
      {"odcs",
       {"apiVersion", "kind", "id", "name", "version", "status", "tenant", "domain",
        "dataProduct", "authoritativeDefinitions", "description", "tags", "schema", "support",
        "price", "team", "roles", "slaDefaultElement", "slaProperties", "servers",
        "customProperties", "contractCreatedTs"}},
      {"odcs.description",
       {"purpose", "limitations", "usage", "authoritativeDefinitions", "customProperties"}},
      {"odcs.schema",
       {"id", "name", "physicalName", "physicalType", "logicalType", "businessName",
        "description", "dataGranularityDescription", "tags", "authoritativeDefinitions",
        "properties", "relationships", "quality", "customProperties"}},
      {"odcs.property",
       {"id", "name", "physicalName", "physicalType", "logicalType", "logicalTypeOptions",
        "businessName", "description", "required", "unique", "primaryKey",
        "primaryKeyPosition", "partitioned", "partitionKeyPosition", "classification",
        "criticalDataElement", "encryptedName", "transformSourceObjects", "transformLogic",
        "transformDescription", "examples", "tags", "authoritativeDefinitions",
        "relationships", "quality", "properties", "items", "customProperties"}},
      {"quality",
       {"id", "name", "description", "type", "dimension", "metric", "rule", "arguments",
        "query", "engine", "implementation", "mustBe", "mustNotBe", "mustBeGreaterThan",
        "mustBeGreaterOrEqualTo", "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween",
        "mustNotBeBetween", "unit", "validValues", "severity", "businessImpact", "method",
        "schedule", "scheduler", "tags", "authoritativeDefinitions", "customProperties"}},
      {"server",
       {"id", "server", "type", "description", "environment", "format", "location", "host",
        "port", "account", "project", "dataset", "catalog", "database", "schema",
        "serviceName", "stagingDir", "warehouse", "path", "delimiter", "endpointUrl",
        "regionName", "region", "roles", "customProperties"}},
      {"team",
       {"id", "name", "description", "members", "tags", "customProperties",
        "authoritativeDefinitions"}},
      {"member",
       {"id", "username", "name", "description", "role", "dateIn", "dateOut",
        "replacedByUsername", "tags", "customProperties", "authoritativeDefinitions"}},
      {"role",
       {"id", "role", "description", "access", "firstLevelApprovers", "secondLevelApprovers",
        "customProperties"}},
      {"support",
       {"id", "channel", "url", "description", "tool", "scope", "invitationUrl", "tags",
        "customProperties", "authoritativeDefinitions"}},
      {"price", {"id", "priceAmount", "priceCurrency", "priceUnit"}},
      {"sla",
       {"id", "property", "value", "valueExt", "unit", "element", "driver", "scheduler",
        "schedule", "description"}},
      {"relationship", {"type", "from", "to", "customProperties"}},
      {"customProperty", {"id", "property", "value", "description"}},
      {"authoritativeDefinition", {"id", "type", "url", "description"}},
      {"odps",
       {"apiVersion", "kind", "id", "name", "version", "status", "domain", "tenant",
        "authoritativeDefinitions", "description", "customProperties", "tags", "inputPorts",
        "outputPorts", "managementPorts", "support", "team", "productCreatedTs"}},
      {"odps.description",
       {"purpose", "limitations", "usage", "authoritativeDefinitions", "customProperties"}},
      {"odps.inputPort",
       {"name", "version", "contractId", "tags", "customProperties",
        "authoritativeDefinitions"}},
      {"odps.outputPort",
       {"name", "description", "type", "version", "contractId", "sbom", "inputContracts",
        "tags", "customProperties", "authoritativeDefinitions"}},
      {"odps.managementPort",
       {"name", "content", "type", "url", "channel", "description", "tags",
        "customProperties", "authoritativeDefinitions"}},
      {"sbom", {"type", "url"}},
      {"inputContract", {"id", "version"}},
  };
  return kOrders;
}

struct Edge {
  std::string_view parent;  ///< empty: any object
  std::string_view key;
  std::string_view child;
};

const std::vector<Edge>& Edges() {
  static const std::vector<Edge> kEdges = {
      {"", "customProperties", "customProperty"},
      {"", "authoritativeDefinitions", "authoritativeDefinition"},
      {"", "quality", "quality"},
      {"", "relationships", "relationship"},
      {"odcs", "description", "odcs.description"},
      {"odcs", "schema", "odcs.schema"},
      {"odcs", "support", "support"},
      {"odcs", "price", "price"},
      {"odcs", "team", "team"},
      {"odcs", "roles", "role"},
      {"odcs", "slaProperties", "sla"},
      {"odcs", "servers", "server"},
      {"odcs.schema", "properties", "odcs.property"},
      {"odcs.property", "properties", "odcs.property"},
      {"odcs.property", "items", "odcs.property"},
      {"team", "members", "member"},
      {"odps", "description", "odps.description"},
      {"odps", "inputPorts", "odps.inputPort"},
      {"odps", "outputPorts", "odps.outputPort"},
      {"odps", "managementPorts", "odps.managementPort"},
      {"odps", "support", "support"},
      {"odps", "team", "team"},
      {"odps.outputPort", "sbom", "sbom"},
      {"odps.outputPort", "inputContracts", "inputContract"},
  };
  return kEdges;
}

}  // namespace

const KeyList* KeyOrderOf(std::string_view object) {
  for (const ObjectOrder& order : Orders()) {
    if (order.object == object) return &order.keys;
  }
  return nullptr;
}

std::string_view ObjectUnder(std::string_view parent, std::string_view key, bool is_list) {
  if (parent.empty()) return "";
  // Before v3.1.0 an ODCS team was a list of members.
  if (parent == "odcs" && key == "team" && is_list) return "member";
  for (const Edge& edge : Edges()) {
    if ((edge.parent.empty() || edge.parent == parent) && edge.key == key) return edge.child;
  }
  return "";
}

}  // namespace plexus::spec::internal
