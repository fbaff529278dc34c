#include "plexus/discovery/lineage.h"

#include <algorithm>
#include <mutex>
#include <tuple>
#include <utility>

namespace plexus::discovery {
namespace {

using nlohmann::json;

std::string Key(std::string_view a, std::string_view b) {
  std::string out(a);
  out += '\0';
  out += b;
  return out;
}

std::string Key(std::string_view a, std::string_view b, std::string_view c) {
  return Key(Key(a, b), c);
}

/// Identifies one followed edge, so each is listed once however often it is reached.
std::string LinkKey(const LineageLink& link) {
  return Key(Key(link.upstream.Id(), link.downstream.Id()), link.upstream_port, link.input);
}

bool NodeOrder(const LineageNode& a, const LineageNode& b) {
  return std::tie(a.depth, a.ref) < std::tie(b.depth, b.ref);
}

/// Text inside a DOT double-quoted string.
std::string DotQuoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

Result<LineageDirection> ParseLineageDirection(std::string_view text) {
  if (text == "up" || text == "upstream") return LineageDirection::kUpstream;
  if (text == "down" || text == "downstream") return LineageDirection::kDownstream;
  if (text == "both") return LineageDirection::kBoth;
  return InvalidArgument("direction must be up, down or both, not '" + std::string(text) + "'");
}

std::string_view LineageDirectionName(LineageDirection direction) {
  switch (direction) {
    case LineageDirection::kUpstream: return "upstream";
    case LineageDirection::kDownstream: return "downstream";
    case LineageDirection::kBoth: break;
  }
  return "both";
}

std::string LineageNodeRef::Id() const {
  return IsColumn() ? product + "." + port + "." + column : product;
}

std::vector<std::string> LineageWalk::Ids(LineageDirection side) const {
  std::vector<std::string> out;
  for (const auto& node : nodes) {
    if (node.direction == side) out.push_back(node.ref.Id());
  }
  return out;
}

// ---- LineageScope ------------------------------------------------------------------------

LineageScope LineageScope::Everything() {
  LineageScope scope;
  scope.everything_ = true;
  return scope;
}

LineageScope LineageScope::Of(const std::vector<catalog::ProductRecord>& visible) {
  LineageScope scope;
  for (const auto& product : visible) {
    scope.products_.insert(product.QualifiedName());
    for (const auto& port : product.outputs) scope.ports_.insert(port.SqlName());
  }
  return scope;
}

bool LineageScope::SeesProduct(const std::string& product) const {
  return everything_ || products_.count(product) != 0;
}

bool LineageScope::SeesPort(const std::string& product, const std::string& port) const {
  return everything_ || ports_.count(product + "." + port) != 0;
}

// ---- LineageGraph ------------------------------------------------------------------------

LineageGraph::LineageGraph(std::vector<catalog::LineageEdge> products,
                           std::vector<catalog::ColumnLineageRecord> columns)
    : products_(std::move(products)), columns_(std::move(columns)) {
  for (size_t i = 0; i < products_.size(); i++) {
    product_up_.emplace(products_[i].downstream, i);
    product_down_.emplace(products_[i].upstream, i);
  }
  for (size_t i = 0; i < columns_.size(); i++) {
    const auto& c = columns_[i];
    column_up_.emplace(Key(c.downstream, c.downstream_port, c.downstream_column), i);
    column_down_.emplace(Key(c.upstream, c.upstream_port, c.upstream_column), i);
    port_up_.emplace(Key(c.downstream, c.downstream_port), i);
    port_down_.emplace(Key(c.upstream, c.upstream_port), i);
  }
}

Result<LineageGraph> LineageGraph::Load(const catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto products, catalog.ListLineage());
  PLEXUS_ASSIGN_OR_RETURN(auto columns, catalog.ListColumnLineage());
  return LineageGraph(std::move(products), std::move(columns));
}

Result<std::shared_ptr<const LineageGraph>> LineageGraph::Shared(const catalog::Catalog& catalog) {
  struct Cache {
    std::mutex mu;
    const catalog::Catalog* catalog = nullptr;
    std::pair<int64_t, int64_t> generation{-1, -1};
    std::shared_ptr<const LineageGraph> graph;
  };
  static Cache cache;
  // Read before loading: the graph kept is at least as new as the generation it is filed under.
  PLEXUS_ASSIGN_OR_RETURN(auto generation, catalog.Generation());
  {
    std::lock_guard lock(cache.mu);
    if (cache.graph && cache.catalog == &catalog && cache.generation == generation) {
      return cache.graph;
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto loaded, Load(catalog));
  auto graph = std::make_shared<const LineageGraph>(std::move(loaded));
  std::lock_guard lock(cache.mu);
  cache.catalog = &catalog;
  cache.generation = generation;
  cache.graph = graph;
  return graph;
}

std::vector<LineageGraph::Step> LineageGraph::Steps(const LineageNodeRef& node,
                                                    LineageDirection side,
                                                    const LineageScope& scope) const {
  bool up = side == LineageDirection::kUpstream;
  std::vector<Step> steps;
  if (!node.IsColumn()) {
    auto [begin, end] = (up ? product_up_ : product_down_).equal_range(node.product);
    for (auto it = begin; it != end; ++it) {
      const auto& e = products_[it->second];
      if (!scope.SeesPort(e.upstream, e.upstream_port) || !scope.SeesProduct(e.downstream)) {
        continue;
      }
      LineageLink link{{e.upstream, "", ""}, {e.downstream, "", ""}, e.upstream_port,
                       e.downstream_input, true, 0, side};
      steps.push_back({link, up ? link.upstream : link.downstream});
    }
  } else {
    // Upstream of a column: what it is computed from. Upstream of the whole port ("*"): what
    // any of its columns is. Downstream: what reads the column, or the whole port.
    std::vector<size_t> edges;
    auto collect = [&](const std::multimap<std::string, size_t>& index, const std::string& key) {
      auto [begin, end] = index.equal_range(key);
      for (auto it = begin; it != end; ++it) edges.push_back(it->second);
    };
    if (node.column == "*") {
      collect(up ? port_up_ : port_down_, Key(node.product, node.port));
    } else if (up) {
      collect(column_up_, Key(node.product, node.port, node.column));
    } else {
      collect(column_down_, Key(node.product, node.port, node.column));
      collect(column_down_, Key(node.product, node.port, "*"));
    }
    for (size_t i : edges) {
      const auto& c = columns_[i];
      if (!scope.SeesPort(c.upstream, c.upstream_port) ||
          !scope.SeesPort(c.downstream, c.downstream_port)) {
        continue;
      }
      LineageLink link{{c.upstream, c.upstream_port, c.upstream_column},
                       {c.downstream, c.downstream_port, c.downstream_column},
                       c.upstream_port, c.input, c.direct, 0, side};
      steps.push_back({link, up ? link.upstream : link.downstream});
    }
  }
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return std::tie(a.next, a.link.upstream_port, a.link.input, a.link.direct) <
           std::tie(b.next, b.link.upstream_port, b.link.input, b.link.direct);
  });
  return steps;
}

