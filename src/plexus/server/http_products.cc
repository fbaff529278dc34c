// The products routes: what the CLI's products and show print, the contracts as applied and
// each port's versions. Only what the caller may see: a hidden product reads as unknown.
//   GET /api/v1/products                                 (paged)
//   GET /api/v1/products/{ref}                           (ref: id or domain.product)
//   GET /api/v1/products/{ref}/contracts                 (paged; ODCS YAML as applied)
//   GET /api/v1/products/{ref}/contracts/{id}            (?format=yaml: the text itself)
//   GET /api/v1/products/{ref}/versions                  (every applied major of every port)
#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
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

json VersionJson(const catalog::PortVersionRecord& v, const catalog::ProductRecord& product) {
  std::string sql_name = product.QualifiedName() + "." + v.port;
  return {{"port", v.port},
          {"major", v.major},
          {"version", v.version},
          {"sql_name", sql_name + "__v" + std::to_string(v.major)},
          {"status", v.status},
          {"contract_id", v.contract_id},
          {"contract_version", v.contract_version},
          {"contract_status", v.contract_status},
          {"end_of_support", v.end_of_support.empty() ? json(nullptr) : json(v.end_of_support)},
          {"end_of_life", v.end_of_life.empty() ? json(nullptr) : json(v.end_of_life)},
          {"applied_at", v.applied_at}};
}

/// Runs `then` with the product `{ref}` (the route's first capture) if the caller may see it.
template <typename Then>
void WithProduct(catalog::Catalog* catalog, access::QueryService* queries,
                 const httplib::Request& req, httplib::Response& res,
                 const access::Principal& principal, Then then) {
  auto policy = CurrentPolicy(*queries);
  if (!policy.ok()) return SendError(res, policy.status());
  auto product = VisibleProduct(*catalog, **policy, principal, req.matches[1].str());
  if (!product.ok()) return SendError(res, product.status());
  then(*product);
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

}  // namespace

void ProductRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/products", "The data products the caller may see, with their output ports",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto policy = CurrentPolicy(*queries);
               if (!policy.ok()) return SendError(res, policy.status());
               SendPage(req, res, VisibleProducts(*catalog, **policy, principal), "products",
                        ProductSummaryJson);
             })
      .Tag("products")
      .Paged();
  routes.Get("/api/v1/products/{ref}",
             "One data product (by id or domain.product): ports, columns, inputs, recent runs",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithProduct(catalog, queries, req, res, principal, [&](const auto& product) {
                 auto runs = catalog->ListRuns(product.id, 10);
                 if (!runs.ok()) return SendError(res, runs.status());
                 SendJson(res, ProductDetailJson(product, *runs));
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
                 SendPage(req, res, shown, "versions",
                          [&](const auto& v) { return VersionJson(v, product); });
               });
             })
      .Tag("products")
      .Paged();
}

}  // namespace plexus::server::internal
