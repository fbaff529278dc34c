// Lineage walks over a small hand-made graph: depth, direction, cycles, visibility, columns.
#include "plexus/discovery/lineage.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace plexus::discovery {
namespace {

catalog::LineageEdge Reads(std::string downstream, std::string input, std::string upstream,
                           std::string port) {
  return {std::move(upstream), std::move(port), std::move(downstream), std::move(input)};
}

catalog::ColumnLineageRecord ColumnReads(std::string down, std::string down_port,
                                         std::string down_column, std::string up,
                                         std::string up_port, std::string up_column,
                                         bool direct = true) {
  catalog::ColumnLineageRecord r;
  r.downstream = std::move(down);
  r.downstream_port = std::move(down_port);
  r.downstream_column = std::move(down_column);
  r.upstream = std::move(up);
  r.upstream_port = std::move(up_port);
  r.upstream_column = std::move(up_column);
  r.input = r.upstream_port;
  r.direct = direct;
  return r;
}

/// A product `domain.name` with output ports, each {port, columns...}.
catalog::ProductRecord Product(const std::string& qualified,
                               std::vector<std::vector<std::string>> ports) {
  catalog::ProductRecord p;
  p.domain = qualified.substr(0, qualified.find('.'));
  p.name = qualified.substr(qualified.find('.') + 1);
  for (const auto& spec : ports) {
    catalog::OutputPortRecord o;
    o.domain = p.domain;
    o.product = p.name;
    o.name = spec[0];
    o.major = 1;
    for (size_t i = 1; i < spec.size(); i++) {
      catalog::ColumnRecord c;
      c.name = spec[i];
      o.columns.push_back(c);
    }
    p.outputs.push_back(o);
  }
  return p;
}

// src.raw -> mid.clean -> top.report; mid.clean -> top.other; sec.secret -> mid.clean;
// loop.x <-> loop.y; a.a -> h.h -> c.c.
LineageGraph Graph() {
  std::vector<catalog::LineageEdge> products = {
      Reads("mid.clean", "raw", "src.raw", "raw"),
      Reads("mid.clean", "secret", "sec.secret", "s"),
      Reads("top.report", "clean", "mid.clean", "clean"),
      Reads("top.other", "clean", "mid.clean", "clean"),
      Reads("loop.x", "y", "loop.y", "y"),
      Reads("loop.y", "x", "loop.x", "x"),
      Reads("h.h", "a", "a.a", "a"),
      Reads("c.c", "h", "h.h", "h"),
  };
  std::vector<catalog::ColumnLineageRecord> columns = {
      ColumnReads("mid.clean", "clean", "id", "src.raw", "raw", "id"),
      ColumnReads("mid.clean", "clean", "id", "sec.secret", "s", "id", false),
      ColumnReads("mid.clean", "clean", "amount", "src.raw", "raw", "amount"),
      ColumnReads("mid.clean", "clean", "amount", "src.raw", "raw", "status", false),
      ColumnReads("top.report", "report", "total", "mid.clean", "clean", "amount"),
      ColumnReads("top.report", "report", "n", "mid.clean", "clean", "*", false),
  };
  return LineageGraph(products, columns);
}

/// "id@depth" of each node on one side, in walk order.
std::vector<std::string> Side(const LineageWalk& walk, LineageDirection side) {
  std::vector<std::string> out;
  for (const auto& n : walk.nodes) {
    if (n.direction == side) out.push_back(n.ref.Id() + "@" + std::to_string(n.depth));
  }
  return out;
}

constexpr auto kUp = LineageDirection::kUpstream;
constexpr auto kDown = LineageDirection::kDownstream;

LineageWalk MustWalk(const LineageGraph& graph, const LineageNodeRef& start, LineageQuery query,
                     const LineageScope& scope = LineageScope::Everything()) {
  auto walk = graph.Walk(start, query, scope);
  EXPECT_TRUE(walk.ok()) << walk.status().ToString();
  return walk.ok() ? *walk : LineageWalk{};
}

TEST(LineageTest, UpstreamAndDownstreamToAnyDepth) {
  auto graph = Graph();
  auto up = MustWalk(graph, {"top.report", "", ""}, {kUp, 0});
  EXPECT_EQ(Side(up, kUp), (std::vector<std::string>{"mid.clean@1", "sec.secret@2", "src.raw@2"}));
  EXPECT_TRUE(Side(up, kDown).empty());
  EXPECT_FALSE(up.truncated);
  EXPECT_EQ(up.nodes.front().ref.Id(), "top.report");
  EXPECT_EQ(up.links.size(), 3u);

  auto down = MustWalk(graph, {"src.raw", "", ""}, {kDown, 0});
  EXPECT_EQ(Side(down, kDown),
            (std::vector<std::string>{"mid.clean@1", "top.other@2", "top.report@2"}));
  EXPECT_TRUE(Side(down, kUp).empty());

  auto both = MustWalk(graph, {"mid.clean", "", ""}, {LineageDirection::kBoth, 0});
  EXPECT_EQ(both.Ids(kUp), (std::vector<std::string>{"sec.secret", "src.raw"}));
  EXPECT_EQ(both.Ids(kDown), (std::vector<std::string>{"top.other", "top.report"}));
}

TEST(LineageTest, DepthOneIsTheDirectNeighbours) {
  auto graph = Graph();
  auto walk = MustWalk(graph, {"top.report", "", ""}, {kUp, 1});
  EXPECT_EQ(Side(walk, kUp), (std::vector<std::string>{"mid.clean@1"}));
  ASSERT_EQ(walk.links.size(), 1u);
  EXPECT_EQ(walk.links[0].upstream.Id(), "mid.clean");
  EXPECT_EQ(walk.links[0].upstream_port, "clean");
  EXPECT_EQ(walk.links[0].input, "clean");
  EXPECT_EQ(walk.links[0].depth, 1);
  EXPECT_TRUE(walk.truncated);  // src.raw and sec.secret lie beyond

  auto two = MustWalk(graph, {"top.report", "", ""}, {kUp, 2});
  EXPECT_EQ(two.Ids(kUp).size(), 3u);
  EXPECT_FALSE(two.truncated);
  for (const auto& link : two.links) {
    EXPECT_EQ(link.depth, link.downstream.product == "top.report" ? 1 : 2) << link.upstream.Id();
  }
}

TEST(LineageTest, CyclesEnd) {
  auto graph = Graph();
  auto walk = MustWalk(graph, {"loop.x", "", ""}, {LineageDirection::kBoth, 0});
  EXPECT_EQ(Side(walk, kUp), (std::vector<std::string>{"loop.y@1"}));
  EXPECT_EQ(Side(walk, kDown), (std::vector<std::string>{"loop.y@1"}));
  EXPECT_EQ(walk.links.size(), 4u);  // both edges, once per direction
  EXPECT_EQ(walk.nodes.size(), 3u);
}

TEST(LineageTest, HiddenProductsAreLeftOutAsIfTheyDidNotExist) {
  auto graph = Graph();
  auto scope = LineageScope::Of({Product("src.raw", {{"raw", "id"}}),
                                 Product("mid.clean", {{"clean", "id", "amount"}}),
                                 Product("top.report", {{"report", "total", "n"}}),
                                 Product("a.a", {{"a"}}), Product("c.c", {{"c"}})});
  auto walk = MustWalk(graph, {"top.report", "", ""}, {kUp, 0}, scope);
  EXPECT_EQ(walk.Ids(kUp), (std::vector<std::string>{"mid.clean", "src.raw"}));
  std::string text = LineageJson(walk).dump() + LineageDot(walk);
  EXPECT_EQ(text.find("sec"), std::string::npos) << text;

  // A hidden product never bridges two visible ones.
  auto bridged = MustWalk(graph, {"c.c", "", ""}, {kUp, 0}, scope);
  EXPECT_TRUE(bridged.Ids(kUp).empty());
  auto from_a = MustWalk(graph, {"a.a", "", ""}, {kDown, 0}, scope);
  EXPECT_TRUE(from_a.Ids(kDown).empty());

  // Nor is the start: a hidden product reads as an unknown one.
  auto hidden = graph.Walk({"sec.secret", "", ""}, {kDown, 0}, scope);
  EXPECT_EQ(hidden.status().code(), StatusCode::kNotFound);
  auto unknown = graph.Walk({"no.such", "", ""}, {kDown, 0}, scope);
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST(LineageTest, AnEdgeThroughAHiddenPortIsLeftOut) {
  auto graph = Graph();
  // src.raw is visible but its port `raw` is not (a private port seen from outside).
  auto scope = LineageScope::Of({Product("src.raw", {{"other"}}),
                                 Product("mid.clean", {{"clean", "id", "amount"}}),
                                 Product("top.report", {{"report", "total", "n"}})});
  auto walk = MustWalk(graph, {"top.report", "", ""}, {kUp, 0}, scope);
  EXPECT_EQ(walk.Ids(kUp), (std::vector<std::string>{"mid.clean"}));
  auto columns = MustWalk(graph, {"mid.clean", "clean", "amount"}, {kUp, 0}, scope);
  EXPECT_TRUE(columns.Ids(kUp).empty());
  EXPECT_EQ(graph.Walk({"src.raw", "raw", "id"}, {kDown, 0}, scope).status().code(),
            StatusCode::kNotFound);
}

TEST(LineageTest, ColumnUpstreamFollowsWhatTheColumnIsComputedFrom) {
  auto graph = Graph();
  auto walk = MustWalk(graph, {"top.report", "report", "total"}, {kUp, 0});
  EXPECT_EQ(Side(walk, kUp),
            (std::vector<std::string>{"mid.clean.clean.amount@1", "src.raw.raw.amount@2",
                                      "src.raw.raw.status@2"}));
  auto status = std::find_if(walk.links.begin(), walk.links.end(), [](const LineageLink& l) {
    return l.upstream.column == "status";
  });
  ASSERT_NE(status, walk.links.end());
  EXPECT_FALSE(status->direct);
  EXPECT_EQ(status->downstream.Id(), "mid.clean.clean.amount");

  // A count(*) reads the whole port: upstream of it is everything the port is made from.
  auto star = MustWalk(graph, {"top.report", "report", "n"}, {kUp, 0});
  EXPECT_EQ(Side(star, kUp),
            (std::vector<std::string>{"mid.clean.clean.*@1", "sec.secret.s.id@2",
                                      "src.raw.raw.amount@2", "src.raw.raw.id@2",
                                      "src.raw.raw.status@2"}));
}

TEST(LineageTest, ColumnDownstreamFollowsTheColumnAndTheWholePort) {
  auto graph = Graph();
  auto walk = MustWalk(graph, {"src.raw", "raw", "amount"}, {kDown, 0});
  EXPECT_EQ(Side(walk, kDown),
            (std::vector<std::string>{"mid.clean.clean.amount@1", "top.report.report.n@2",
                                      "top.report.report.total@2"}));
  auto one = MustWalk(graph, {"src.raw", "raw", "amount"}, {kDown, 1});
  EXPECT_EQ(Side(one, kDown), (std::vector<std::string>{"mid.clean.clean.amount@1"}));
  EXPECT_TRUE(one.truncated);
  auto nothing = MustWalk(graph, {"src.raw", "raw", "nobody_reads_me"}, {kDown, 0});
  EXPECT_EQ(nothing.nodes.size(), 1u);
}

TEST(LineageTest, ResolveColumnNamesWhatExists) {
  auto one_port = Product("mid.clean", {{"clean", "id", "amount"}});
  auto ref = ResolveColumn(one_port, "amount");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->Id(), "mid.clean.clean.amount");
  ASSERT_TRUE(ResolveColumn(one_port, "clean.id").ok());
  auto missing = ResolveColumn(one_port, "amout");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("columns: id, amount"), std::string::npos)
      << missing.status().ToString();

