// Finding data products (issue 4):
//   GET /api/v1/search?q=&domain=&tag=&status=&classification=&owner=   ranked, with facets,
//                                                 highlights and matching glossary terms (paged)
//   GET /api/v1/products/{ref}/usage[?days=N]     who reads the product, how often, which columns
#include <chrono>
#include <mutex>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/discovery/search.h"
#include "plexus/discovery/search_json.h"
#include "plexus/discovery/usage.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/server/product_json.h"

namespace plexus::server::internal {

using nlohmann::json;

namespace {

/// The server's search index and usage counter, shared by every request.
struct Discovery {
  explicit Discovery(catalog::Catalog* c) : catalog(c), index(c) {}

  /// Counts the audit trail into usage at most every kUsageInterval (a search or a usage
  /// request is the trigger; the count is incremental).
  Status CountUsage(bool now) {
    static constexpr auto kUsageInterval = std::chrono::seconds(30);
    std::lock_guard lock(mu);
    auto at = std::chrono::steady_clock::now();
    if (!now && counted && at - last_count < kUsageInterval) return Status::OK();
    if (counter == nullptr) {
      PLEXUS_ASSIGN_OR_RETURN(counter, discovery::UsageCounter::Open(catalog));
    }
    PLEXUS_RETURN_IF_ERROR(counter->Count().status());
    counted = true;
    last_count = at;
    return Status::OK();
  }

  catalog::Catalog* catalog;
  discovery::SearchIndex index;
  std::mutex mu;
  std::unique_ptr<discovery::UsageCounter> counter;
  bool counted = false;
  std::chrono::steady_clock::time_point last_count{};
};

}  // namespace

void SearchRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  auto shared = std::make_shared<Discovery>(catalog);
  routes.Get("/api/v1/search",
             "Data products matching words in their names, tags, columns, business names, "
             "descriptions, owners and glossary terms: ranked by relevance, trust and usage, "
             "with facets, highlights and the glossary terms that match",
             [shared](const auto& req, auto& res, const auto& principal) {
               std::string q = req.get_param_value("q");
               if (discovery::SearchWords(q).empty()) {
                 return SendError(res, InvalidArgument("search needs words: ?q=orders"));
               }
               auto page = ReadPage(req);
               if (!page.ok()) return SendError(res, page.status());
               discovery::SearchOptions options;
               options.text = q;
               options.limit = page->limit;
               options.offset = page->offset;
               for (const char* facet : discovery::kFacets) {
                 size_t n = req.get_param_value_count(facet);
                 for (size_t i = 0; i < n; i++) {
                   options.filters[facet].push_back(req.get_param_value(facet, i));
                 }
               }
               Status counted = shared->CountUsage(false);
               if (!counted.ok()) return SendError(res, counted);
               auto found = shared->index.Search(principal, options);
               if (!found.ok()) return SendError(res, found.status());
               json body = discovery::SearchResponseJson(*found);
               body["query"] = q;
               body["results"] = json::array();
               for (const auto& r : found->results) {
                 json item = discovery::SearchResultJson(r);
                 item["self"] = address::ProductUrl(r.product);
                 body["results"].push_back(std::move(item));
               }
               AddNextLink(req, *page,
                           page->offset + found->results.size() <
                               static_cast<size_t>(found->total),
                           body);
               SendJson(res, body);
             })
      .Tag("search")
      .Paged()
      .Query("q", "words to find (every word must match; prefixes and typos are fine)")
      .Query("domain", "only products of this domain (repeat for any of several)")
      .Query("tag", "only products with this tag (repeat for any of several)")
      .Query("status", "only products with this status (repeat for any of several)")
      .Query("classification",
             "only products with a column of this classification (repeat for any of several)")
      .Query("owner", "only products with this owner or team (repeat for any of several)");

  routes.Get("/api/v1/products/{ref}/usage",
             "Who reads the product, how often and which columns (from the audit trail)",
             [shared, catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto policy = CurrentPolicy(*queries);
               if (!policy.ok()) return SendError(res, policy.status());
               auto product = VisibleProduct(*catalog, **policy, principal, req.matches[1].str());
               if (!product.ok()) return SendError(res, product.status());
               int days = 30;
               std::string text = req.get_param_value("days");
               if (!text.empty()) {
                 if (text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos ||
                     std::stoi(text) < 1) {
                   return SendError(res, InvalidArgument("days must be a number from 1"));
                 }
                 days = std::stoi(text);
               }
               Status counted = shared->CountUsage(true);
               if (!counted.ok()) return SendError(res, counted);
               auto usage = catalog->GetProductUsage(product->QualifiedName(),
                                                     discovery::DaysAgo(days));
               if (!usage.ok()) return SendError(res, usage.status());
               json readers = json::array(), columns = json::array(), by_day = json::array();
               for (const auto& r : usage->readers) {
                 readers.push_back({{"principal", r.principal}, {"queries", r.queries},
                                    {"rows", r.rows}, {"last_at", r.last_at}});
               }
               for (const auto& c : usage->columns) {
                 columns.push_back({{"port", c.port}, {"column", c.column},
                                    {"id", address::ColumnId(product->QualifiedName(), c.port,
                                                             c.column)},
                                    {"queries", c.queries}});
               }
               for (const auto& [day, n] : usage->days) {
                 by_day.push_back({{"day", day}, {"queries", n}});
               }
               SendJson(res, {{"product", product->QualifiedName()},
                              {"days", days},
                              {"queries", usage->total.queries},
                              {"readers", usage->total.readers},
                              {"rows", usage->total.rows},
                              {"last_read_at", usage->total.last_at},
                              {"by_reader", readers},
                              {"columns", columns},
                              {"by_day", by_day}});
             })
      .Tag("usage")
      .Query("days", "the window, in days (default 30; columns are counted since ever)",
             "integer");
}

}  // namespace plexus::server::internal
