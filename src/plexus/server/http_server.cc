#include "plexus/server/http_server.h"

#include <algorithm>
#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/access/access_admin.h"
#include "plexus/access/query_service.h"
#include "plexus/engine/result_writer.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/product_json.h"

namespace plexus::server {
namespace internal {

using nlohmann::json;

namespace {
std::string CodeName(StatusCode code) {
  std::string name(StatusCodeName(code));
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
  return name;
}
}  // namespace

void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  if (status.code() == StatusCode::kUnauthenticated) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"plexus\"");
  }
  json body = {{"error", {{"code", CodeName(status.code())}, {"message", status.message()}}}};
  res.set_content(body.dump() + "\n", "application/json");
}

void SendJson(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

Result<access::Principal> SignIn(const httplib::Request& req, const catalog::Catalog& catalog) {
  std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    return Unauthenticated(
        "sign in: send the header Authorization: Bearer <token> (see plexus token issue)");
  }
  return access::AuthenticateToken(catalog, header.substr(kBearer.size()));
}

namespace {
Result<json> ParseBodyObject(const httplib::Request& req,
                             const std::vector<std::string_view>& allowed) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string fields;
      for (auto name : allowed) fields += (fields.empty() ? "" : ", ") + std::string(name);
      return InvalidArgument("field " + key + " may not be set here (allowed: " + fields + ")");
    }
  }
  return body;
}
}  // namespace

Result<json> BodyObject(const httplib::Request& req,
                        std::initializer_list<std::string_view> allowed) {
  return ParseBodyObject(req, std::vector<std::string_view>(allowed));
}

Status ReadTextBody(const httplib::Request& req,
                    std::initializer_list<std::pair<std::string_view, std::string*>> fields) {
  std::vector<std::string_view> allowed;
  for (const auto& field : fields) allowed.push_back(field.first);
  PLEXUS_ASSIGN_OR_RETURN(json body, ParseBodyObject(req, allowed));
  for (const auto& [key, out] : fields) {
    PLEXUS_ASSIGN_OR_RETURN(*out, StringField(body, key));
  }
  return Status::OK();
}

Result<std::string> StringField(const json& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument("field " + std::string(key) + " must be text");
  return it->get<std::string>();
}

httplib::Server::Handler SignedIn(const catalog::Catalog* catalog, SignedInHandler handler) {
  return [catalog, handler](const httplib::Request& req, httplib::Response& res) {
    auto principal = SignIn(req, *catalog);
    if (!principal.ok()) return SendError(res, principal.status());
    handler(req, res, *principal);
  };
}

}  // namespace internal

namespace {

using nlohmann::json;
using internal::SendError;
using internal::SignedIn;

/// The SQL, format and previewed principal of a query request: a JSON body {"sql", "format",
/// "as"} or plain SQL text (format and as then from the query string).
Status ParseQueryRequest(const httplib::Request& req, std::string& sql, std::string& format,
                         std::string& as) {
  format = req.has_param("format") ? req.get_param_value("format") : "json";
  as = req.get_param_value("as");
  std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    sql = req.body;
  } else {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("sql") || !body["sql"].is_string()) {
      return InvalidArgument("the body must be a JSON object with a string field \"sql\"");
    }
    sql = body["sql"].get<std::string>();
    if (body.contains("format") && body["format"].is_string()) format = body["format"];
    if (body.contains("as") && body["as"].is_string()) as = body["as"];
  }
  if (sql.empty()) return InvalidArgument("no SQL in the request");
  return Status::OK();
}

const char* ContentType(engine::ResultFormat format) {
  switch (format) {
    case engine::ResultFormat::kCsv: return "text/csv";
    case engine::ResultFormat::kNdjson: return "application/x-ndjson";
    default: return "application/json";
  }
}

}  // namespace

struct HttpServer::State {
  explicit State(catalog::Home h) : home(std::move(h)) {}
  catalog::Home home;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<access::QueryService> queries;
  httplib::Server http;
  std::thread thread;
  int port = 0;
};

HttpServer::HttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpServer::~HttpServer() {
  Stop();
  if (state_->thread.joinable()) state_->thread.join();
}

int HttpServer::port() const { return state_->port; }
void HttpServer::Stop() { state_->http.stop(); }
void HttpServer::Wait() {
  if (state_->thread.joinable()) state_->thread.join();
}

