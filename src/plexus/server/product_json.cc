#include "plexus/server/product_json.h"

namespace plexus::server {
namespace {

using nlohmann::json;

json PortJson(const catalog::OutputPortRecord& o, bool with_columns) {
  json port = {{"name", o.name},
               {"sql_name", o.SqlName()},
               {"versioned_sql_name", o.SqlName() + "__v" + std::to_string(o.major)},
               {"version", o.version},
               {"major", o.major},
               {"status", o.status},
               {"contract_id", o.contract_id},
               {"contract_version", o.contract_version},
               {"rows", o.rows < 0 ? json(nullptr) : json(o.rows)},
               {"published_at", o.published_at.empty() ? json(nullptr) : json(o.published_at)}};
  if (with_columns) {
    json columns = json::array();
    for (const auto& c : o.columns) {
      columns.push_back({{"name", c.name},
                         {"type", c.engine_type},
                         {"logical_type", c.logical_type},
                         {"required", c.required},
                         {"primary_key", c.primary_key},
                         {"unique", c.unique},
                         {"classification", c.classification},
                         {"business_name", c.business_name},
                         {"description", c.description}});
    }
    port["columns"] = columns;
  }
  return port;
}

}  // namespace

json ProductSummaryJson(const catalog::ProductRecord& p) {
  json ports = json::array();
  for (const auto& o : p.outputs) ports.push_back(PortJson(o, false));
  return {{"id", p.id},          {"name", p.QualifiedName()}, {"domain", p.domain},
          {"product", p.name},   {"version", p.version},      {"status", p.status},
          {"purpose", p.purpose}, {"tags", p.tags},           {"owners", p.owners},
          {"output_ports", ports}};
}

json ProductDetailJson(const catalog::ProductRecord& p, const std::vector<catalog::RunRecord>& runs) {
  json detail = ProductSummaryJson(p);
  json ports = json::array();
  for (const auto& o : p.outputs) ports.push_back(PortJson(o, true));
  detail["output_ports"] = ports;
  json inputs = json::array();
  for (const auto& in : p.inputs) {
    inputs.push_back({{"name", in.name},
                      {"version", in.version},
                      {"contract_id", in.contract_id},
                      {"upstream", in.upstream_domain.empty()
                                       ? json(nullptr)
                                       : json(in.upstream_domain + "." + in.upstream_product +
                                              "." + in.upstream_port)}});
  }
  detail["input_ports"] = inputs;
  detail["usage"] = p.usage;
  detail["team"] = p.team_name;
  detail["applied_at"] = p.applied_at;
  json run_list = json::array();
  for (const auto& r : runs) {
    run_list.push_back({{"id", r.id},
                        {"started_at", r.started_at},
                        {"finished_at", r.finished_at},
                        {"status", r.status},
                        {"reason", r.reason},
                        {"rows", r.rows}});
  }
  detail["runs"] = run_list;
  return detail;
}

}  // namespace plexus::server