  auto two_ports = Product("d.p", {{"a", "x"}, {"b", "y"}});
  EXPECT_EQ(ResolveColumn(two_ports, "b.y")->Id(), "d.p.b.y");
  auto ambiguous = ResolveColumn(two_ports, "y");
  EXPECT_NE(ambiguous.status().message().find("ports: a, b"), std::string::npos)
      << ambiguous.status().ToString();
  auto bad_port = ResolveColumn(two_ports, "c.y");
  EXPECT_NE(bad_port.status().message().find("no output port c"), std::string::npos);
  EXPECT_EQ(ResolveColumn(two_ports, "").status().code(), StatusCode::kInvalidArgument);
}

TEST(LineageTest, JsonDocument) {
  auto graph = Graph();
  auto doc = LineageJson(MustWalk(graph, {"mid.clean", "", ""}, {LineageDirection::kBoth, 1}));
  EXPECT_EQ(doc["level"], "product");
  EXPECT_EQ(doc["depth"], 1);
  EXPECT_EQ(doc["start"]["id"], "mid.clean");
  EXPECT_EQ(doc["nodes"][0]["direction"], "start");
  EXPECT_EQ(doc["nodes"].size(), 5u);
  for (const auto& edge : doc["edges"]) {
    EXPECT_EQ(edge["depth"], 1);
    EXPECT_TRUE(edge.contains("downstream_input"));
  }
  EXPECT_EQ(doc["upstream"], nlohmann::json({"sec.secret", "src.raw"}));

  auto columns = LineageJson(MustWalk(graph, {"mid.clean", "clean", "amount"}, {kUp, 0}));
  EXPECT_EQ(columns["level"], "column");
  EXPECT_TRUE(columns["depth"].is_null());
  EXPECT_EQ(columns["nodes"][1]["port"], "raw");
  EXPECT_EQ(columns["edges"][1]["direct"], false);
}

