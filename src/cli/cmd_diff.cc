// diff, and the version gate of apply: contract changes, their class, their downstream impact.
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/cli.h"
#include "plexus/pipeline/column_lineage.h"

namespace plexus::cli {
namespace {

using catalog::ColumnLineageRecord;
using catalog::PortVersionReview;

/// "marketing.customer_lifetime_value.customer_lifetime_value: first_order_date,
/// most_recent_order_date" for each downstream port reading the changed column.
std::vector<std::string> ImpactOf(const PortVersionReview& port, const spec::ContractChange& change,
                                  const std::vector<ColumnLineageRecord>& edges) {
  std::map<std::string, std::set<std::string>> readers;  // downstream port -> its columns
  for (const auto& e : edges) {
    if (e.upstream != port.product || e.upstream_port != port.port) continue;
    if (!change.column.empty() && e.upstream_column != change.column && e.upstream_column != "*") {
      continue;
    }
    std::string how = e.upstream_column == "*" ? " (may read it: lineage unsure)"
                      : e.direct               ? ""
                                               : " (in a join, filter or grouping)";
    readers[e.downstream + "." + e.downstream_port].insert(e.downstream_column + how);
  }
  std::vector<std::string> lines;
  for (const auto& [reader, columns] : readers) {
    std::string line = reader + ": ";
    bool first = true;
    for (const auto& column : columns) {
      line += (first ? "" : ", ") + column;
      first = false;
    }
    lines.push_back(line);
  }
  return lines;
}

/// Prints one port's review; returns the number of breaking changes.
int PrintPort(std::ostream& out, const PortVersionReview& port,
              const std::vector<ColumnLineageRecord>& edges) {
  if (port.diff.empty() && port.refusals.empty() && port.warnings.empty() && port.notes.empty() &&
      port.old_version == port.new_version && port.old_contract_version == port.new_contract_version) {
    return 0;
  }
  out << port.SqlName() << ": version " << port.old_version << " -> " << port.new_version
      << ", contract " << port.old_contract_version << " -> " << port.new_contract_version
      << (port.new_major > port.old_major ? " (new major: v" + std::to_string(port.old_major) +
                                                " keeps serving as " + port.SqlName() + "__v" +
                                                std::to_string(port.old_major) + ")"
                                          : "")
      << "\n";
  int breaking = 0;
  for (const auto& change : port.diff.changes) {
    out << "  " << change.ToString() << "\n";
    if (!change.breaking) continue;
    ++breaking;
    std::vector<std::string> impact = ImpactOf(port, change, edges);
    if (impact.empty()) out << "      read by no downstream product\n";
    for (const auto& line : impact) out << "      read by " << line << "\n";
  }
  for (const auto& note : port.notes) out << "  lifecycle   " << note << "\n";
  for (const auto& refusal : port.refusals) out << "  refused: " << refusal << "\n";
  for (const auto& warning : port.warnings) out << "  warning: " << warning << "\n";
  return breaking;
}

struct Reviewed {
  catalog::VersionReview review;
  std::vector<ColumnLineageRecord> edges;
};

Result<Reviewed> ReviewMesh(const spec::Mesh& mesh, const catalog::Catalog& catalog) {
  Reviewed out;
  PLEXUS_ASSIGN_OR_RETURN(out.edges, pipeline::MeshColumnLineage(mesh));
  PLEXUS_ASSIGN_OR_RETURN(out.review, catalog.ReviewVersions(mesh));
  return out;
}

Status Diff(const Context& ctx, const std::vector<std::string>& products) {
  std::vector<spec::Diagnostic> problems;
  auto mesh = spec::LoadMesh(ctx.global.mesh, &problems);
  if (!mesh.ok()) {
    PrintProblems(problems);
    return mesh.status();
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(Reviewed reviewed, ReviewMesh(*mesh, *catalog));
  std::set<std::string> chosen(products.begin(), products.end());
  for (const auto& product : chosen) {
    bool known = false;
    for (const auto& d : mesh->domains) {
      for (const auto& b : d.products) known |= d.name + "." + b.product.name == product;
    }
    if (!known) return NotFound("no product " + product + " in the mesh (name it as domain.product)");
  }
  int shown = 0;
  for (const auto& port : reviewed.review.ports) {
    if (!chosen.empty() && !chosen.count(port.product)) continue;
    std::ostringstream text;
    PrintPort(text, port, reviewed.edges);
    if (text.str().empty()) continue;
    std::cout << text.str();
    ++shown;
  }
  for (const auto& refusal : reviewed.review.refusals) std::cout << "refused: " << refusal << "\n";
  for (const auto& warning : reviewed.review.warnings) std::cout << "warning: " << warning << "\n";
  if (shown == 0 && reviewed.review.refusals.empty()) {
    std::cout << "no change to the applied contracts\n";
  } else if (!reviewed.review.ok()) {
    std::cout << "plexus apply would refuse this mesh\n";
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<ColumnLineageRecord>> GateApply(const spec::Mesh& mesh,
                                                   const catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(Reviewed reviewed, ReviewMesh(mesh, catalog));
  const catalog::VersionReview& review = reviewed.review;
  if (!review.ok()) {
    int breaking = 0;
    for (const auto& port : review.ports) {
      if (!port.refusals.empty()) breaking += PrintPort(std::cerr, port, reviewed.edges);
    }
    for (const auto& refusal : review.refusals) std::cerr << "refused: " << refusal << "\n";
    return FailedPrecondition(
        "nothing was applied: " +
        (breaking > 0 ? std::to_string(breaking) + " breaking change" + (breaking == 1 ? "" : "s") +
                            " without a major version bump, or another refusal (above)"
                      : std::string("a version or status move is refused (above)")));
  }
  for (const auto& port : review.ports) {
    for (const auto& warning : port.warnings) {
      std::cerr << "plexus: warning: " << port.SqlName() << ": " << warning << "\n";
    }
  }
  for (const auto& warning : review.warnings) std::cerr << "plexus: warning: " << warning << "\n";
  return reviewed.edges;
}

void SetupDiff(CLI::App& sub, Context& ctx) {
  auto products = std::make_shared<std::vector<std::string>>();
  sub.add_option("products", *products, "domain.product (default: every product of the mesh)");
  sub.callback([&ctx, products] { ctx.action = [&ctx, products] { return Diff(ctx, *products); }; });
}

}  // namespace plexus::cli
