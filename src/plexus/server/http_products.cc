// The products routes: what the CLI's products and show print, the contracts as applied and
// each port's versions. Only what the caller may see: a hidden product reads as unknown.
//   GET /api/v1/products                                 (paged)
//   GET /api/v1/products/{ref}                           (ref: id or domain.product)
//   GET /api/v1/products/{ref}/contracts                 (paged; ODCS YAML as applied)
//   GET /api/v1/products/{ref}/contracts/{id}            (?format=yaml: the text itself)
//   GET /api/v1/products/{ref}/versions                  (every applied major of every port)
//   GET /api/v1/products/{ref}/ports/{port}              (the served major, every major)
//   GET /api/v1/products/{ref}/ports/{port}/versions/{major}   (major: 2 or v2)
//   GET /api/v1/products/{ref}/ports/{port}/columns/{column}   (with its lineage, depth 1)
// Every object carries its `id` and `self` URL (the addressing scheme: product_json.h).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/discovery/lineage.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/server/product_json.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

json ContractJson(const catalog::ContractRecord& c) {
  return {{"id", c.id},         {"version", c.version}, {"status", c.status},
          {"applied_at", c.applied_at}, {"format", "odcs-yaml"}, {"source", c.source_text}};
}

/// Turns to null the upstream of each input port whose upstream port the caller may not see:
/// a hidden product is never named, not even as what a visible one reads.
Status HideUnseenUpstreams(const catalog::Catalog& catalog, access::QueryService& queries,
                           const access::Principal& principal,
                           const catalog::ProductRecord& product, json& detail) {
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  for (size_t i = 0; i < product.inputs.size(); i++) {
    const auto& in = product.inputs[i];
    if (in.upstream_product_id.empty()) continue;
    auto upstream = VisibleProduct(catalog, *policy, principal, in.upstream_product_id);
    bool seen = upstream.ok() && !PortMajors(*upstream, in.upstream_port).empty();
    if (!seen) detail["input_ports"][i]["upstream"] = nullptr;
  }
  return Status::OK();
}

/// The contracts of the ports the caller can see (a hidden port's contract is left out).
Result<std::vector<catalog::ContractRecord>> VisibleContracts(
    const catalog::Catalog& catalog, const catalog::ProductRecord& product) {
  PLEXUS_ASSIGN_OR_RETURN(auto contracts, catalog.ListContracts(product.id));
  std::vector<catalog::ContractRecord> out;
  for (auto& c : contracts) {
    bool shown = false;
    for (const auto& port : product.outputs) shown = shown || port.contract_id == c.id;
    for (const auto& in : product.inputs) shown = shown || in.contract_id == c.id;
    if (shown) out.push_back(std::move(c));
  }
  return out;
}

void ContractRoutes(RouteTable& routes, catalog::Catalog* catalog,
                    access::QueryService* queries) {
  routes.Get("/api/v1/products/{ref}/contracts", "The product's data contracts as applied (ODCS)",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 SendPage(req, res, VisibleContracts(*catalog, product), "contracts",
                          ContractJson);
               });
             })
      .Tag("products")
      .Paged();
  routes.Get("/api/v1/products/{ref}/contracts/{id}",
             "One data contract: JSON with its ODCS text, or ?format=yaml for the text as stored",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 auto contracts = VisibleContracts(*catalog, product);
                 if (!contracts.ok()) return SendError(res, contracts.status());
                 for (const auto& c : *contracts) {
                   if (c.id != req.matches[2].str()) continue;
                   std::string format = req.get_param_value("format");
                   if (format == "yaml") return res.set_content(c.source_text, "application/yaml");
                   if (!format.empty() && format != "json") {
                     return SendError(res, InvalidArgument("format must be json or yaml"));
                   }
                   return SendJson(res, ContractJson(c));
                 }
                 SendError(res, NotFound("no contract " + req.matches[2].str() + " in " +
                                         product.QualifiedName()));
               });
             })
      .Tag("products")
      .Query("format", "json (default) or yaml");
}

/// The names of the product's output ports, for a message ("a, b").
std::string PortNames(const catalog::ProductRecord& product) {
  std::string out;
  for (const auto& o : product.outputs) {
    if (out.empty() || (", " + out + ",").find(", " + o.name + ",") == std::string::npos) {
      out += (out.empty() ? "" : ", ") + o.name;
    }
  }
  return out;
}

