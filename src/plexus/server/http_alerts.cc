// Alerts (issue 9):
//   GET /api/v1/alerts[?status=firing|resolved|all][&product=]   newest first (paged)
// A mesh admin sees every alert; anyone else only the alerts of products they may see (an
// alert of a hidden product is left out as if it did not exist; ?product= of a hidden one is
// 404 like every product route).
#include <set>

#include <nlohmann/json.hpp>

#include "plexus/observe/alerts.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {
namespace {

/// The alerts the principal may see: every one for an admin, else those of visible products.
Result<std::vector<catalog::AlertRecord>> VisibleAlerts(catalog::Catalog& catalog,
                                                        access::QueryService& queries,
                                                        const access::Principal& principal,
                                                        const std::string& status,
                                                        const std::string& product_ref) {
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  std::string only;
  if (!product_ref.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(auto p, VisibleProduct(catalog, *policy, principal, product_ref));
    only = p.QualifiedName();
  }
  std::set<std::string> visible;
  if (!principal.admin) {
    PLEXUS_ASSIGN_OR_RETURN(auto products, VisibleProducts(catalog, *policy, principal));
    for (const auto& p : products) visible.insert(p.QualifiedName());
  }
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog.ListAlerts(status, 0));
  std::vector<catalog::AlertRecord> shown;
  for (auto& a : all) {
    if (!only.empty() && a.product != only) continue;
    if (!principal.admin && !visible.count(a.product)) continue;
    shown.push_back(std::move(a));
  }
  return shown;
}

}  // namespace

void AlertRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/alerts", "Alerts (firing and resolved) of the products the caller may see",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               std::string status = req.has_param("status") ? req.get_param_value("status") : "";
               if (status == "all") status.clear();
               if (!status.empty() && status != "firing" && status != "resolved") {
                 return SendError(res, InvalidArgument("status must be firing, resolved or all"));
               }
               std::string product = req.has_param("product") ? req.get_param_value("product")
                                                              : "";
               auto alerts = VisibleAlerts(*catalog, *queries, principal, status, product);
               if (!alerts.ok()) return SendError(res, alerts.status());
               SendPage(req, res, *alerts, "alerts", observe::AlertJson);
             })
      .Tag("alerts")
      .Paged()
      .Query("status", "firing, resolved or all (the default)")
      .Query("product", "domain.product or id: only its alerts");
}

}  // namespace plexus::server::internal
