#include "plexus/server/http_routes.h"

#include <cctype>
#include <regex>

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// The {name}s of an OpenAPI path template, in order.
std::vector<std::string> PathParams(const std::string& path) {
  std::vector<std::string> names;
  for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open)) {
    size_t close = path.find('}', open);
    names.push_back(path.substr(open + 1, close - open - 1));
    open = close;
  }
  return names;
}

std::string PercentEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

/// An error answer for a status no handler chose (unknown route, body too large...).
void SendRawError(httplib::Response& res, int status, std::string_view code,
                  const std::string& message) {
  json body = {{"error", {{"code", code}, {"message", message}}}};
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

json ErrorSchema() {
  return {{"type", "object"},
          {"required", {"error"}},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"required", {"code", "message"}},
              {"properties",
               {{"code", {{"type", "string"}, {"enum", ErrorCodes()}}},
                {"message", {{"type", "string"}}}}}}}}}};
}

json Operation(const Route& route) {
  std::string id = route.method;
  for (char c : route.path) id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  json op = {{"summary", route.summary}, {"operationId", id}};
  if (!route.tag.empty()) op["tags"] = {route.tag};
  json params = json::array();
  for (const auto& name : PathParams(route.path)) {
    params.push_back({{"name", name}, {"in", "path"}, {"required", true},
                      {"schema", {{"type", "string"}}}});
  }
  for (const auto& q : route.query) {
    params.push_back({{"name", q.name}, {"in", "query"}, {"description", q.description},
                      {"schema", {{"type", q.type}}}});
  }
  if (route.paged) {
    params.push_back({{"name", "limit"}, {"in", "query"},
                      {"description", "items per page (default " +
                                          std::to_string(Page::kDefaultLimit) + ", at most " +
                                          std::to_string(Page::kMaxLimit) + ")"},
                      {"schema", {{"type", "integer"}, {"minimum", 1},
                                  {"maximum", Page::kMaxLimit}}}});
    params.push_back({{"name", "cursor"}, {"in", "query"},
                      {"description", "the previous page's next_cursor"},
                      {"schema", {{"type", "string"}}}});
  }
  if (!params.empty()) op["parameters"] = params;
  if (!route.body.empty()) {
    op["requestBody"] = {{"description", route.body},
                         {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  }
  std::string type = route.content_type.empty() ? "application/json" : route.content_type;
  json schema = type == "application/json" ? json{{"type", "object"}} : json{{"type", "string"}};
  json content = json::object();
  content[type] = {{"schema", schema}};
  op["responses"] = {
      {std::to_string(route.success), {{"description", "success"}, {"content", content}}},
      {"default", {{"$ref", "#/components/responses/Error"}}}};
  if (route.signed_in) {
    op["security"] = json::array({{{"bearer", json::array()}}});
  } else {
    op["security"] = json::array();
  }
  return op;
}

}  // namespace

std::vector<std::string> ErrorCodes() {
  return {"invalid_argument", "not_found",          "already_exists",
          "permission_denied", "unauthenticated",   "failed_precondition",
          "io_error",          "internal_error",    "method_not_allowed",
          "payload_too_large", "unavailable"};
}

std::string Route::Pattern() const {
  std::string pattern;
  for (size_t i = 0; i < path.size(); i++) {
    if (path[i] == '{') {
      pattern += "([^/]+)";
      i = path.find('}', i);
    } else if (path[i] == '.') {
      pattern += "\\.";
    } else {
      pattern.push_back(path[i]);
    }
  }
  return pattern;
}

Route& RouteTable::Add(std::string method, std::string path, std::string summary,
                       SignedInHandler handler) {
  Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.summary = std::move(summary);
  route.handler = SignedIn(catalog_, std::move(handler));
  routes_.push_back(std::move(route));
  return routes_.back();
}

Route& RouteTable::Get(std::string path, std::string summary, SignedInHandler handler) {
  return Add("GET", std::move(path), std::move(summary), std::move(handler));
}
Route& RouteTable::Post(std::string path, std::string summary, SignedInHandler handler) {
  return Add("POST", std::move(path), std::move(summary), std::move(handler));
}
Route& RouteTable::Put(std::string path, std::string summary, SignedInHandler handler) {
  return Add("PUT", std::move(path), std::move(summary), std::move(handler));
}
Route& RouteTable::Delete(std::string path, std::string summary, SignedInHandler handler) {
  return Add("DELETE", std::move(path), std::move(summary), std::move(handler));
}

Route& RouteTable::Public(std::string method, std::string path, std::string summary,
                          httplib::Server::Handler handler) {
  Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.summary = std::move(summary);
  route.signed_in = false;
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
  return routes_.back();
}

std::vector<std::string> RouteTable::MethodsAt(const std::string& path) const {
  std::vector<std::string> methods;
  for (const auto& route : routes_) {
    if (std::regex_match(path, std::regex(route.Pattern())) &&
        std::find(methods.begin(), methods.end(), route.method) == methods.end()) {
      methods.push_back(route.method);
    }
  }
  return methods;
}

void RouteTable::Register(httplib::Server& http) const {
  for (const auto& route : routes_) {
    std::string pattern = route.Pattern();
    if (route.method == "GET") http.Get(pattern, route.handler);
    if (route.method == "POST") http.Post(pattern, route.handler);
    if (route.method == "PUT") http.Put(pattern, route.handler);
    if (route.method == "DELETE") http.Delete(pattern, route.handler);
  }
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
    if (res.status == 404) {
      std::vector<std::string> methods = MethodsAt(req.path);
      if (methods.empty()) {
        SendRawError(res, 404, "not_found",
                     "no route " + req.method + " " + req.path + " (see /api/v1/openapi.json)");
      } else {
        std::string allow;
        for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
        res.set_header("Allow", allow);
        SendRawError(res, 405, "method_not_allowed",
                     req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
      }
    } else if (res.status == 413) {
      SendRawError(res, 413, "payload_too_large", "the request body is too large");
    } else if (res.status >= 500) {
      SendRawError(res, res.status, "internal_error", "the server could not answer");
    } else {
      SendRawError(res, res.status, "invalid_argument", "bad request");
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
}

json RouteTable::OpenApi() const {
  json paths = json::object();
  for (const auto& route : routes_) {
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[route.path][method] = Operation(route);
  }
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Plexus API"},
        {"version", "1"},
        {"description",
         "The data mesh's HTTP API. Sign in with Authorization: Bearer <token> (plexus token "
         "issue). Lists take ?limit= and ?cursor= and answer next_cursor and next. Errors are "
         "{\"error\": {\"code\", \"message\"}}."}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas", {{"Error", ErrorSchema()}}},
        {"responses",
         {{"Error",
           {{"description", "an error"},
            {"content",
             {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}}}}};
  return doc;
}

Result<Page> ReadPage(const httplib::Request& req) {
  Page page;
  auto number = [](const std::string& text, const char* what) -> Result<size_t> {
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument(std::string(what) + " must be a whole number, not '" + text + "'");
    }
    return static_cast<size_t>(std::stoul(text));
  };
  if (req.has_param("limit")) {
    PLEXUS_ASSIGN_OR_RETURN(page.limit, number(req.get_param_value("limit"), "limit"));
    if (page.limit < 1 || page.limit > static_cast<size_t>(Page::kMaxLimit)) {
      return InvalidArgument("limit must be between 1 and " + std::to_string(Page::kMaxLimit));
    }
  }
  if (req.has_param("cursor")) {
    PLEXUS_ASSIGN_OR_RETURN(page.offset, number(req.get_param_value("cursor"), "cursor"));
  }
  return page;
}

void AddNextLink(const httplib::Request& req, const Page& page, bool more, json& body) {
  AddNextLink(req, page.limit, more ? std::to_string(page.offset + page.limit) : "", body);
}

void AddNextLink(const httplib::Request& req, size_t limit, const std::string& cursor,
                 json& body) {
  if (cursor.empty()) {
    body["next_cursor"] = nullptr;
    body["next"] = nullptr;
    return;
  }
  std::string query;
  for (const auto& [key, value] : req.params) {
    if (key == "cursor" || key == "limit") continue;
    query += PercentEncode(key) + "=" + PercentEncode(value) + "&";
  }
  body["next_cursor"] = cursor;
  body["next"] = req.path + "?" + query + "limit=" + std::to_string(limit) +
                 "&cursor=" + cursor;
}

}  // namespace plexus::server::internal
