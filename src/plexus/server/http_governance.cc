// Governance over HTTP (issue 5), as `plexus governance` prints it:
//   GET  /api/v1/governance/report[?format=json|html]  the applied policies evaluated now:
//                                     scores per domain and per policy, the trend, violations
//   POST /api/v1/governance/evaluate  the same, kept in the history (mesh admins)
//   GET  /api/v1/governance/policies  the policies in force, parameters and exemptions
//   GET  /api/v1/governance/evaluations  the history: each evaluation's scores (paged)
// Mesh admins see every violation; other principals those of the domains they belong to.
#include <nlohmann/json.hpp>

#include "plexus/governance/governance.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// Evaluates the applied policies (recorded when `trigger` is set) and answers the report.
void SendReport(catalog::Catalog& catalog, const httplib::Request& req, httplib::Response& res,
                const access::Principal& principal, const std::string& trigger) {
  std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "html") {
    return SendError(res, InvalidArgument("format must be json or html"));
  }
  auto report = governance::EvaluateReport(catalog, trigger, principal, governance::ViewStore::kWarm);
  if (!report.ok()) return SendError(res, report.status());
  if (format == "html") {
    res.set_content(governance::ReportHtml(*report), "text/html; charset=utf-8");
    return;
  }
  SendJson(res, *report);
}

}  // namespace

void GovernanceRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  routes.Get("/api/v1/governance/report",
             "The applied policies evaluated now: compliance per domain and per policy, the "
             "trend, and the violations the caller may see (format=json or html)",
             [catalog](const auto& req, auto& res, const auto& principal) {
               SendReport(*catalog, req, res, principal, "");
             })
      .Tag("governance");
  routes.Post("/api/v1/governance/evaluate",
              "Evaluate the applied policies now and keep the evaluation in the history "
              "(mesh admins)",
              [catalog](const auto& req, auto& res, const auto& principal) {
                if (!principal.admin) {
                  return SendError(res, PermissionDenied("evaluating the mesh's policies needs "
                                                         "a mesh admin"));
                }
                SendReport(*catalog, req, res, principal, "api");
              })
      .Tag("governance");
  routes.Get("/api/v1/governance/policies",
             "The policies in force (as last applied): severity, scope, parameters, domains' "
             "parameters, exemptions",
             [catalog](const auto&, auto& res, const auto&) {
               auto stored = catalog->GovernancePolicies();
               if (!stored.ok()) return SendError(res, stored.status());
               if (stored->empty()) {
                 return SendError(res, NotFound("no policies were applied yet: plexus apply"));
               }
               json body = json::parse(*stored, nullptr, false);
               if (body.is_discarded()) {
                 return SendError(res, Internal("the catalog's stored policies are not JSON"));
               }
               SendJson(res, body);
             })
      .Tag("governance");
  routes.Get("/api/v1/governance/evaluations",
             "The history of evaluations, newest first: when, why, and the scores",
             [catalog](const auto& req, auto& res, const auto&) {
               SendPage(req, res, catalog->ListGovernanceEvaluations(1000), "evaluations",
                        [](const catalog::GovernanceEvaluationRecord& e) {
                          json summary = json::parse(e.summary, nullptr, false);
                          return json{{"id", e.id},
                                      {"at", e.at},
                                      {"trigger", e.trigger},
                                      {"actor", e.actor},
                                      {"summary", summary.is_discarded() ? json() : summary}};
                        });
             })
      .Tag("governance")
      .Paged();
}

}  // namespace plexus::server::internal