void LineageGraph::WalkSide(LineageWalk& walk, LineageDirection side,
                            const LineageScope& scope) const {
  std::set<LineageNodeRef> seen{walk.start.ref};
  std::set<std::string> links;
  std::vector<LineageNodeRef> level{walk.start.ref};
  for (int depth = 0; !level.empty(); depth++) {
    bool at_limit = walk.query.max_depth > 0 && depth >= walk.query.max_depth;
    std::vector<LineageNode> next;
    for (const auto& node : level) {
      for (auto& step : Steps(node, side, scope)) {
        if (at_limit) {
          walk.truncated = true;
          break;
        }
        step.link.depth = depth + 1;
        step.link.direction = side;
        if (links.insert(LinkKey(step.link)).second) walk.links.push_back(std::move(step.link));
        if (seen.insert(step.next).second) next.push_back({step.next, depth + 1, side});
      }
    }
    std::sort(next.begin(), next.end(), NodeOrder);
    level.clear();
    for (auto& node : next) {
      level.push_back(node.ref);
      walk.nodes.push_back(std::move(node));
    }
  }
}

Result<LineageWalk> LineageGraph::Walk(const LineageNodeRef& start, const LineageQuery& query,
                                       const LineageScope& scope) const {
  if (!scope.SeesProduct(start.product)) {
    return NotFound("unknown data product " + start.product);
  }
  if (start.IsColumn() && !scope.SeesPort(start.product, start.port)) {
    return NotFound("no output port " + start.port + " in " + start.product);
  }
  if (query.max_depth < 0) return InvalidArgument("depth must be at least 1");
  LineageWalk walk;
  walk.start = {start, 0, LineageDirection::kBoth};
  walk.query = query;
  walk.nodes.push_back(walk.start);
  if (query.direction != LineageDirection::kDownstream) {
    WalkSide(walk, LineageDirection::kUpstream, scope);
  }
  if (query.direction != LineageDirection::kUpstream) {
    WalkSide(walk, LineageDirection::kDownstream, scope);
  }
  return walk;
}

