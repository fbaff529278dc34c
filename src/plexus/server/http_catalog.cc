// Reading the catalog beyond products: lineage, runs and quality results, the CLI's
// lineage, show and test answers. Everything is cut to what the caller may see: an edge, run
// or result of a product the caller cannot see is left out, as if it did not exist.
//   GET /api/v1/products/{ref}/lineage      upstream and downstream, product or column level
//                                           (?depth=N&direction=up|down|both&column=&format=)
//   GET /api/v1/products/{ref}/quality      last quality results (?run=ID: that run's)
//   GET /api/v1/runs[?product=]             pipeline runs, newest first (paged)
//   GET /api/v1/runs/{id}                   one run with its quality results
#include <charconv>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/discovery/lineage.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/server/product_json.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

json RunJson(const catalog::RunRecord& r) {
  return {{"id", r.id},           {"product", r.product}, {"product_id", r.product_id},
          {"started_at", r.started_at}, {"finished_at", r.finished_at},
          {"status", r.status},   {"reason", r.reason},   {"rows", r.rows},
          {"trigger", r.trigger}, {"attempt", r.attempt}};
}

json QualityJson(const catalog::QualityResultRecord& q) {
  json samples = json::parse(q.samples.empty() ? "[]" : q.samples, nullptr, false);
  return {{"run_id", q.run_id == 0 ? json(nullptr) : json(q.run_id)},
          {"port", q.port},
          {"major", q.major},
          {"rule", q.rule},
          {"column", q.column},
          {"check", q.check},
          {"status", q.status},
          {"measured", q.has_measured ? json(q.measured) : json(nullptr)},
          {"unit", q.unit},
          {"threshold", q.threshold},
          {"severity", q.severity},
          {"samples", samples.is_discarded() ? json::array() : samples},
          {"message", q.message},
          {"checked_at", q.checked_at}};
}

/// Names (domain.product) and ids of the products the principal may see.
struct VisibleSet {
  std::vector<catalog::ProductRecord> products;
  std::set<std::string> names;
  std::set<std::string> ids;
};

Result<VisibleSet> LoadVisible(const catalog::Catalog& catalog, access::QueryService& queries,
                               const access::Principal& principal) {
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  VisibleSet out;
  PLEXUS_ASSIGN_OR_RETURN(out.products, VisibleProducts(catalog, *policy, principal));
  for (const auto& p : out.products) {
    out.names.insert(p.QualifiedName());
    out.ids.insert(p.id);
  }
  return out;
}

/// The product `ref` (id or domain.product) among the visible ones.
const catalog::ProductRecord* FindVisible(const VisibleSet& visible, const std::string& ref) {
  for (const auto& p : visible.products) {
    if (p.id == ref || p.QualifiedName() == ref) return &p;
  }
  return nullptr;
}

/// Reads ?depth= (a whole number, at least 1; absent: unlimited).
Result<int> ReadDepth(const httplib::Request& req) {
  std::string text = req.get_param_value("depth");
  if (text.empty()) return 0;
  if (text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9 ||
      std::stoi(text) < 1) {
    return InvalidArgument("depth must be a whole number of at least 1");
  }
  return std::stoi(text);
}

/// The URL of a lineage node: its product, its column, or its port ("*": the whole port).
std::string NodeUrl(const discovery::LineageNodeRef& ref) {
  if (!ref.IsColumn()) return address::ProductUrl(ref.product);
  if (ref.column == "*") return address::PortUrl(ref.product, ref.port);
  return address::ColumnUrl(ref.product, ref.port, ref.column);
}

/// What a lineage request asks for: where to start, how far, which way, in which format.
struct LineageRequest {
  discovery::LineageNodeRef start;
  discovery::LineageQuery query;
  std::string format;
};

