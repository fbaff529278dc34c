// lineage: what a product reads and what reads it.
#include <iostream>
#include <map>
#include <set>

#include "cli/cli.h"

namespace plexus::cli {
namespace {

/// Prints the products `start` reads (up) or that read it (down), as an indented tree.
void PrintTree(const std::multimap<std::string, std::string>& edges, const std::string& node,
               int depth, std::set<std::string>& path) {
  auto [begin, end] = edges.equal_range(node);
  for (auto it = begin; it != end; ++it) {
    std::cout << std::string(2 + depth * 2, ' ') << it->second << "\n";
    if (path.insert(it->second).second) {
      PrintTree(edges, it->second, depth + 1, path);
      path.erase(it->second);
    }
  }
}

Status Lineage(const Context& ctx, const std::string& ref) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto product, VisibleProduct(ctx, *catalog, ref));
  PLEXUS_ASSIGN_OR_RETURN(auto edges, catalog->ListLineage());
  std::multimap<std::string, std::string> up, down;
  for (const auto& e : edges) {
    up.emplace(e.downstream, e.upstream + "." + e.upstream_port);
    down.emplace(e.upstream, e.downstream);
  }
  // Upstream entries name ports; walk by product.
  std::multimap<std::string, std::string> up_products;
  for (const auto& e : edges) up_products.emplace(e.downstream, e.upstream);
  std::string name = product.QualifiedName();
  std::set<std::string> path{name};
  std::cout << name << "\n  reads (upstream):\n";
  if (up_products.count(name) == 0) std::cout << "    (nothing: a source-aligned product)\n";
  PrintTree(up_products, name, 1, path);
  std::cout << "  read by (downstream):\n";
  if (down.count(name) == 0) std::cout << "    (no consumer product yet)\n";
  PrintTree(down, name, 1, path);
  return Status::OK();
}

}  // namespace

void SetupLineage(CLI::App& sub, Context& ctx) {
  auto ref = std::make_shared<std::string>();
  sub.add_option("product", *ref, "domain.product or id")->required();
  sub.callback([&ctx, ref] { ctx.action = [&ctx, ref] { return Lineage(ctx, *ref); }; });
}

}  // namespace plexus::cli
