// File: plexus/server/http_internal.h (internal to the server module)
//
// What the HTTP handlers share: JSON errors from a Status, signing in with a bearer token, and
// reading a JSON body that may hold only the fields a caller may set.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/access/access_policy.h"
#include "plexus/access/query_service.h"
#include "plexus/catalog/catalog.h"

namespace plexus::pipeline {
class Scheduler;
}

namespace plexus::server::internal {

/// {"error": {"code": "permission_denied", "message": "..."}} with the code table's status.
void SendError(httplib::Response& res, const Status& status);
/// A JSON answer (status 200 unless set).
void SendJson(httplib::Response& res, const nlohmann::json& body, int status = 200);

/// The principal of the request's `Authorization: Bearer <token>`; kUnauthenticated (401,
/// with WWW-Authenticate) when it is missing or not valid.
Result<access::Principal> SignIn(const httplib::Request& req, const catalog::Catalog& catalog);

/// The request body as a JSON object holding only `allowed` fields: a field a caller may not
/// set (owner, grantee of a request, granted_by...) is refused, never ignored.
Result<nlohmann::json> BodyObject(const httplib::Request& req,
                                  std::initializer_list<std::string_view> allowed);
/// A string field of `body`, or "" when absent; kInvalidArgument when not a string.
Result<std::string> StringField(const nlohmann::json& body, std::string_view key);
/// A body of text fields only (BodyObject with these names), read into `fields`; an absent
/// field leaves its string empty.
Status ReadTextBody(const httplib::Request& req,
                    std::initializer_list<std::pair<std::string_view, std::string*>> fields);

/// What a signed-in handler receives.
using SignedInHandler = std::function<void(const httplib::Request&, httplib::Response&,
                                           const access::Principal&)>;
/// Wraps a handler: signs in first (401 when that fails).
httplib::Server::Handler SignedIn(const catalog::Catalog* catalog, SignedInHandler handler);

/// The access log (http_server.cc): the signed-in principal of the request this thread
/// serves goes into its http.request line; the request's id (X-Request-Id), "" outside one.
void NoteRequestPrincipal(const std::string& name);
std::string CurrentRequestId();

class RouteTable;

/// Each file's routes, declared in the one route table (http_routes.h):
/// /api/v1/me, /api/v1/access/..., /api/v1/principals, /api/v1/tokens, /api/v1/audit
/// (http_access.cc).
void AccessRoutes(RouteTable& routes, catalog::Catalog* catalog);
/// /api/v1/products[/{ref}[/contracts|/versions]] (http_products.cc).
void ProductRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
/// /api/v1/products/{ref}/lineage, /quality, /api/v1/runs (http_catalog.cc).
void CatalogRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
/// GET /api/v1/search (http_search.cc).
void SearchRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
/// /api/v1/glossary[/{term}] (http_glossary.cc).
void GlossaryRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
/// /api/v1/governance/report, /evaluate, /policies, /evaluations (http_governance.cc).
void GovernanceRoutes(RouteTable& routes, catalog::Catalog* catalog);
/// POST /api/v1/query, streaming (http_query.cc).
void QueryRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
/// /api/v1/mesh/validate, /api/v1/mesh/diff, /api/v1/mesh/apply: admins (http_mesh.cc).
void MeshRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);

/// POST /api/v1/runs, the CDC push endpoint, pipeline status, pause and resume
/// (http_pipelines.cc); `scheduler` is null outside plexus serve.
void PipelineRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries,
                    pipeline::Scheduler* scheduler);

/// Observability (issue 9): GET /metrics and /api/v1/products/{ref}/metrics (http_metrics.cc);
/// SLOs, trust scores and quality history (http_slo.cc); alerts (http_alerts.cc).
void MetricsRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
void SloRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);
void AlertRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries);

/// The error code of a Status as the API spells it: not_found, permission_denied...
std::string ErrorCode(StatusCode code);
/// Refreshes the query service's view of the catalog, then the policy (for listing what a
/// principal may see).
Result<std::shared_ptr<const access::AccessPolicy>> CurrentPolicy(access::QueryService& queries);
/// One product the principal may see; an unknown and a hidden one read alike (kNotFound).
Result<catalog::ProductRecord> VisibleProduct(const catalog::Catalog& catalog,
                                              const access::AccessPolicy& policy,
                                              const access::Principal& principal,
                                              const std::string& ref);
/// Every product the principal may see (hidden ports left out).
Result<std::vector<catalog::ProductRecord>> VisibleProducts(const catalog::Catalog& catalog,
                                                            const access::AccessPolicy& policy,
                                                            const access::Principal& principal);

/// Runs `then` with the product `{ref}` (the route's first capture) if the caller may see it.
template <typename Then>
inline void WithProduct(catalog::Catalog* catalog, access::QueryService* queries,
                        const httplib::Request& req, httplib::Response& res,
                        const access::Principal& principal, Then then) {
  auto policy = CurrentPolicy(*queries);
  if (!policy.ok()) return SendError(res, policy.status());
  auto product = VisibleProduct(*catalog, **policy, principal, req.matches[1].str());
  if (!product.ok()) return SendError(res, product.status());
  then(*product);
}

}  // namespace plexus::server::internal