/// Reads ?column=, ?depth=, ?direction= and ?format= (kInvalidArgument for a bad value,
/// kNotFound naming what exists for an unknown column).
Result<LineageRequest> ReadLineageRequest(const httplib::Request& req,
                                          const catalog::ProductRecord& product) {
  LineageRequest out;
  out.format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (out.format != "json" && out.format != "dot") {
    return InvalidArgument("format must be json or dot");
  }
  PLEXUS_ASSIGN_OR_RETURN(out.query.max_depth, ReadDepth(req));
  PLEXUS_ASSIGN_OR_RETURN(out.query.direction,
                          discovery::ParseLineageDirection(req.has_param("direction")
                                                               ? req.get_param_value("direction")
                                                               : "both"));
  out.start = {product.QualifiedName(), "", ""};
  if (req.has_param("column")) {
    PLEXUS_ASSIGN_OR_RETURN(out.start,
                            discovery::ResolveColumn(product, req.get_param_value("column")));
  }
  return out;
}

/// The lineage of `product` (or of one of its columns, ?column=) as the query asks: json, the
/// library's document with each node's `self`, the product's name and its own column edges
/// (`columns`); or dot.
void SendLineage(const catalog::Catalog& catalog, const VisibleSet& visible,
                 const catalog::ProductRecord& product, const httplib::Request& req,
                 httplib::Response& res) {
  auto request = ReadLineageRequest(req, product);
  if (!request.ok()) return SendError(res, request.status());
  auto graph = discovery::LineageGraph::Shared(catalog);
  if (!graph.ok()) return SendError(res, graph.status());
  auto scope = discovery::LineageScope::Of(visible.products);
  auto walk = (*graph)->Walk(request->start, request->query, scope);
  if (!walk.ok()) return SendError(res, walk.status());
  if (request->format == "dot") return res.set_content(discovery::LineageDot(*walk), "text/vnd.graphviz");
  json body = discovery::LineageJson(*walk);
  body["start"]["self"] = NodeUrl(walk->start.ref);
  for (size_t i = 0; i < walk->nodes.size(); i++) {
    body["nodes"][i]["self"] = NodeUrl(walk->nodes[i].ref);
  }
  body["product"] = product.QualifiedName();
  json columns = json::array();
  for (const auto& c : (*graph)->ColumnEdgesOf(product.QualifiedName(), scope)) {
    columns.push_back({{"downstream", c.downstream + "." + c.downstream_port},
                       {"downstream_column", c.downstream_column},
                       {"upstream", c.upstream + "." + c.upstream_port},
                       {"upstream_column", c.upstream_column},
                       {"input", c.input},
                       {"direct", c.direct}});
  }
  body["columns"] = columns;
  SendJson(res, body);
}

/// Answers with `then(visible, product)` when the route's {ref} is a product the caller sees.
template <typename Then>
void WithVisible(catalog::Catalog* catalog, access::QueryService* queries,
                 const httplib::Request& req, httplib::Response& res,
                 const access::Principal& principal, Then then) {
  auto visible = LoadVisible(*catalog, *queries, principal);
  if (!visible.ok()) return SendError(res, visible.status());
  const catalog::ProductRecord* product = FindVisible(*visible, req.matches[1].str());
  if (product == nullptr) {
    return SendError(res, NotFound("unknown data product " + req.matches[1].str() +
                                   " (see /api/v1/products)"));
  }
  then(*visible, *product);
}

