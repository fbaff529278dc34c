// Validating and applying a mesh folder on the server's machine (mesh admins only): what
// `plexus validate` and `plexus apply` do, for a CLI talking to a running server.
//   POST /api/v1/mesh/validate  {"path": "/abs/mesh"}  -> {"ok", "problems": [...]}
//   POST /api/v1/mesh/apply     {"path": "/abs/mesh"}  -> the apply report
// A mesh with problems answers 400 with the problems (file:line:column: field: message) in
// error.details; a version gate refusal answers 409 with the refusals in error.details.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "plexus/access/access_rules.h"
#include "plexus/access/query_service.h"
#include "plexus/governance/governance.h"
#include "plexus/pipeline/column_lineage.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/spec/parse.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// An error answer with lines of detail (the problems, the refusals).
void SendDetailedError(httplib::Response& res, const Status& status,
                       const std::vector<std::string>& details) {
  SendError(res, status);
  json body = json::parse(res.body);
  body["error"]["details"] = details;
  res.set_content(body.dump() + "\n", "application/json");
}

/// The mesh folder of the body: an absolute path on the server's machine.
Result<std::string> MeshPath(const httplib::Request& req) {
  std::string path;
  PLEXUS_RETURN_IF_ERROR(ReadTextBody(req, {{"path", &path}}));
  if (path.empty() || !std::filesystem::path(path).is_absolute()) {
    return InvalidArgument("path must be the mesh folder's absolute path on the server");
  }
  if (!std::filesystem::is_directory(path)) {
    return NotFound("no mesh folder " + path + " on the server");
  }
  return path;
}

/// Loads the mesh and checks its access rules and policies; problems go to `lines`.
Result<spec::Mesh> LoadChecked(const std::string& path, std::vector<std::string>& lines,
                               governance::PolicySet* policies = nullptr) {
  std::vector<spec::Diagnostic> problems;
  auto mesh = spec::LoadMesh(path, &problems);
  if (mesh.ok()) PLEXUS_RETURN_IF_ERROR(access::CheckAccessRules(*mesh, &problems));
  if (mesh.ok() && problems.empty()) {
    auto set = governance::LoadPolicies(*mesh, &problems);
    if (set.ok() && policies != nullptr) *policies = std::move(set).value();
  }
  for (const auto& p : problems) lines.push_back(p.ToString());
  if (!mesh.ok() && problems.empty()) return mesh.status();
  if (!problems.empty()) {
    return InvalidArgument("the mesh has " + std::to_string(problems.size()) +
                           (problems.size() == 1 ? " problem" : " problems") +
                           "; nothing was applied");
  }
  return mesh;
}

/// The version gate: refusals (409) or the warnings and the mesh's column lineage.
Result<std::vector<catalog::ColumnLineageRecord>> Gate(const spec::Mesh& mesh,
                                                       const catalog::Catalog& catalog,
                                                       std::vector<std::string>& lines) {
  PLEXUS_ASSIGN_OR_RETURN(auto edges, pipeline::MeshColumnLineage(mesh));
  PLEXUS_ASSIGN_OR_RETURN(auto review, catalog.ReviewVersions(mesh));
  if (!review.ok()) {
    for (const auto& port : review.ports) {
      for (const auto& r : port.refusals) lines.push_back(port.SqlName() + ": refused: " + r);
    }
    for (const auto& r : review.refusals) lines.push_back("refused: " + r);
    return FailedPrecondition("nothing was applied: the version gate refused the mesh "
                              "(see plexus diff)");
  }
  for (const auto& port : review.ports) {
    for (const auto& w : port.warnings) lines.push_back(port.SqlName() + ": " + w);
  }
  for (const auto& w : review.warnings) lines.push_back(w);
  return edges;
}

void Apply(catalog::Catalog* catalog, access::QueryService* queries, const httplib::Request& req,
           httplib::Response& res, const access::Principal& actor) {
  if (!actor.admin) return SendError(res, PermissionDenied("plexus apply needs a mesh admin"));
  auto path = MeshPath(req);
  if (!path.ok()) return SendError(res, path.status());
  std::vector<std::string> lines;
  governance::PolicySet policies;
  auto mesh = LoadChecked(*path, lines, &policies);
  if (!mesh.ok()) return SendDetailedError(res, mesh.status(), lines);
  auto edges = Gate(*mesh, *catalog, lines);
  if (!edges.ok()) return SendDetailedError(res, edges.status(), lines);
  auto report = catalog->Apply(*mesh, actor.name,
                               governance::MakeApplyGate(policies, actor.name, &lines));
  if (!report.ok() && report.status().code() == StatusCode::kFailedPrecondition) {
    return SendDetailedError(res, report.status(), lines);
  }
  if (!report.ok()) return SendError(res, report.status());
  for (auto& line : lines) {  // the client prints warnings as "plexus: warning: ..."
    if (line.rfind("warning: ", 0) == 0) line.erase(0, 9);
  }
  std::vector<std::string> applied;
  for (const auto& domain : mesh->domains) {
    for (const auto& b : domain.products) applied.push_back(domain.name + "." + b.product.name);
  }
  Status lineage = catalog->ReplaceColumnLineage(applied, *edges);
  if (!lineage.ok()) return SendError(res, lineage);
  Status refreshed = queries->Refresh();  // new ports answer at once
  if (!refreshed.ok()) return SendError(res, refreshed);
  SendJson(res, {{"mesh", mesh->name},
                 {"domains", mesh->domains.size()},
                 {"created", report->created},
                 {"updated", report->updated},
                 {"unchanged", report->unchanged},
                 {"warnings", lines}});
}

}  // namespace

void MeshRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes
      .Post("/api/v1/mesh/validate",
            "Validate a mesh folder on the server's machine (admins): problems with their lines",
            [](const auto& req, auto& res, const auto& actor) {
              if (!actor.admin) {
                return SendError(res, PermissionDenied("validating server folders needs a mesh "
                                                       "admin"));
              }
              auto path = MeshPath(req);
              if (!path.ok()) return SendError(res, path.status());
              std::vector<std::string> lines;
              auto mesh = LoadChecked(*path, lines);
              if (!mesh.ok() && mesh.status().code() != StatusCode::kInvalidArgument) {
                return SendError(res, mesh.status());
              }
              SendJson(res, {{"ok", mesh.ok()}, {"problems", lines}});
            })
      .Tag("mesh")
      .Body("{\"path\": \"/absolute/mesh/folder\"}");
  routes
      .Post("/api/v1/mesh/apply",
            "Validate and register a mesh folder on the server's machine (admins), through the "
            "version gate",
            [catalog, queries](const auto& req, auto& res, const auto& actor) {
              Apply(catalog, queries, req, res, actor);
            })
      .Tag("mesh")
      .Body("{\"path\": \"/absolute/mesh/folder\"}");
}

}  // namespace plexus::server::internal
