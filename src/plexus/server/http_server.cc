#include "plexus/server/http_server.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/observe/log.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server {
namespace {

using nlohmann::json;
using internal::SendError;
using internal::SendJson;

/// Largest request body accepted (a query, an access request...): 413 beyond.
constexpr size_t kMaxBodyBytes = 1 << 20;

/// /healthz, /readyz and the OpenAPI document: no token needed.
void PublicRoutes(internal::RouteTable& routes, catalog::Catalog* catalog,
                  access::QueryService* queries) {
  routes.Public("GET", "/healthz", "Liveness: the process answers", [](const auto&, auto& res) {
    SendJson(res, {{"status", "ok"}});
  }).Tag("health");
  routes.Public("GET", "/readyz", "Readiness: the catalog is readable and the query service open",
                [catalog, queries](const auto&, auto& res) {
                  std::vector<std::string> problems;
                  auto generation = catalog->Generation();
                  if (!generation.ok()) problems.push_back(generation.status().message());
                  Status refreshed = queries->Refresh();
                  if (!refreshed.ok()) problems.push_back(refreshed.message());
                  if (problems.empty()) return SendJson(res, {{"status", "ready"}});
                  std::string message = "not ready:";
                  for (const auto& p : problems) message += " " + p;
                  SendJson(res, {{"error", {{"code", "unavailable"}, {"message", message}}}},
                           503);
                }).Tag("health");
  routes.Public("GET", "/api/v1/openapi.json", "This API's OpenAPI 3 document",
                [&routes](const auto&, auto& res) { SendJson(res, routes.OpenApi()); })
      .Tag("meta");
}

// ---- Request ids and the access log ---------------------------------------------------------
// httplib serves a request on one worker thread from routing to the logger (a streamed body
// included), so what the log line needs is kept in a thread_local from the pre-routing
// handler to the logger.

struct RequestContext {
  bool active = false;
  std::string id;
  std::chrono::steady_clock::time_point start;
  std::string principal;
  std::shared_ptr<std::atomic<int64_t>> streamed;  ///< bytes a content provider wrote
};

thread_local RequestContext t_request;

/// The client's X-Request-Id when it is 1-64 characters of [A-Za-z0-9._-], else a new one.
void BeginRequest(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_header_value("X-Request-Id");
  t_request = RequestContext();
  t_request.active = true;
  t_request.id = observe::ValidRequestId(id) ? id : observe::NewRequestId();
  t_request.start = std::chrono::steady_clock::now();
  res.set_header("X-Request-Id", t_request.id);
}

/// Before the answer's headers go out: a request refused before routing (a body too large)
/// gets its id too, and a streamed body is counted as it is written.
void BeforeAnswer(const httplib::Request& req, httplib::Response& res) {
  if (!t_request.active) BeginRequest(req, res);
  if (!res.has_header("X-Request-Id")) res.set_header("X-Request-Id", t_request.id);
  if (!res.content_provider_) return;
  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  t_request.streamed = counter;
  auto inner = res.content_provider_;
  res.content_provider_ = [inner, counter](size_t offset, size_t length, httplib::DataSink& sink) {
    auto write = sink.write;
    sink.write = [write, counter](const char* data, size_t size) {
      counter->fetch_add(static_cast<int64_t>(size));
      return write(data, size);
    };
    bool more = inner(offset, length, sink);
    sink.write = write;
    return more;
  };
}

/// One http.request line per request, once its answer is written.
void LogRequest(const httplib::Request& req, const httplib::Response& res) {
  if (!t_request.active) return;  // not one of ours
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                       t_request.start).count();
  int64_t bytes = t_request.streamed ? t_request.streamed->load()
                                     : static_cast<int64_t>(res.body.size());
  nlohmann::json fields = {{"request_id", t_request.id}, {"method", req.method},
                           {"path", req.path},           {"status", res.status},
                           {"ms", std::round(ms * 100) / 100}, {"bytes", bytes}};
  if (!t_request.principal.empty()) fields["principal"] = t_request.principal;
  if (!req.remote_addr.empty()) fields["remote"] = req.remote_addr;
  observe::Log(res.status >= 500 ? observe::LogLevel::kError : observe::LogLevel::kInfo,
               "http.request", fields);
  t_request = RequestContext();
}

void OnException(const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
  std::string what = "unexpected error";
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  SendError(res, Internal(what));
}

}  // namespace

namespace internal {
void NoteRequestPrincipal(const std::string& name) {
  if (t_request.active) t_request.principal = name;
}
std::string CurrentRequestId() { return t_request.active ? t_request.id : std::string(); }
}  // namespace internal

struct HttpServer::State {
  explicit State(catalog::Home h) : home(std::move(h)) {}
  catalog::Home home;
  std::unique_ptr<catalog::Catalog> own_catalog;
  std::unique_ptr<access::QueryService> own_queries;
  catalog::Catalog* catalog = nullptr;
  access::QueryService* queries = nullptr;
  std::unique_ptr<internal::RouteTable> routes;  // outlives nothing it registered: see ~State
  httplib::Server http;
  std::thread thread;
  std::string host;
  int port = 0;
};

HttpServer::HttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpServer::~HttpServer() {
  Stop();
  if (state_->thread.joinable()) state_->thread.join();
}

int HttpServer::port() const { return state_->port; }
std::string HttpServer::url() const {
  return "http://" + state_->host + ":" + std::to_string(state_->port);
}
void HttpServer::Stop() { state_->http.stop(); }
void HttpServer::Wait() {
  if (state_->thread.joinable()) state_->thread.join();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const catalog::Home& home,
                                                      const HttpOptions& options,
                                                      HttpShared shared) {
  auto state = std::make_unique<State>(home);
  state->catalog = shared.catalog;
  if (state->catalog == nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(state->own_catalog, catalog::Catalog::Open(home));
    state->catalog = state->own_catalog.get();
  }
  state->queries = shared.queries;
  if (state->queries == nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(state->own_queries, access::QueryService::Open(home, state->catalog));
    state->queries = state->own_queries.get();
  }
  state->http.set_payload_max_length(kMaxBodyBytes);
  state->routes = std::make_unique<internal::RouteTable>(state->catalog);
  auto& routes = *state->routes;
  PublicRoutes(routes, state->catalog, state->queries);
  internal::ProductRoutes(routes, state->catalog, state->queries);
  internal::CatalogRoutes(routes, state->catalog, state->queries);
  internal::SearchRoutes(routes, state->catalog, state->queries);
  internal::GlossaryRoutes(routes, state->catalog, state->queries);
  internal::GovernanceRoutes(routes, state->catalog);
  internal::QueryRoutes(routes, state->catalog, state->queries);
  internal::AccessRoutes(routes, state->catalog);
  internal::MeshRoutes(routes, state->catalog, state->queries);
  internal::PipelineRoutes(routes, state->catalog, state->queries, shared.scheduler);
  internal::MetricsRoutes(routes, state->catalog, state->queries);
  internal::SloRoutes(routes, state->catalog, state->queries);
  internal::AlertRoutes(routes, state->catalog, state->queries);
  routes.Register(state->http);
  state->http.set_exception_handler(OnException);
  state->http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    BeginRequest(req, res);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  state->http.set_post_routing_handler(BeforeAnswer);
  state->http.set_logger(LogRequest);
  state->host = options.host;
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

}  // namespace plexus::server
