// products, show, lineage: reading the catalog.
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "cli/cli.h"

namespace plexus::cli {
namespace {

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string RowsText(const catalog::OutputPortRecord& port) {
  return port.rows < 0 ? "not published" : std::to_string(port.rows) + " rows";
}

/// The products the signed-in principal may see, hidden ports left out.
Result<std::vector<catalog::ProductRecord>> VisibleProducts(const Context& ctx,
                                                            catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto policy, access::AccessPolicy::Load(catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog.ListProducts());
  std::vector<catalog::ProductRecord> visible;
  for (auto& product : all) {
    auto shown = policy->Visible(principal, std::move(product));
    if (shown.ok()) visible.push_back(std::move(shown).value());
  }
  return visible;
}

/// One product, if the signed-in principal may see it (an unknown and a hidden one read alike).
Result<catalog::ProductRecord> VisibleProduct(const Context& ctx, catalog::Catalog& catalog,
                                              const std::string& ref) {
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto policy, access::AccessPolicy::Load(catalog));
  auto product = catalog.GetProduct(ref);
  auto visible = product.ok() ? policy->Visible(principal, std::move(product).value())
                              : Result<catalog::ProductRecord>(product.status());
  if (!visible.ok()) return NotFound("unknown data product " + ref + " (see plexus products)");
  return visible;
}

Status Products(const Context& ctx) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto products, VisibleProducts(ctx, *catalog));
  if (products.empty()) {
    std::cout << "no products registered: run plexus apply\n";
    return Status::OK();
  }
  std::cout << std::left << std::setw(44) << "PRODUCT" << std::setw(10) << "VERSION"
            << std::setw(10) << "STATUS" << "OUTPUT PORTS (SQL name, rows)\n";
  for (const auto& p : products) {
    std::vector<std::string> ports;
    std::map<std::string, int> newest;  // the plain SQL name serves the newest major
    for (const auto& o : p.outputs) newest[o.name] = std::max(newest[o.name], o.major);
    for (const auto& o : p.outputs) {
      std::string status = catalog::ServedStatus(o);
      bool shown_status = status == "deprecated" || status == "retired";
      ports.push_back(o.SqlName() +
                      (o.major < newest[o.name] ? "__v" + std::to_string(o.major) : "") + " (" +
                      RowsText(o) + (shown_status ? ", " + status : "") + ")");
    }
    std::cout << std::left << std::setw(44) << p.QualifiedName() << std::setw(10) << p.version
              << std::setw(10) << p.status << Join(ports) << "\n";
  }
  return Status::OK();
}

void PrintColumns(const catalog::OutputPortRecord& port) {
  std::cout << "    " << std::left << std::setw(26) << "column" << std::setw(16) << "type"
            << std::setw(22) << "constraints" << std::setw(14) << "class" << "description\n";
  for (const auto& c : port.columns) {
    std::vector<std::string> flags;
    if (c.primary_key) flags.push_back("primary key");
    if (c.required && !c.primary_key) flags.push_back("required");
    if (c.unique) flags.push_back("unique");
    std::cout << "    " << std::left << std::setw(26) << c.name << std::setw(16) << c.engine_type
              << std::setw(22) << Join(flags) << std::setw(14) << c.classification
              << c.description << "\n";
  }
}

Status Show(const Context& ctx, const std::string& ref) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto p, VisibleProduct(ctx, *catalog, ref));
  std::cout << p.QualifiedName() << "  (version " << p.version << ", " << p.status << ")\n"
            << "  id:       " << p.id << "\n"
            << "  purpose:  " << p.purpose << "\n";
  if (!p.usage.empty()) std::cout << "  usage:    " << p.usage << "\n";
  std::cout << "  team:     " << p.team_name << " (owners: " << Join(p.owners) << ")\n"
            << "  tags:     " << Join(p.tags) << "\n"
            << "  applied:  " << p.applied_at << "\n";
  for (const auto& in : p.inputs) {
    std::cout << "  input port " << in.name << " " << in.version << " <- "
              << (in.upstream_domain.empty() ? "contract " + in.contract_id
                                             : in.upstream_domain + "." + in.upstream_product +
                                                   "." + in.upstream_port)
              << "\n";
  }
  for (const auto& o : p.outputs) {
    std::cout << "  output port " << o.SqlName() << "  version " << o.version << " (major "
              << o.major << "), contract " << o.contract_id << " " << o.contract_version << ", "
              << RowsText(o) << (o.published_at.empty() ? "" : " at " + o.published_at) << "\n";
    PrintColumns(o);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto runs, catalog->ListRuns(p.id, 5));
  for (const auto& r : runs) {
    std::cout << "  run " << r.id << "  " << r.started_at << "  " << r.status << "  " << r.rows
              << " rows" << (r.reason.empty() ? "" : "  " + r.reason) << "\n";
  }
  PLEXUS_ASSIGN_OR_RETURN(auto quality, catalog->ListQualityResults(p.id));
  std::string port;
  for (const auto& q : quality) {
    if (q.port != port) {
      port = q.port;
      std::cout << "  quality of " << p.QualifiedName() << "." << q.port << " (last checked "
                << q.checked_at << (q.run_id > 0 ? " by run " + std::to_string(q.run_id)
                                                  : " by plexus test")
                << ")\n";
    }
    std::cout << "    " << QualityLine(q) << "\n";
  }
  return Status::OK();
}

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

void SetupProducts(CLI::App& sub, Context& ctx) {
  sub.callback([&ctx] { ctx.action = [&ctx] { return Products(ctx); }; });
}

void SetupShow(CLI::App& sub, Context& ctx) {
  auto ref = std::make_shared<std::string>();
  sub.add_option("product", *ref, "domain.product or id")->required();
  sub.callback([&ctx, ref] { ctx.action = [&ctx, ref] { return Show(ctx, *ref); }; });
}

void SetupLineage(CLI::App& sub, Context& ctx) {
  auto ref = std::make_shared<std::string>();
  sub.add_option("product", *ref, "domain.product or id")->required();
  sub.callback([&ctx, ref] { ctx.action = [&ctx, ref] { return Lineage(ctx, *ref); }; });
}

}  // namespace plexus::cli