/// The majors of port `{port}` (the route's second capture), newest first; kNotFound when the
/// product has no such port the caller may see (a hidden port reads as an unknown one).
Result<std::vector<const catalog::OutputPortRecord*>> RoutePort(
    const catalog::ProductRecord& product, const httplib::Request& req) {
  auto majors = PortMajors(product, req.matches[2].str());
  if (majors.empty()) {
    return NotFound("no output port " + req.matches[2].str() + " in " +
                    product.QualifiedName() + " (ports: " + PortNames(product) + ")");
  }
  return majors;
}

/// "2" or "v2"; kNotFound otherwise (a path segment that names no version).
Result<int> ReadMajor(std::string text) {
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.erase(0, 1);
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return NotFound("no version " + text + ": a version is its major, 2 or v2");
  }
  return std::stoi(text);
}

/// The mask the caller gets on the column when it reads the port, or null when it reads it
/// in clear (its own domain, a clear-for group, or no mask).
json MaskSeen(const access::Principal& principal, const catalog::OutputPortRecord& port,
              const catalog::ColumnRecord& column) {
  if (column.mask.empty() || principal.InDomain(port.domain) ||
      principal.HasAnyRole(column.mask_clear_for)) {
    return nullptr;
  }
  return column.mask;
}

/// The column's direct neighbours (depth 1) each way: [{id, self, input, direct}].
Result<json> ColumnLineageJson(const catalog::Catalog& catalog,
                               const std::vector<catalog::ProductRecord>& visible,
                               const discovery::LineageNodeRef& column) {
  PLEXUS_ASSIGN_OR_RETURN(auto graph, discovery::LineageGraph::Shared(catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto walk, graph->Walk(column, {discovery::LineageDirection::kBoth, 1},
                                                discovery::LineageScope::Of(visible)));
  json out = {{"upstream", json::array()}, {"downstream", json::array()}};
  for (const auto& link : walk.links) {
    bool up = link.direction == discovery::LineageDirection::kUpstream;
    const auto& far = up ? link.upstream : link.downstream;
    std::string self = far.column == "*" ? address::PortUrl(far.product, far.port)
                                         : address::ColumnUrl(far.product, far.port, far.column);
    out[up ? "upstream" : "downstream"].push_back(
        {{"id", far.Id()}, {"self", self}, {"input", link.input}, {"direct", link.direct}});
  }
  out["more"] = walk.truncated;
  return out;
}

/// The column `{column}` of port `{port}` of product `{ref}` as the caller sees it: the served
/// major's, else the newest major's that has it; kNotFound naming what exists.
Result<json> ColumnAnswer(const catalog::Catalog& catalog, access::QueryService& queries,
                          const access::Principal& principal, const httplib::Request& req) {
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  // Every visible product: the scope of the column's lineage.
  PLEXUS_ASSIGN_OR_RETURN(auto visible, VisibleProducts(catalog, *policy, principal));
  std::string ref = req.matches[1].str(), port = req.matches[2].str();
  std::string name = req.matches[3].str();
  auto product = std::find_if(visible.begin(), visible.end(), [&](const auto& p) {
    return p.id == ref || p.QualifiedName() == ref;
  });
  if (product == visible.end()) {
    return NotFound("unknown data product " + ref + " (see /api/v1/products)");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto majors, RoutePort(*product, req));
  std::vector<const catalog::OutputPortRecord*> order{&ServedMajor(majors)};
  order.insert(order.end(), majors.begin(), majors.end());
  for (const auto* o : order) {
    for (const auto& c : o->columns) {
      if (c.name != name) continue;
      std::string qualified = product->QualifiedName();
      json body = ColumnJson(*o, c);
      body["port"] = {{"id", address::PortId(qualified, o->name)},
                      {"self", address::PortUrl(qualified, o->name)},
                      {"major", o->major}};
      body["product"] = {
          {"id", product->id}, {"name", qualified}, {"self", address::ProductUrl(qualified)}};
      body["mask"] = MaskSeen(principal, *o, c);
      PLEXUS_ASSIGN_OR_RETURN(body["lineage"],
                              ColumnLineageJson(catalog, visible, {qualified, o->name, c.name}));
      return body;
    }
  }
  auto missing = discovery::ResolveColumn(*product, port + "." + name);
  return missing.ok() ? NotFound("no column " + name) : missing.status();
}

void PortRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/products/{ref}/ports/{port}",
             "One output port: the major its SQL name serves, its columns, every major",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 auto majors = RoutePort(product, req);
                 if (!majors.ok()) return SendError(res, majors.status());
                 SendJson(res, PortDetailJson(product, *majors));
               });
             })
      .Tag("products");
  routes.Get("/api/v1/products/{ref}/ports/{port}/versions/{major}",
             "One major of an output port (2 or v2): its lifecycle, contract and columns",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 auto majors = RoutePort(product, req);
                 if (!majors.ok()) return SendError(res, majors.status());
                 auto major = ReadMajor(req.matches[3].str());
                 if (!major.ok()) return SendError(res, major.status());
                 auto versions = catalog->ListPortVersions(product.id);
                 if (!versions.ok()) return SendError(res, versions.status());
                 const catalog::OutputPortRecord* port = nullptr;
                 for (const auto* o : *majors) {
                   if (o->major == *major) port = o;
                 }
                 for (const auto& v : *versions) {
                   if (v.port == req.matches[2].str() && v.major == *major) {
                     return SendJson(res, PortVersionJson(product, v, port));
                   }
                 }
                 SendError(res, NotFound("no major " + std::to_string(*major) + " of " +
                                         address::PortId(product.QualifiedName(),
                                                         req.matches[2].str())));
               });
             })
      .Tag("products");
  routes.Get("/api/v1/products/{ref}/ports/{port}/columns/{column}",
             "One column of an output port: type, classification, business name, glossary "
             "terms, the mask the caller gets, and what it reads and what reads it (depth 1)",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto column = ColumnAnswer(*catalog, *queries, principal, req);
               if (!column.ok()) return SendError(res, column.status());
               SendJson(res, *column);
             })
      .Tag("products");
}

