// Finding data products (issue 4): GET /api/v1/search, ranked, with facets and highlights.
#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/server/product_json.h"
#include "plexus/server/product_search.h"

namespace plexus::server::internal {

using nlohmann::json;

void SearchRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/search",
             "Data products matching words in their names, tags, columns and descriptions",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               std::string q = req.get_param_value("q");
               if (q.find_first_not_of(" \t") == std::string::npos) {
                 return SendError(res, InvalidArgument("search needs words: ?q=orders"));
               }
               auto policy = CurrentPolicy(*queries);
               if (!policy.ok()) return SendError(res, policy.status());
               auto visible = VisibleProducts(*catalog, **policy, principal);
               if (!visible.ok()) return SendError(res, visible.status());
               std::vector<SearchHit> hits = SearchProducts(*visible, q);
               SendPage(req, res, hits, "results", [](const SearchHit& hit) {
                 json item = ProductSummaryJson(*hit.product);
                 item["score"] = hit.score;
                 item["matched"] = hit.matched;
                 return item;
               });
             })
      .Tag("search")
      .Paged()
      .Query("q", "words to find (all must match)");
}

}  // namespace plexus::server::internal
