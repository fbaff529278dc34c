#include "plexus/server/http_server.h"

#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/engine/result_writer.h"
#include "plexus/server/product_json.h"

namespace plexus::server {
namespace {

using nlohmann::json;

std::string CodeName(StatusCode code) {
  std::string name(StatusCodeName(code));
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
  return name;
}

void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  json body = {{"error", {{"code", CodeName(status.code())}, {"message", status.message()}}}};
  res.set_content(body.dump() + "\n", "application/json");
}

/// The SQL and format of a query request: a JSON body {"sql", "format"} or plain SQL text.
Status ParseQueryRequest(const httplib::Request& req, std::string& sql, std::string& format) {
  format = req.has_param("format") ? req.get_param_value("format") : "json";
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

void Routes(httplib::Server& http, catalog::Catalog* catalog, access::QueryService* queries) {
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}\n", "application/json");
  });
  http.Get("/api/v1/products", [catalog](const httplib::Request&, httplib::Response& res) {
    auto products = catalog->ListProducts();
    if (!products.ok()) return SendError(res, products.status());
    json list = json::array();
    for (const auto& p : *products) list.push_back(ProductSummaryJson(p));
    res.set_content(json{{"products", list}}.dump(2) + "\n", "application/json");
  });
  http.Get(R"(/api/v1/products/([^/]+))", [catalog](const httplib::Request& req,
                                                    httplib::Response& res) {
    auto product = catalog->GetProduct(req.matches[1].str());
    if (!product.ok()) return SendError(res, product.status());
    auto runs = catalog->ListRuns(product->id, 10);
    if (!runs.ok()) return SendError(res, runs.status());
    res.set_content(ProductDetailJson(*product, *runs).dump(2) + "\n", "application/json");
  });
  http.Post("/api/v1/query", [queries](const httplib::Request& req, httplib::Response& res) {
    std::string sql, format_name;
    Status parsed = ParseQueryRequest(req, sql, format_name);
    if (!parsed.ok()) return SendError(res, parsed);
    auto format = engine::ParseResultFormat(format_name);
    if (!format.ok() || *format == engine::ResultFormat::kTable) {
      return SendError(res, InvalidArgument("format must be json, csv or ndjson"));
    }
    Status refreshed = queries->Refresh();
    if (!refreshed.ok()) return SendError(res, refreshed);
    auto cursor = queries->Query(sql);
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
          if (!rows.ok()) return false;  // aborts the response: the client sees it truncated
          sink.done();
          return true;
        });
  });
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