/// One page of the products `principal` may see, by domain and name: visibility comes
/// before paging (a page says nothing of hidden products), and no column is read.
void SendProductPage(const httplib::Request& req, httplib::Response& res,
                     const catalog::Catalog& catalog, const access::AccessPolicy& policy,
                     const access::Principal& principal) {
  auto page = ReadPage(req);
  if (!page.ok()) return SendError(res, page.status());
  json list = json::array();
  size_t seen = 0;
  bool more = false;
  Status read = catalog.ForEachProductSummary([&](catalog::ProductRecord&& product) {
    auto visible = policy.Visible(principal, std::move(product));
    if (!visible.ok() || seen++ < page->offset) return true;
    if (list.size() == page->limit) {
      more = true;
      return false;
    }
    list.push_back(ProductSummaryJson(*visible));
    return true;
  });
  if (!read.ok()) return SendError(res, read);
  json body = {{"products", std::move(list)}};
  AddNextLink(req, *page, more, body);
  SendJson(res, body);
}

}  // namespace

void ProductRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/products", "The data products the caller may see, with their output ports",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto policy = CurrentPolicy(*queries);
               if (!policy.ok()) return SendError(res, policy.status());
               SendProductPage(req, res, *catalog, **policy, principal);
             })
      .Tag("products")
      .Paged();
  routes.Get("/api/v1/products/{ref}",
             "One data product (by id or domain.product): ports, columns, inputs, recent runs",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 auto runs = catalog->ListRuns(product.id, 10);
                 if (!runs.ok()) return SendError(res, runs.status());
                 json detail = ProductDetailJson(product, *runs);
                 detail["trust"] = ProductTrustJson(*catalog, product.id);  // issue 9
                 auto shown = HideUnseenUpstreams(*catalog, *queries, principal, product, detail);
                 if (!shown.ok()) return SendError(res, shown);
                 SendJson(res, detail);
               });
             })
      .Tag("products");
  ContractRoutes(routes, catalog, queries);
  routes.Get("/api/v1/products/{ref}/versions",
             "Every applied major of the product's output ports, with its lifecycle",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 auto versions = catalog->ListPortVersions(product.id);
                 if (!versions.ok()) return SendError(res, versions.status());
                 std::vector<catalog::PortVersionRecord> shown;
                 for (auto& v : *versions) {
                   for (const auto& port : product.outputs) {
                     if (port.name == v.port) {
                       shown.push_back(std::move(v));
                       break;
                     }
                   }
                 }
                 SendPage(req, res, shown, "versions", [&](const auto& v) {
                   return PortVersionJson(product, v, nullptr);
                 });
               });
             })
      .Tag("products")
      .Paged();
  PortRoutes(routes, catalog, queries);
}

}  // namespace plexus::server::internal
