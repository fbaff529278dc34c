// File: plexus/server/http_server.h
//
// The HTTP JSON API (cpp-httplib) under /api/v1: every route is declared once in a route
// table (http_routes.h) that also writes the OpenAPI 3 document served at
// /api/v1/openapi.json; /healthz (alive) and /readyz (catalog readable, query service open)
// need no token. Query results stream chunk by chunk (CSV, JSON, NDJSON).
// Errors are JSON {"error": {"code": "...", "message": "..."}} with the HTTP status from the
// one code table (common/status.h). Every query passes the same QueryService (and SqlGuard)
// as the CLI. A handler that throws answers 500; the server carries on.
#pragma once

#include <memory>
#include <string>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"

namespace plexus::access {
class QueryService;
}
namespace plexus::pipeline {
class Scheduler;
}

namespace plexus::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
};

/// What a server may share with other doors (the wire listener): when set, the caller owns
/// them and keeps them alive longer than the server; when null, Start opens its own.
struct HttpShared {
  catalog::Catalog* catalog = nullptr;
  access::QueryService* queries = nullptr;
  /// plexus serve's pipelines (runs, CDC pushes, pause and resume); null: those routes answer
  /// that pipelines run inside plexus serve.
  pipeline::Scheduler* scheduler = nullptr;
};

/// A running HTTP server; stops when destroyed.
class HttpServer {
 public:
  /// Opens the catalog and the query service and binds `options.host:port` (port 0: any free
  /// port; see port()). Serves on a background thread.
  static Result<std::unique_ptr<HttpServer>> Start(const catalog::Home& home,
                                                   const HttpOptions& options,
                                                   HttpShared shared = {});
  ~HttpServer();
  int port() const;
  /// http://host:port
  std::string url() const;
  /// Blocks until Stop() (or a signal handler calling it).
  void Wait();
  void Stop();

 private:
  struct State;
  explicit HttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace plexus::server
