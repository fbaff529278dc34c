#include "plexus/discovery/search_json.h"

namespace plexus::discovery {

using nlohmann::json;

namespace {

std::string Marked(const std::string& text) {
  return RenderHighlight(text, "<mark>", "</mark>", /*html=*/true);
}

}  // namespace

json SearchResultJson(const SearchResult& r) {
  json highlights = json::array();
  for (const auto& [field, text] : r.highlights) {
    highlights.push_back({{"field", field}, {"text", Marked(text)}});
  }
  // Named as in the products API: name is domain.product, id the ODPS id.
  return {{"name", r.product},
          {"id", r.product_id},
          {"domain", r.domain},
          {"status", r.status},
          {"tags", r.tags},
          {"ports", r.ports},
          {"score", r.score},
          {"relevance", r.relevance},
          {"trust", r.trust},
          {"usage", {{"queries_30d", r.queries_30d}, {"readers_30d", r.readers_30d}}},
          {"highlights", highlights}};
}

json SearchResponseJson(const SearchResponse& response) {
  json facets = json::object();
  for (const char* facet : kFacets) {
    json values = json::array();
    auto it = response.facets.find(facet);
    if (it != response.facets.end()) {
      for (const auto& v : it->second) values.push_back({{"value", v.value}, {"count", v.count}});
    }
    facets[facet] = values;
  }
  json terms = json::array();
  for (const auto& t : response.terms) {
    terms.push_back({{"id", t.id}, {"name", Marked(t.name)}, {"definition", Marked(t.definition)}});
  }
  return {{"total", response.total},
          {"facets", facets},
          {"terms", terms},
          {"corrections", response.corrections},
          {"ignored", response.ignored}};
}

}  // namespace plexus::discovery
