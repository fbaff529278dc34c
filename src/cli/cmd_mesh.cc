// init, validate, apply: from YAML to registered products.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/starter_mesh.h"
#include "plexus/access/access_rules.h"
#include "plexus/governance/governance.h"

namespace plexus::cli {
namespace fs = std::filesystem;

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Validates one path: a mesh folder, or one descriptor file chosen by its name.
Status ValidatePath(const std::string& path, std::vector<spec::Diagnostic>& problems) {
  std::string name = fs::path(path).filename().string();
  if (fs::is_directory(path) || name == "mesh.yaml") {
    auto mesh = spec::LoadMesh(fs::is_directory(path) ? path : fs::path(path).parent_path().string(),
                               &problems);
    if (!mesh.ok()) return mesh.status();
    size_t before = problems.size();
    PLEXUS_RETURN_IF_ERROR(access::CheckAccessRules(*mesh, &problems));
    if (problems.size() > before) return InvalidArgument("the mesh's access rules have problems");
    return Status::OK();
  }
  if (EndsWith(name, ".odps.yaml") || EndsWith(name, ".odps.yml")) {
    return spec::ParseProductFile(path, &problems).status();
  }
  if (EndsWith(name, ".odcs.yaml") || EndsWith(name, ".odcs.yml")) {
    return spec::ParseContractFile(path, &problems).status();
  }
  if (name == "pipeline.yaml" || name == "pipeline.yml") {
    return spec::ParsePipelineFile(path, &problems).status();
  }
  return InvalidArgument(path + ": not a mesh folder, .odps.yaml, .odcs.yaml or pipeline.yaml");
}

Status Validate(const Context& ctx, std::vector<std::string> paths) {
  if (paths.empty()) paths.push_back(ctx.global.mesh);
  std::vector<spec::Diagnostic> problems;
  Status first;
  for (const auto& path : paths) {
    Status s = ValidatePath(path, problems);
    if (!s.ok() && s.code() != StatusCode::kInvalidArgument) return s;  // unreadable
    if (!s.ok() && first.ok()) first = s;
  }
  if (!problems.empty()) {
    PrintProblems(problems);
    return InvalidArgument(std::to_string(problems.size()) +
                           (problems.size() == 1 ? " problem found" : " problems found"));
  }
  if (!first.ok()) return first;
  for (const auto& path : paths) {  // a mesh folder's policies: their SQL checked too
    if (!fs::exists(fs::path(path) / "mesh.yaml")) continue;
    auto mesh = spec::LoadMesh(path, &problems);
    if (mesh.ok() && !governance::LoadPolicies(*mesh, &problems).ok()) {
      PrintProblems(problems);
      return InvalidArgument(std::to_string(problems.size()) +
                             (problems.size() == 1 ? " problem found" : " problems found"));
    }
  }
  std::cout << "ok: " << paths.size() << (paths.size() == 1 ? " path" : " paths")
            << " valid\n";
  return Status::OK();
}

Status Apply(const Context& ctx) {
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {  // a running server holds the home: it applies, as we would
    return server::RemoteApply(*remote, ctx.global.mesh, std::cout, std::cerr);
  }
  std::vector<spec::Diagnostic> problems;
  auto mesh = spec::LoadMesh(ctx.global.mesh, &problems);
  if (!mesh.ok()) {
    PrintProblems(problems);
    if (problems.empty()) return mesh.status();
    return InvalidArgument("the mesh has " + std::to_string(problems.size()) +
                           (problems.size() == 1 ? " problem" : " problems") +
                           "; nothing was applied");
  }
  PLEXUS_RETURN_IF_ERROR(access::CheckAccessRules(*mesh, &problems));
  if (!problems.empty()) {
    PrintProblems(problems);
    return InvalidArgument("the mesh's access rules have " + std::to_string(problems.size()) +
                           (problems.size() == 1 ? " problem" : " problems") +
                           "; nothing was applied");
  }
  auto policies = governance::LoadPolicies(*mesh, &problems);
  if (!policies.ok()) {
    PrintProblems(problems);
    return InvalidArgument("the mesh's policies have " + std::to_string(problems.size()) +
                           (problems.size() == 1 ? " problem" : " problems") +
                           "; nothing was applied");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  if (!actor.admin) return PermissionDenied("plexus apply needs a mesh admin");
  PLEXUS_ASSIGN_OR_RETURN(auto column_lineage, GateApply(*mesh, *catalog));
  // The governance gate: block violations of what this apply changes refuse it.
  std::vector<std::string> governance_lines;
  auto gated = catalog->Apply(*mesh, actor.name,
                              governance::MakeApplyGate(*policies, actor.name, &governance_lines));
  for (const auto& line : governance_lines) std::cerr << "plexus: " << line << "\n";
  PLEXUS_ASSIGN_OR_RETURN(catalog::ApplyReport report, std::move(gated));
  std::vector<std::string> applied;
  for (const auto& domain : mesh->domains) {
    for (const auto& bundle : domain.products) applied.push_back(domain.name + "." + bundle.product.name);
  }
  PLEXUS_RETURN_IF_ERROR(catalog->ReplaceColumnLineage(applied, column_lineage));
  for (const auto& p : report.created) std::cout << "created    " << p << "\n";
  for (const auto& p : report.updated) std::cout << "updated    " << p << "\n";
  for (const auto& p : report.unchanged) std::cout << "unchanged  " << p << "\n";
  std::cout << "applied mesh " << mesh->name << ": " << mesh->domains.size() << " domains, "
            << report.created.size() + report.updated.size() + report.unchanged.size()
            << " products (" << report.created.size() << " created, " << report.updated.size()
            << " updated)\n";
  return Status::OK();
}

/// Creates the home's catalog and its first mesh admin, and shows the admin's API token once.
Status CreateFirstAdmin(const Context& ctx, const std::string& dir) {
  Context at_dir = ctx;
  at_dir.global.mesh = dir;
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, at_dir.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal admin, LocalAdmin(*catalog));
  PLEXUS_ASSIGN_OR_RETURN(std::string token,
                          catalog->IssueToken(admin.name, "created by plexus init", "", admin.name));
  std::cout << "mesh admin: " << admin.name << "\n"
            << "admin API token (shown once, only its hash is kept): " << token << "\n";
  return Status::OK();
}

Status Init(const Context& ctx, const std::string& dir) {
  if (fs::exists(fs::path(dir) / "mesh.yaml")) {
    return AlreadyExists(dir + " already holds a mesh (mesh.yaml)");
  }
  for (const auto& file : StarterMeshFiles()) {
    fs::path path = fs::path(dir) / file.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path);
    out << file.content;
    if (!out) return IOError("cannot write " + path.string());
  }
  std::cout << "created a mesh in " << dir << "\n";
  PLEXUS_RETURN_IF_ERROR(CreateFirstAdmin(ctx, dir));
  std::cout << "next:\n"
            << "  plexus --mesh " << dir << " apply\n"
            << "  plexus --mesh " << dir << " run --all\n"
            << "  plexus --mesh " << dir << " query \"SELECT * FROM sales.daily_revenue.daily_revenue\"\n";
  return Status::OK();
}

}  // namespace

void SetupInit(CLI::App& sub, Context& ctx) {
  auto dir = std::make_shared<std::string>(".");
  sub.add_option("dir", *dir, "Folder to create the mesh in")->capture_default_str();
  sub.callback([&ctx, dir] { ctx.action = [&ctx, dir] { return Init(ctx, *dir); }; });
}

void SetupValidate(CLI::App& sub, Context& ctx) {
  auto paths = std::make_shared<std::vector<std::string>>();
  sub.add_option("paths", *paths, "Mesh folders or descriptor files (default: --mesh)");
  sub.callback([&ctx, paths] { ctx.action = [&ctx, paths] { return Validate(ctx, *paths); }; });
}

void SetupApply(CLI::App& sub, Context& ctx) {
  sub.callback([&ctx] { ctx.action = [&ctx] { return Apply(ctx); }; });
}

}  // namespace plexus::cli
