// governance: the mesh's policies as code (issue 5, docs/governance.md).
//
//   plexus governance check [--format table|json]    what apply would say of the mesh folder:
//                                                    exit 1 on block violations (for CI)
//   plexus governance report [--format table|json|html]   the applied policies evaluated now,
//                                                    scores per domain and policy, the trend
//   plexus governance policies [--format table|json] the policies in force, with parameters
//   plexus governance views [--format table|json]    the catalog views policy SQL reads
//
// Mesh admins see every violation; other principals those of the domains they belong to.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "plexus/governance/governance.h"

namespace plexus::cli {
namespace {

using nlohmann::json;

struct GovernanceOptions {
  std::string format = "table";
};

/// Loads the mesh folder and its policies (SQL checked); prints the problems.
Result<std::pair<spec::Mesh, governance::PolicySet>> LoadMeshPolicies(const Context& ctx) {
  std::vector<spec::Diagnostic> problems;
  auto mesh = spec::LoadMesh(ctx.global.mesh, &problems);
  if (!mesh.ok()) {
    PrintProblems(problems);
    return mesh.status();
  }
  auto set = governance::LoadPolicies(*mesh, &problems);
  if (!set.ok()) {
    PrintProblems(problems);
    return InvalidArgument("the mesh's policies have " + std::to_string(problems.size()) +
                           (problems.size() == 1 ? " problem" : " problems"));
  }
  return std::make_pair(std::move(mesh).value(), std::move(set).value());
}

Status Check(const Context& ctx, const GovernanceOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto loaded, LoadMeshPolicies(ctx));
  auto& [mesh, set] = loaded;
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  std::vector<std::string> lines;
  governance::Evaluation evaluation;
  auto applied = catalog->Apply(mesh, actor.name, governance::MakeApplyGate(set, actor.name, &lines,
                                                                            &evaluation),
                                /*dry_run=*/true);
  bool refused = !applied.ok() && applied.status().code() == StatusCode::kFailedPrecondition &&
                 !lines.empty();
  if (!applied.ok() && !refused) return applied.status();  // the version gate, an I/O error
  if (options.format == "json") {
    json report = governance::ReportJson(evaluation, set, {});
    report["ok"] = !refused;
    report["lines"] = lines;
    std::cout << report.dump(2) << "\n";
  } else {
    for (const auto& line : lines) std::cout << line << "\n";
    if (lines.empty()) {
      std::cout << "ok: no violations of the mesh's " << set.policies.size() << " policies\n";
    }
    std::cout << "compliance " << static_cast<int>(evaluation.mesh.score + 0.5) << "/100: "
              << evaluation.mesh.block << " block, " << evaluation.mesh.warn << " warn, "
              << evaluation.mesh.exempted << " exempted\n";
  }
  if (refused) return applied.status();
  return Status::OK();
}

Status Report(const Context& ctx, const GovernanceOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  PLEXUS_ASSIGN_OR_RETURN(json report, governance::EvaluateReport(*catalog, "report", actor));
  if (options.format == "json") {
    std::cout << report.dump(2) << "\n";
  } else if (options.format == "html") {
    std::cout << governance::ReportHtml(report);
  } else {
    std::cout << governance::ReportText(report);
  }
  return Status::OK();
}

Status Policies(const Context& ctx, const GovernanceOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto loaded, LoadMeshPolicies(ctx));
  const auto& set = loaded.second;
  if (options.format == "json") {
    std::cout << set.ToJson().dump(2) << "\n";
    return Status::OK();
  }
  for (const auto& p : set.policies) {
    std::cout << p.id << "  " << (p.enabled ? p.severity : "off") << "  " << p.scope
              << (p.builtin ? "  built-in" : "") << (p.exemptible ? "" : "  not exemptible")
              << (p.quarantine ? "  quarantines" : "") << "\n  " << p.title << "\n";
    for (const auto& param : p.parameters) {
      std::cout << "  $" << param.name << " = " << param.default_value.ToString();
      if (param.min || param.max || !param.allowed.empty()) {
        std::cout << "  (domains may set it";
        if (param.min) std::cout << " from " << *param.min;
        if (param.max) std::cout << " to " << *param.max;
        if (!param.allowed.empty()) {
          spec::PolicyValue allowed;
          allowed.kind = spec::PolicyValue::Kind::kList;
          allowed.list = param.allowed;
          std::cout << " within " << allowed.ToString();
        }
        std::cout << ")";
      }
      std::cout << "\n";
    }
    for (const auto& [domain, by_policy] : set.domain_parameters) {
      auto it = by_policy.find(p.id);
      if (it == by_policy.end()) continue;
      for (const auto& [name, value] : it->second) {
        std::cout << "  $" << name << " = " << value.ToString() << " in domain " << domain << "\n";
      }
    }
  }
  for (const auto& e : set.exemptions) {
    std::cout << "exemption  " << e.policy << "  " << e.entity << "  until " << e.expires
              << "  approved by " << e.approved_by << ": " << e.justification << "\n";
  }
  return Status::OK();
}

Status Views(const Context&, const GovernanceOptions& options) {
  json out = json::array();
  for (const auto& view : catalog::GovernanceViews()) {
    if (view.internal) continue;
    json columns = json::array();
    for (const auto& c : view.columns) {
      columns.push_back({{"name", c.name}, {"type", c.type}, {"description", c.description}});
    }
    out.push_back({{"name", view.name}, {"description", view.description}, {"columns", columns}});
  }
  if (options.format == "json") {
    std::cout << out.dump(2) << "\n";
    return Status::OK();
  }
  for (const auto& view : out) {
    std::cout << view["name"].get<std::string>() << ": " << view["description"].get<std::string>()
              << "\n";
    for (const auto& c : view["columns"]) {
      std::cout << "  " << c["name"].get<std::string>() << " " << c["type"].get<std::string>()
                << "  " << c["description"].get<std::string>() << "\n";
    }
  }
  return Status::OK();
}

void Leaf(CLI::App& parent, Context& ctx, const char* name, const char* summary,
          const std::vector<std::string>& formats,
          Status (*run)(const Context&, const GovernanceOptions&)) {
  auto options = std::make_shared<GovernanceOptions>();
  CLI::App* sub = parent.add_subcommand(name, summary);
  sub->add_option("--format,-f", options->format, "Output format")
      ->check(CLI::IsMember(formats))
      ->capture_default_str();
  sub->callback([&ctx, options, run] { ctx.action = [&ctx, options, run] { return run(ctx, *options); }; });
}

}  // namespace

void SetupGovernance(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  Leaf(sub, ctx, "check",
       "Evaluate the mesh folder's policies as apply would, changing nothing (exit 1 on block "
       "violations)",
       {"table", "json"}, Check);
  Leaf(sub, ctx, "report",
       "Evaluate the applied policies now: compliance per domain and per policy, with the trend",
       {"table", "json", "html"}, Report);
  Leaf(sub, ctx, "policies", "List the mesh folder's policies, parameters and exemptions",
       {"table", "json"}, Policies);
  Leaf(sub, ctx, "views", "List the catalog views policy SQL reads, with their columns",
       {"table", "json"}, Views);
}

}  // namespace plexus::cli
