// File: plexus/discovery/lineage.h
//
// Lineage walks: from a product, or from one column of a product's output port, upstream
// (what it reads) and downstream (what reads it), to any depth, over the catalog's lineage
// edges (product level: input ports; column level: what each pipeline's SQL reads).
//
//   PLEXUS_ASSIGN_OR_RETURN(auto graph, LineageGraph::Load(catalog));
//   LineageScope scope = LineageScope::Of(products_the_principal_may_see);
//   LineageNodeRef clv{"marketing.customer_lifetime_value", "", ""};
//   PLEXUS_ASSIGN_OR_RETURN(LineageWalk walk,
//                           graph.Walk(clv, {LineageDirection::kUpstream, 2}, scope));
//   std::cout << LineageDot(walk);
//
// Visibility: an edge with either end hidden from the caller (its product, or the output port
// it goes through) is left out as if it did not exist, so a hidden product is never named and
// never bridges two visible ones. Cycles are safe: each node is reached once per direction, at
// its least depth.
//
// Ids are the addressing scheme's (src/plexus/server/README.md): a product is `domain.product`,
// a column `domain.product.port.column`.
//
// Thread safety: a LineageGraph is immutable once built; Walk may run on many threads at once.
// LineageGraph::Shared keeps the last graph loaded, for servers.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"

namespace plexus::discovery {

enum class LineageDirection { kUpstream, kDownstream, kBoth };

/// "up"/"upstream", "down"/"downstream" or "both"; kInvalidArgument otherwise.
Result<LineageDirection> ParseLineageDirection(std::string_view text);
/// "upstream", "downstream" or "both".
std::string_view LineageDirectionName(LineageDirection direction);

/// A node of the lineage graph: a product, or one column of one of its output ports.
struct LineageNodeRef {
  std::string product;  ///< domain.product
  std::string port;     ///< empty: the product itself
  std::string column;   ///< with a port: the column; "*": the whole port

  bool IsColumn() const { return !port.empty(); }
  /// domain.product, or domain.product.port.column.
  std::string Id() const;
  auto operator<=>(const LineageNodeRef&) const = default;
};

/// What the caller may see: products (domain.product) and, of those, output ports.
class LineageScope {
 public:
  /// Everything in the graph (the mesh admin's view; tests).
  static LineageScope Everything();
  /// The products as the principal may see them (access::AccessPolicy::Visible: hidden ports
  /// already left out).
  static LineageScope Of(const std::vector<catalog::ProductRecord>& visible);

  bool SeesProduct(const std::string& product) const;
  bool SeesPort(const std::string& product, const std::string& port) const;

 private:
  bool everything_ = false;
  std::set<std::string> products_;
  std::set<std::string> ports_;  ///< domain.product.port
};

struct LineageQuery {
  LineageDirection direction = LineageDirection::kBoth;
  int max_depth = 0;  ///< 0: unlimited; 1: direct neighbours only
};

struct LineageNode {
  LineageNodeRef ref;
  int depth = 0;  ///< hops from the start; the start is 0
  /// kUpstream or kDownstream of the start; the start itself is kBoth. A node on a cycle
  /// through the start is both, and is listed once for each.
  LineageDirection direction = LineageDirection::kBoth;
};

/// One edge the walk followed. Product level: `upstream` and `downstream` are products, read
/// through `upstream_port` by the downstream's input port `input`. Column level: both ends are
/// columns, and `input` is the downstream pipeline's input.
struct LineageLink {
  LineageNodeRef upstream;
  LineageNodeRef downstream;
  std::string upstream_port;  ///< the output port read
  std::string input;
  bool direct = true;  ///< column level: false when read by a join, filter or grouping
  int depth = 1;       ///< the depth of its far end (1: it touches the start)
  LineageDirection direction = LineageDirection::kUpstream;  ///< the walk that followed it
};

struct LineageWalk {
  LineageNode start;
  LineageQuery query;
  /// The start first, then the upstream nodes, then the downstream ones, each by depth, then
  /// by id.
  std::vector<LineageNode> nodes;
  /// Every edge followed, once, in the order nodes were expanded.
  std::vector<LineageLink> links;
  /// True when the depth limit stopped the walk while edges led further.
  bool truncated = false;

  /// The ids of the nodes on one side (kUpstream or kDownstream), in `nodes` order.
  std::vector<std::string> Ids(LineageDirection side) const;
};

/// The lineage graph of a mesh: immutable, indexed both ways at both levels.
class LineageGraph {
 public:
  LineageGraph(std::vector<catalog::LineageEdge> products,
               std::vector<catalog::ColumnLineageRecord> columns);
  /// Every edge in the catalog (ListLineage and ListColumnLineage).
  static Result<LineageGraph> Load(const catalog::Catalog& catalog);
  /// The graph of `catalog`, shared: loaded again only when the catalog's Generation() moved
  /// (or another catalog is asked for), so a server does not read every edge per request. Any
  /// thread may call it.
  static Result<std::shared_ptr<const LineageGraph>> Shared(const catalog::Catalog& catalog);

  /// Walks from `start` (a product, or a column when start.port is set). kNotFound, worded as
  /// for an unknown name, when the start's product or port is outside `scope`. A column is not
  /// checked against the port's schema here: see ResolveColumn.
  Result<LineageWalk> Walk(const LineageNodeRef& start, const LineageQuery& query,
                           const LineageScope& scope) const;

  /// The column level edges that touch `product` (either end), both ends in `scope`.
  std::vector<catalog::ColumnLineageRecord> ColumnEdgesOf(const std::string& product,
                                                          const LineageScope& scope) const;

 private:
  struct Step {
    LineageLink link;
    LineageNodeRef next;
  };
  /// The visible edges out of `node`, walking `side` (kUpstream or kDownstream).
  std::vector<Step> Steps(const LineageNodeRef& node, LineageDirection side,
                          const LineageScope& scope) const;
  void WalkSide(LineageWalk& walk, LineageDirection side, const LineageScope& scope) const;

  std::vector<catalog::LineageEdge> products_;
  std::vector<catalog::ColumnLineageRecord> columns_;
  std::multimap<std::string, size_t> product_up_;    ///< downstream -> edge
  std::multimap<std::string, size_t> product_down_;  ///< upstream -> edge
  std::multimap<std::string, size_t> column_up_;     ///< downstream product\0port\0column
  std::multimap<std::string, size_t> column_down_;   ///< upstream product\0port\0column
  std::multimap<std::string, size_t> port_up_;       ///< downstream product\0port
  std::multimap<std::string, size_t> port_down_;     ///< upstream product\0port
};

/// The column `spec` of `product`: "port.column", or "column" alone when the product has one
/// output port. kNotFound naming what exists (the ports, or the port's columns) otherwise.
Result<LineageNodeRef> ResolveColumn(const catalog::ProductRecord& product, std::string_view spec);

/// The walk as one stable JSON document: start, level (product or column), direction, depth
/// (null: unlimited), truncated, nodes [{id, product, port, column, depth, direction}], edges
/// [{upstream, downstream, upstream_port, input (product level: downstream_input too), direct,
/// depth, direction}], and the upstream and downstream ids.
nlohmann::json LineageJson(const LineageWalk& walk);

/// The walk in Graphviz: `digraph lineage { ... }`, quoted ids, edges upstream -> downstream,
/// the start in bold, indirect column edges dashed.
std::string LineageDot(const LineageWalk& walk);

}  // namespace plexus::discovery