std::vector<catalog::ColumnLineageRecord> LineageGraph::ColumnEdgesOf(
    const std::string& product, const LineageScope& scope) const {
  std::vector<catalog::ColumnLineageRecord> out;
  for (const auto& c : columns_) {
    if (c.upstream != product && c.downstream != product) continue;
    if (!scope.SeesPort(c.upstream, c.upstream_port) ||
        !scope.SeesPort(c.downstream, c.downstream_port)) {
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// ---- Columns -----------------------------------------------------------------------------

Result<LineageNodeRef> ResolveColumn(const catalog::ProductRecord& product,
                                     std::string_view spec) {
  std::string name = product.QualifiedName();
  if (spec.empty()) return InvalidArgument("the column is empty: give port.column or column");
  std::vector<std::string> ports;  // distinct names, every major
  for (const auto& o : product.outputs) {
    if (std::find(ports.begin(), ports.end(), o.name) == ports.end()) ports.push_back(o.name);
  }
  std::string port, column;
  size_t dot = spec.find('.');
  if (dot != std::string_view::npos &&
      std::find(ports.begin(), ports.end(), spec.substr(0, dot)) != ports.end()) {
    port = spec.substr(0, dot);
    column = spec.substr(dot + 1);
  } else if (ports.size() == 1) {
    port = ports[0];
    column = spec;
  } else if (dot != std::string_view::npos) {
    return NotFound("no output port " + std::string(spec.substr(0, dot)) + " in " + name +
                    " (ports: " + Joined(ports) + ")");
  } else {
    return NotFound(name + " has " + std::to_string(ports.size()) +
                    " output ports: give the column as port.column (ports: " + Joined(ports) +
                    ")");
  }
  std::vector<std::string> columns;  // every major's, newest first
  std::vector<const catalog::OutputPortRecord*> majors;
  for (const auto& o : product.outputs) {
    if (o.name == port) majors.push_back(&o);
  }
  std::sort(majors.begin(), majors.end(),
            [](const auto* a, const auto* b) { return a->major > b->major; });
  for (const auto* o : majors) {
    for (const auto& c : o->columns) {
      if (c.name == column) return LineageNodeRef{name, port, column};
      if (std::find(columns.begin(), columns.end(), c.name) == columns.end()) {
        columns.push_back(c.name);
      }
    }
  }
  return NotFound("no column " + column + " in " + name + "." + port +
                  " (columns: " + Joined(columns) + ")");
}

// ---- Output ------------------------------------------------------------------------------

json LineageJson(const LineageWalk& walk) {
  bool columns = walk.start.ref.IsColumn();
  auto node_json = [&](const LineageNode& n) {
    json node = {{"id", n.ref.Id()}, {"product", n.ref.product}};
    if (columns) {
      node["port"] = n.ref.port;
      node["column"] = n.ref.column;
    }
    node["depth"] = n.depth;
    node["direction"] =
        n.depth == 0 ? "start" : std::string(LineageDirectionName(n.direction));
    return node;
  };
  json nodes = json::array();
  for (const auto& n : walk.nodes) nodes.push_back(node_json(n));
  json edges = json::array();
  for (const auto& l : walk.links) {
    json edge = {{"upstream", l.upstream.Id()},
                 {"upstream_port", l.upstream_port},
                 {"downstream", l.downstream.Id()}};
    if (columns) {
      edge["input"] = l.input;
      edge["direct"] = l.direct;
    } else {
      edge["downstream_input"] = l.input;
    }
    edge["depth"] = l.depth;
    edge["direction"] = std::string(LineageDirectionName(l.direction));
    edges.push_back(std::move(edge));
  }
  return json{{"start", node_json(walk.start)},
              {"level", columns ? "column" : "product"},
              {"direction", std::string(LineageDirectionName(walk.query.direction))},
              {"depth", walk.query.max_depth > 0 ? json(walk.query.max_depth) : json(nullptr)},
              {"truncated", walk.truncated},
              {"nodes", nodes},
              {"edges", edges},
              {"upstream", walk.Ids(LineageDirection::kUpstream)},
              {"downstream", walk.Ids(LineageDirection::kDownstream)}};
}

std::string LineageDot(const LineageWalk& walk) {
  bool columns = walk.start.ref.IsColumn();
  std::string out = "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n";
  std::set<std::string> declared;
  for (const auto& n : walk.nodes) {
    std::string id = n.ref.Id();
    if (!declared.insert(id).second) continue;
    out += "  " + DotQuoted(id);
    if (n.depth == 0) out += " [style=bold]";
    out += ";\n";
  }
  for (const auto& l : walk.links) {
    out += "  " + DotQuoted(l.upstream.Id()) + " -> " + DotQuoted(l.downstream.Id());
    if (columns) {
      if (!l.direct) out += " [style=dashed]";
    } else {
      out += " [label=" + DotQuoted(l.upstream_port) + "]";
    }
    out += ";\n";
  }
  return out + "}\n";
}

}  // namespace plexus::discovery