void LineageAndQualityRoutes(RouteTable& routes, catalog::Catalog* catalog,
                             access::QueryService* queries) {
  routes.Get("/api/v1/products/{ref}/lineage",
             "What the product (or one of its columns) reads and what reads it, to any depth: "
             "nodes and edges with their depth, or Graphviz with ?format=dot",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithVisible(catalog, queries, req, res, principal,
                           [&](const VisibleSet& visible, const catalog::ProductRecord& p) {
                             SendLineage(*catalog, visible, p, req, res);
                           });
             })
      .Tag("lineage")
      .Query("depth", "how many hops to walk (default: all; 1: direct neighbours)", "integer")
      .Query("direction", "up, down or both (default)")
      .Query("column", "walk one column: port.column, or column when the product has one port")
      .Query("format", "json (default) or dot (Graphviz, text/vnd.graphviz)");
  routes.Get("/api/v1/products/{ref}/quality",
             "The last quality check of each port (or one run's), as plexus show prints",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithVisible(catalog, queries, req, res, principal,
                           [&](const VisibleSet&, const catalog::ProductRecord& p) {
                             int64_t run = 0;
                             std::string text = req.get_param_value("run");
                             if (!text.empty()) {
                               if (text.find_first_not_of("0123456789") != std::string::npos ||
                                   text.size() > 18) {
                                 return SendError(res, InvalidArgument("run must be a number"));
                               }
                               run = std::stoll(text);
                             }
                             auto results = catalog->ListQualityResults(p.id, run);
                             if (!results.ok()) return SendError(res, results.status());
                             std::vector<catalog::QualityResultRecord> shown;
                             for (auto& q : *results) {
                               for (const auto& port : p.outputs) {
                                 if (port.name == q.port) {
                                   shown.push_back(std::move(q));
                                   break;
                                 }
                               }
                             }
                             SendPage(req, res, shown, "results", QualityJson);
                           });
             })
      .Tag("quality")
      .Paged()
      .Query("run", "a run's id: that run's results", "integer");
}

void RunRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/runs", "Pipeline runs of the products the caller may see, newest first",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto visible = LoadVisible(*catalog, *queries, principal);
               if (!visible.ok()) return SendError(res, visible.status());
               std::string product_id;
               if (req.has_param("product")) {
                 const auto* p = FindVisible(*visible, req.get_param_value("product"));
                 if (p == nullptr) {
                   return SendError(res, NotFound("unknown data product " +
                                                  req.get_param_value("product")));
                 }
                 product_id = p->id;
               }
               auto page = ReadPage(req);
               if (!page.ok()) return SendError(res, page.status());
               catalog::RunQuery query;  // visibility and paging in SQL: never the whole history
               query.products = product_id.empty() ? visible->ids
                                                   : std::set<std::string>{product_id};
               query.offset = static_cast<int64_t>(page->offset);
               query.limit = static_cast<int64_t>(page->limit) + 1;  // one more: a next page?
               auto runs = catalog->ListRuns(query);
               if (!runs.ok()) return SendError(res, runs.status());
               bool more = runs->size() > page->limit;
               json list = json::array();
               for (size_t i = 0; i < runs->size() && i < page->limit; i++) {
                 list.push_back(RunJson((*runs)[i]));
               }
               json body = {{"runs", std::move(list)}};
               AddNextLink(req, *page, more, body);
               SendJson(res, body);
             })
      .Tag("runs")
      .Paged()
      .Query("product", "domain.product or id: only its runs");
  routes.Get("/api/v1/runs/{id}", "One pipeline run with its quality results",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto visible = LoadVisible(*catalog, *queries, principal);
               if (!visible.ok()) return SendError(res, visible.status());
               int64_t id = 0;
               const std::string text = req.matches[1].str();
               auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
               auto run = error == std::errc() && end == text.data() + text.size()
                              ? catalog->GetRun(id)
                              : Result<catalog::RunRecord>(NotFound("no run " + text));
               if (!run.ok() || !visible->ids.count(run->product_id)) {  // hidden: like unknown
                 return SendError(res, NotFound("no run " + text));
               }
               auto results = catalog->ListQualityResults(run->product_id, run->id);
               if (!results.ok()) return SendError(res, results.status());
               json answer = RunJson(*run);
               answer["quality"] = json::array();
               for (const auto& q : *results) answer["quality"].push_back(QualityJson(q));
               SendJson(res, answer);
             })
      .Tag("runs");
}

}  // namespace

void CatalogRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  LineageAndQualityRoutes(routes, catalog, queries);
  RunRoutes(routes, catalog, queries);
}

}  // namespace plexus::server::internal
