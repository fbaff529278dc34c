// Observability routes (issue 9), docs/metrics.md:
//   GET /metrics                          the mesh's metrics, Prometheus text format 0.0.4:
//                                         mesh admins and the group `monitoring` (bearer token)
//   GET /api/v1/products/{ref}/metrics    a product's last run per port and step, and its
//                                         history (?since=, ?run=); visibility as the other
//                                         product routes (a product one may not see is 404)
#include <algorithm>

#include "plexus/observe/metrics.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {
namespace {

/// The group whose members may scrape /metrics besides mesh admins.
constexpr const char* kMonitoringGroup = "monitoring";

bool MayScrape(const access::Principal& principal) {
  return principal.admin || std::find(principal.groups.begin(), principal.groups.end(),
                                      kMonitoringGroup) != principal.groups.end();
}

/// ?run=N: 0 when absent; kInvalidArgument when not a number.
Result<int64_t> RunParam(const httplib::Request& req) {
  std::string text = req.get_param_value("run");
  if (text.empty()) return int64_t{0};
  if (text.find_first_not_of("0123456789") != std::string::npos || text.size() > 18) {
    return InvalidArgument("run must be a number");
  }
  return std::stoll(text);
}

void ProductMetrics(catalog::Catalog* catalog, access::QueryService* queries,
                    const httplib::Request& req, httplib::Response& res,
                    const access::Principal& principal) {
  WithProduct(catalog, queries, req, res, principal, [&](const catalog::ProductRecord& product) {
    auto run = RunParam(req);
    if (!run.ok()) return SendError(res, run.status());
    auto body = observe::ProductMetricsJson(*catalog, product, *run, req.get_param_value("since"));
    if (!body.ok()) return SendError(res, body.status());
    SendJson(res, *body);
  });
}

}  // namespace

void MetricsRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/metrics",
             "The mesh's metrics in the Prometheus text format (mesh admins and the group "
             "monitoring)",
             [catalog](const auto&, auto& res, const auto& principal) {
               if (!MayScrape(principal)) {
                 return SendError(res, PermissionDenied(
                                           "/metrics is for mesh admins and the group " +
                                           std::string(kMonitoringGroup)));
               }
               auto text = observe::RenderPrometheus(*catalog, observe::CurrentSinkStats());
               if (!text.ok()) return SendError(res, text.status());
               res.set_content(*text, observe::kPrometheusContentType);
             })
      .Tag("observability")
      .Produces(observe::kPrometheusContentType);
  routes.Get("/api/v1/products/{ref}/metrics",
             "A product's last run per port and processor step (rows in and out, rejected, "
             "bytes, seconds) and its history",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               ProductMetrics(catalog, queries, req, res, principal);
             })
      .Tag("observability")
      .Query("run", "show this run (default: the newest that recorded metrics)", "integer")
      .Query("since", "history from this ISO date or time (default: everything kept)");
}

}  // namespace plexus::server::internal
