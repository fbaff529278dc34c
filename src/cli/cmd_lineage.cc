// lineage: what a product (or one of its columns) reads and what reads it, to any depth.
//   plexus lineage PRODUCT [--column C] [--depth N] [--direction up|down|both]
//                          [--format table|json|dot]
#include <iostream>
#include <set>

#include "cli/cli.h"
#include "plexus/discovery/lineage.h"

namespace plexus::cli {
namespace {

using discovery::LineageDirection;
using discovery::LineageLink;
using discovery::LineageWalk;

struct LineageOptions {
  std::string ref;
  std::string column;
  int depth = 0;
  std::string direction = "both";
  std::string format = "table";
};

/// One line of the tree: the node on the far side of `link`, with how it is read.
std::string LinkLine(const LineageLink& link, LineageDirection side) {
  const auto& other = side == LineageDirection::kUpstream ? link.upstream : link.downstream;
  if (other.IsColumn()) {
    return other.Id() + "  " + (link.direct ? "[direct]" : "[indirect]");
  }
  return other.Id() + "  (" + link.upstream.product + "." + link.upstream_port +
         " -> input " + link.input + ")";
}

/// Prints the links of `side` leading away from `node` as an indented tree. A node already
/// printed (reached twice, or on a cycle) is named again but not expanded.
void PrintSide(const LineageWalk& walk, LineageDirection side, const std::string& node,
               int indent, std::set<std::string>& printed) {
  for (const auto& link : walk.links) {
    if (link.direction != side) continue;
    bool up = side == LineageDirection::kUpstream;
    std::string near = (up ? link.downstream : link.upstream).Id();
    if (near != node) continue;
    std::string far = (up ? link.upstream : link.downstream).Id();
    bool first = printed.insert(far).second;
    const char* note = far == walk.start.ref.Id() ? "  (the start: a cycle)"
                       : first                      ? ""
                                                    : "  (see above)";
    std::cout << std::string(indent, ' ') << LinkLine(link, side) << note << "\n";
    if (first) PrintSide(walk, side, far, indent + 2, printed);
  }
}

void PrintTable(const LineageWalk& walk) {
  bool columns = walk.start.ref.IsColumn();
  std::string start = walk.start.ref.Id();
  std::cout << start << "\n";
  auto side = [&](LineageDirection direction, const char* title, const char* none) {
    std::cout << "  " << title << ":\n";
    std::set<std::string> printed{start};
    if (walk.Ids(direction).empty()) std::cout << "    " << none << "\n";
    PrintSide(walk, direction, start, 4, printed);
  };
  if (walk.query.direction != LineageDirection::kDownstream) {
    side(LineageDirection::kUpstream, "reads (upstream)",
         columns ? "(nothing in the mesh: computed from the product's own sources)"
                 : "(nothing: a source-aligned product)");
  }
  if (walk.query.direction != LineageDirection::kUpstream) {
    side(LineageDirection::kDownstream, "read by (downstream)",
         columns ? "(no product reads it yet)" : "(no consumer product yet)");
  }
  if (columns) {
    std::cout << "  [indirect]: read by a join, filter or grouping, not copied into the column\n";
  }
  if (walk.truncated) {
    std::cout << "  (stopped at depth " << walk.query.max_depth
              << ": more lineage lies beyond; raise --depth or leave it out)\n";
  }
}

Status Lineage(const Context& ctx, const LineageOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto visible, VisibleProducts(ctx, *catalog));
  const catalog::ProductRecord* product = nullptr;
  for (const auto& p : visible) {
    if (p.id == options.ref || p.QualifiedName() == options.ref) product = &p;
  }
  if (product == nullptr) {
    return NotFound("unknown data product " + options.ref + " (see plexus products)");
  }
  discovery::LineageNodeRef start{product->QualifiedName(), "", ""};
  if (!options.column.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(start, discovery::ResolveColumn(*product, options.column));
  }
  PLEXUS_ASSIGN_OR_RETURN(LineageDirection direction,
                          discovery::ParseLineageDirection(options.direction));
  PLEXUS_ASSIGN_OR_RETURN(auto graph, discovery::LineageGraph::Load(*catalog));
  PLEXUS_ASSIGN_OR_RETURN(LineageWalk walk,
                          graph.Walk(start, {direction, options.depth},
                                     discovery::LineageScope::Of(visible)));
  if (options.format == "json") {
    std::cout << discovery::LineageJson(walk).dump(2) << "\n";
  } else if (options.format == "dot") {
    std::cout << discovery::LineageDot(walk);
  } else {
    PrintTable(walk);
  }
  return Status::OK();
}

}  // namespace

void SetupLineage(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<LineageOptions>();
  sub.add_option("product", options->ref, "domain.product or id")->required();
  sub.add_option("--column,-c", options->column,
                 "walk one column: port.column, or column when the product has one port");
  sub.add_option("--depth,-d", options->depth, "how many hops (default: all; 1: direct only)")
      ->check(CLI::Range(1, 1000000));
  sub.add_option("--direction", options->direction, "up, down or both (default)")
      ->check(CLI::IsMember({"up", "down", "both", "upstream", "downstream"}));
  sub.add_option("--format,-f", options->format, "table (default), json or dot (Graphviz)")
      ->check(CLI::IsMember({"table", "json", "dot"}));
  sub.callback([&ctx, options] {
    ctx.action = [&ctx, options] { return Lineage(ctx, *options); };
  });
}

}  // namespace plexus::cli