TEST(LineageTest, DotIsAGraphvizDigraph) {
  auto graph = Graph();
  std::string dot = LineageDot(MustWalk(graph, {"mid.clean", "", ""}, {kUp, 0}));
  EXPECT_EQ(dot.rfind("digraph lineage {\n", 0), 0u) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
  EXPECT_NE(dot.find("\"src.raw\" -> \"mid.clean\" [label=\"raw\"];"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"mid.clean\" [style=bold];"), std::string::npos) << dot;

  std::string columns = LineageDot(MustWalk(graph, {"mid.clean", "clean", "amount"}, {kUp, 0}));
  EXPECT_NE(columns.find("\"src.raw.raw.status\" -> \"mid.clean.clean.amount\" [style=dashed];"),
            std::string::npos)
      << columns;

  // Quotes and backslashes in names stay inside their quoted id.
  LineageGraph odd({Reads("d.\"q\\", "i", "d.up", "p")}, {});
  std::string quoted = LineageDot(MustWalk(odd, {"d.up", "", ""}, {kDown, 0}));
  EXPECT_NE(quoted.find("\"d.up\" -> \"d.\\\"q\\\\\""), std::string::npos) << quoted;
}

TEST(LineageTest, Directions) {
  EXPECT_EQ(*ParseLineageDirection("up"), kUp);
  EXPECT_EQ(*ParseLineageDirection("downstream"), kDown);
  EXPECT_EQ(*ParseLineageDirection("both"), LineageDirection::kBoth);
  EXPECT_EQ(ParseLineageDirection("sideways").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LineageDirectionName(kUp), "upstream");
}

}  // namespace
}  // namespace plexus::discovery
