// File: plexus/server/http_routes.h (internal to the server module)
//
// The one route table of the HTTP API: each route is declared once, with its method, its
// OpenAPI path (`/api/v1/products/{ref}`), what it does and its parameters, and the table both
// registers the handlers with cpp-httplib and writes the OpenAPI 3 document, so the two cannot
// drift. Signed-in routes get the principal of the bearer token; public ones (/healthz,
// /readyz, the OpenAPI document) do not.
//
//   RouteTable routes(catalog);
//   routes.Get("/api/v1/runs", "List pipeline runs", [](auto& req, auto& res, auto& who) {...})
//       .Tag("runs").Paged().Query("product", "domain.product or id");
//   routes.Register(http);
//
// Lists are paginated alike: `?limit=` (default kDefaultLimit, at most kMaxLimit) and an opaque
// `?cursor=` from the previous page's `next_cursor`; see Page and SendPage.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/server/http_internal.h"

namespace plexus::server::internal {

/// Every error code an answer may carry, stable across versions (documented in OpenAPI).
std::vector<std::string> ErrorCodes();

/// A query-string parameter of a route, for the OpenAPI document.
struct QueryParam {
  std::string name;
  std::string description;
  std::string type = "string";  ///< OpenAPI scalar type: string, integer, boolean
};

struct Route {
  std::string method;  ///< GET, POST, PUT, DELETE
  std::string path;    ///< OpenAPI template: /api/v1/products/{ref}
  std::string summary;
  std::string tag;
  bool signed_in = true;
  bool paged = false;
  std::vector<QueryParam> query;
  std::string body;          ///< what the request body holds; empty: none
  std::string content_type;  ///< of a 200 answer; default application/json
  int success = 200;         ///< the status of a successful answer
  httplib::Server::Handler handler;

  Route& Tag(std::string name) { tag = std::move(name); return *this; }
  Route& Paged() { paged = true; return *this; }
  Route& Query(std::string name, std::string description, std::string type = "string") {
    query.push_back({std::move(name), std::move(description), std::move(type)});
    return *this;
  }
  Route& Body(std::string description) { body = std::move(description); return *this; }
  Route& Produces(std::string type) { content_type = std::move(type); return *this; }
  Route& Created() { success = 201; return *this; }
  /// The path as cpp-httplib's regular expression: each {name} is one path segment.
  std::string Pattern() const;
};

class RouteTable {
 public:
  explicit RouteTable(const catalog::Catalog* catalog) : catalog_(catalog) {}

  Route& Get(std::string path, std::string summary, SignedInHandler handler);
  Route& Post(std::string path, std::string summary, SignedInHandler handler);
  Route& Put(std::string path, std::string summary, SignedInHandler handler);
  Route& Delete(std::string path, std::string summary, SignedInHandler handler);
  /// A route anyone may call (no token).
  Route& Public(std::string method, std::string path, std::string summary,
                httplib::Server::Handler handler);

  /// Registers every route, and the JSON answers for what no route serves: 404 for an
  /// unknown path, 405 (with Allow) for a known path with another method, and 413 for a
  /// body over the server's limit.
  void Register(httplib::Server& http) const;
  /// The OpenAPI 3.0 document of every route.
  nlohmann::json OpenApi() const;
  /// The methods the routes serve at `path` (a request path, not a template).
  std::vector<std::string> MethodsAt(const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  Route& Add(std::string method, std::string path, std::string summary, SignedInHandler handler);
  const catalog::Catalog* catalog_;
  std::vector<Route> routes_;
};

/// The page a list request asks for: `?limit=` and `?cursor=` (opaque to clients: an offset for
/// most lists; the audit trail's is the seq its next page continues below, so appends between
/// pages shift nothing and a deep page costs no more than the first).
struct Page {
  static constexpr int kDefaultLimit = 100;
  static constexpr int kMaxLimit = 1000;
  size_t limit = kDefaultLimit;
  size_t offset = 0;
};
/// Reads limit and cursor; kInvalidArgument for a bad value (limit outside 1..kMaxLimit).
Result<Page> ReadPage(const httplib::Request& req);
/// Sets body["next_cursor"] and body["next"] (null when `more` is false).
void AddNextLink(const httplib::Request& req, const Page& page, bool more, nlohmann::json& body);
/// The same with the next page's cursor given (empty: this is the last page).
void AddNextLink(const httplib::Request& req, size_t limit, const std::string& cursor,
                 nlohmann::json& body);
/// Answers `{key: [one page of items], "next_cursor": ..., "next": "<path>?...&cursor=..."}`
/// (next_cursor and next are null on the last page), each item made by to_json.
template <typename T, typename ToJson>
void SendPage(const httplib::Request& req, httplib::Response& res, const std::vector<T>& items,
              std::string_view key, ToJson to_json) {
  auto page = ReadPage(req);
  if (!page.ok()) return SendError(res, page.status());
  nlohmann::json list = nlohmann::json::array();
  size_t end = std::min(items.size(), page->offset + page->limit);
  for (size_t i = page->offset; i < end; i++) list.push_back(to_json(items[i]));
  nlohmann::json body = {{std::string(key), std::move(list)}};
  AddNextLink(req, *page, end < items.size(), body);
  SendJson(res, body);
}

/// A Result list answered as one page, or its error.
template <typename T, typename ToJson>
void SendPage(const httplib::Request& req, httplib::Response& res,
              const Result<std::vector<T>>& items, std::string_view key, ToJson to_json) {
  if (!items.ok()) return SendError(res, items.status());
  SendPage(req, res, *items, key, to_json);
}

}  // namespace plexus::server::internal
