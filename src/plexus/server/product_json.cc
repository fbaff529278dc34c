#include "plexus/server/product_json.h"

#include "plexus/observe/trust.h"

#include <algorithm>

namespace plexus::server {
namespace address {
namespace {

/// A URL path segment: everything but RFC 3986's unreserved characters percent-encoded.
std::string Segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string ProductUrl(std::string_view product) {
  return "/api/v1/products/" + Segment(product);
}

std::string PortId(std::string_view product, std::string_view port) {
  return std::string(product) + "." + std::string(port);
}

std::string PortUrl(std::string_view product, std::string_view port) {
  return ProductUrl(product) + "/ports/" + Segment(port);
}

std::string VersionId(std::string_view product, std::string_view port, int major) {
  return PortId(product, port) + "@v" + std::to_string(major);
}

std::string VersionUrl(std::string_view product, std::string_view port, int major) {
  return PortUrl(product, port) + "/versions/" + std::to_string(major);
}

std::string ColumnId(std::string_view product, std::string_view port, std::string_view column) {
  return PortId(product, port) + "." + std::string(column);
}

std::string ColumnUrl(std::string_view product, std::string_view port, std::string_view column) {
  return PortUrl(product, port) + "/columns/" + Segment(column);
}

}  // namespace address

namespace {

using nlohmann::json;

std::string ProductName(const catalog::OutputPortRecord& o) { return o.domain + "." + o.product; }

json OrNull(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json ColumnsJson(const catalog::OutputPortRecord& o) {
  json columns = json::array();
  for (const auto& c : o.columns) columns.push_back(ColumnJson(o, c));
  return columns;
}

/// One entry of a product's output_ports: the port at one major. `id` and `self` name the
/// port, `version_id` and `version_self` this major.
json PortJson(const catalog::OutputPortRecord& o, bool with_columns) {
  std::string product = ProductName(o);
  json port = {{"id", address::PortId(product, o.name)},
               {"self", address::PortUrl(product, o.name)},
               {"version_id", address::VersionId(product, o.name, o.major)},
               {"version_self", address::VersionUrl(product, o.name, o.major)},
               {"name", o.name},
               {"sql_name", o.SqlName()},
               {"versioned_sql_name", o.SqlName() + "__v" + std::to_string(o.major)},
               {"version", o.version},
               {"major", o.major},
               {"status", o.status},
               {"contract_id", o.contract_id},
               {"contract_version", o.contract_version},
               {"rows", o.rows < 0 ? json(nullptr) : json(o.rows)},
               {"published_at", OrNull(o.published_at)}};
  if (with_columns) port["columns"] = ColumnsJson(o);
  return port;
}

}  // namespace

json ColumnJson(const catalog::OutputPortRecord& o, const catalog::ColumnRecord& c) {
  std::string product = ProductName(o);
  return {{"id", address::ColumnId(product, o.name, c.name)},
          {"self", address::ColumnUrl(product, o.name, c.name)},
          {"name", c.name},
          {"type", c.engine_type},
          {"logical_type", c.logical_type},
          {"required", c.required},
          {"primary_key", c.primary_key},
          {"unique", c.unique},
          {"classification", c.classification},
          {"business_name", c.business_name},
          {"description", c.description},
          {"terms", c.terms}};
}

json ProductSummaryJson(const catalog::ProductRecord& p) {
  json ports = json::array();
  for (const auto& o : p.outputs) ports.push_back(PortJson(o, false));
  return {{"id", p.id},
          {"self", address::ProductUrl(p.QualifiedName())},
          {"name", p.QualifiedName()},
          {"domain", p.domain},
          {"product", p.name},
          {"version", p.version},
          {"status", p.status},
          {"purpose", p.purpose},
          {"tags", p.tags},
          {"owners", p.owners},
          {"output_ports", ports}};
}

json ProductDetailJson(const catalog::ProductRecord& p,
                       const std::vector<catalog::RunRecord>& runs) {
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

std::vector<const catalog::OutputPortRecord*> PortMajors(const catalog::ProductRecord& product,
                                                         std::string_view port) {
  std::vector<const catalog::OutputPortRecord*> majors;
  for (const auto& o : product.outputs) {
    if (o.name == port) majors.push_back(&o);
  }
  std::sort(majors.begin(), majors.end(),
            [](const auto* a, const auto* b) { return a->major > b->major; });
  return majors;
}

const catalog::OutputPortRecord& ServedMajor(
    const std::vector<const catalog::OutputPortRecord*>& majors) {
  for (const auto* o : majors) {
    if (catalog::ServedStatus(*o) != "retired") return *o;
  }
  return *majors.front();
}

json PortDetailJson(const catalog::ProductRecord& product,
                    const std::vector<const catalog::OutputPortRecord*>& majors) {
  const catalog::OutputPortRecord& served = ServedMajor(majors);
  std::string name = product.QualifiedName();
  json versions = json::array();
  for (const auto* o : majors) {
    versions.push_back({{"id", address::VersionId(name, o->name, o->major)},
                        {"self", address::VersionUrl(name, o->name, o->major)},
                        {"major", o->major},
                        {"version", o->version},
                        {"status", catalog::ServedStatus(*o)},
                        {"sql_name", o->SqlName() + "__v" + std::to_string(o->major)}});
  }
  return {{"id", address::PortId(name, served.name)},
          {"self", address::PortUrl(name, served.name)},
          {"name", served.name},
          {"product", {{"id", product.id}, {"name", name}, {"self", address::ProductUrl(name)}}},
          {"description", served.description},
          {"sql_name", served.SqlName()},
          {"served_major", served.major},
          {"version", served.version},
          {"status", catalog::ServedStatus(served)},
          {"visibility", served.visibility},
          {"contract_id", served.contract_id},
          {"contract_version", served.contract_version},
          {"rows", served.rows < 0 ? json(nullptr) : json(served.rows)},
          {"published_at", OrNull(served.published_at)},
          {"columns", ColumnsJson(served)},
          {"versions", versions}};
}

json PortVersionJson(const catalog::ProductRecord& product, const catalog::PortVersionRecord& v,
                     const catalog::OutputPortRecord* port) {
  std::string name = product.QualifiedName();
  json out = {{"id", address::VersionId(name, v.port, v.major)},
              {"self", address::VersionUrl(name, v.port, v.major)},
              {"port", v.port},
              {"port_id", address::PortId(name, v.port)},
              {"port_self", address::PortUrl(name, v.port)},
              {"major", v.major},
              {"version", v.version},
              {"sql_name", name + "." + v.port + "__v" + std::to_string(v.major)},
              {"status", v.status},
              {"contract_id", v.contract_id},
              {"contract_version", v.contract_version},
              {"contract_status", v.contract_status},
              {"end_of_support", OrNull(v.end_of_support)},
              {"end_of_life", OrNull(v.end_of_life)},
              {"applied_at", v.applied_at}};
  if (port != nullptr) out["columns"] = ColumnsJson(*port);
  return out;
}

json ProductTrustJson(const catalog::Catalog& catalog, const std::string& product_id) {
  auto scores = catalog.ListTrustScores();
  if (!scores.ok()) return nullptr;
  for (const auto& t : *scores) {
    if (t.product_id == product_id) return observe::TrustScoreJson(t);
  }
  return nullptr;
}

}  // namespace plexus::server