namespace {

void ProductRoutes(httplib::Server& http, catalog::Catalog* catalog,
                   access::QueryService* queries) {
  http.Get("/api/v1/products", SignedIn(catalog, [catalog, queries](const auto&, auto& res,
                                                                     const auto& principal) {
    Status refreshed = queries->Refresh();
    if (!refreshed.ok()) return SendError(res, refreshed);
    auto policy = queries->policy();
    auto products = catalog->ListProducts();
    if (!products.ok()) return SendError(res, products.status());
    json list = json::array();
    for (auto& p : *products) {
      auto visible = policy->Visible(principal, std::move(p));
      if (visible.ok()) list.push_back(ProductSummaryJson(*visible));
    }
    res.set_content(json{{"products", list}}.dump(2) + "\n", "application/json");
  }));
  http.Get(R"(/api/v1/products/([^/]+))", SignedIn(catalog, [catalog, queries](
                                                                const auto& req, auto& res,
                                                                const auto& principal) {
    Status refreshed = queries->Refresh();
    if (!refreshed.ok()) return SendError(res, refreshed);
    auto product = catalog->GetProduct(req.matches[1].str());
    auto visible = product.ok() ? queries->policy()->Visible(principal, std::move(product).value())
                                : Result<catalog::ProductRecord>(product.status());
    if (!visible.ok()) {  // unknown and hidden read alike
      return SendError(res, NotFound("unknown data product " + req.matches[1].str() +
                                     " (see /api/v1/products)"));
    }
    auto runs = catalog->ListRuns(visible->id, 10);
    if (!runs.ok()) return SendError(res, runs.status());
    res.set_content(ProductDetailJson(*visible, *runs).dump(2) + "\n", "application/json");
  }));
}

void QueryRoute(httplib::Server& http, catalog::Catalog* catalog, access::QueryService* queries) {
  http.Post("/api/v1/query", SignedIn(catalog, [catalog, queries](const auto& req, auto& res,
                                                                   const auto& actor) {
    std::string sql, format_name, as;
    Status parsed = ParseQueryRequest(req, sql, format_name, as);
    if (!parsed.ok()) return SendError(res, parsed);
    auto format = engine::ParseResultFormat(format_name);
    if (!format.ok() || *format == engine::ResultFormat::kTable) {
      return SendError(res, InvalidArgument("format must be json, csv or ndjson"));
    }
    Status refreshed = queries->Refresh();
    if (!refreshed.ok()) return SendError(res, refreshed);
    access::QueryRequest request{&actor, "http", "", {}};
    access::Principal previewed;
    if (!as.empty()) {
      access::AccessAdmin admin(catalog);
      auto preview = admin.Preview(actor, as, &request.only_domains);
      if (!preview.ok()) return SendError(res, preview.status());
      previewed = std::move(preview).value();
      request.principal = &previewed;
      request.previewed_by = actor.name;
    }
    auto cursor = queries->Query(request, sql);
    if (!cursor.ok()) return SendError(res, cursor.status());
    std::shared_ptr<access::Cursor> shared(std::move(cursor).value());
    // Deprecated versions read: one header per warning (RFC 9110 allows the repetition).
    for (const auto& warning : shared->query.warnings) res.set_header("X-Plexus-Warning", warning);
    res.set_chunked_content_provider(
        ContentType(*format), [shared, f = *format](size_t, httplib::DataSink& sink) {
          std::ostringstream out;  // one sink write per chunk of rows
          auto rows = engine::WriteResult(*shared->result, f, out);
          std::string text = out.str();
          if (!text.empty()) sink.write(text.data(), text.size());
          shared->Finish(rows.ok() ? *rows : 0, rows.status());
          if (!rows.ok()) return false;  // aborts the response: the client sees it truncated
          sink.done();
          return true;
        });
  }));
}

void Routes(httplib::Server& http, catalog::Catalog* catalog, access::QueryService* queries) {
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}\n", "application/json");
  });
  ProductRoutes(http, catalog, queries);
  QueryRoute(http, catalog, queries);
  internal::AccessRoutes(http, catalog);
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(res, Internal(what));
  });
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const catalog::Home& home,
                                                      const HttpOptions& options) {
  auto state = std::make_unique<State>(home);
  PLEXUS_ASSIGN_OR_RETURN(state->catalog, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(state->queries, access::QueryService::Open(home, state->catalog.get()));
  state->http.set_payload_max_length(1 << 20);
  Routes(state->http, state->catalog.get(), state->queries.get());
  if (options.port == 0) {
    state->port = state->http.bind_to_any_port(options.host);
  } else if (state->http.bind_to_port(options.host, options.port)) {
    state->port = options.port;
  }
  if (state->port <= 0) {
    return IOError("cannot listen on " + options.host + ":" + std::to_string(options.port));
  }
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->http.listen_after_bind(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

namespace {
HttpServer* g_running = nullptr;
void OnSignal(int) {
  if (g_running) g_running->Stop();
}
}  // namespace

Status Serve(const catalog::Home& home, const HttpOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto server, HttpServer::Start(home, options));
  g_running = server.get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::cout << "plexus: serving HTTP on http://" << options.host << ":" << server->port()
            << "/api/v1/products  (Ctrl-C stops)" << std::endl;
  server->Wait();
  g_running = nullptr;
  std::cout << "plexus: stopped" << std::endl;
  return Status::OK();
}

}  // namespace plexus::server
