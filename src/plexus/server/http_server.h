// File: plexus/server/http_server.h
//
// The HTTP JSON API (cpp-httplib), first cut:
//   GET  /healthz                   liveness
//   GET  /api/v1/products           every registered product with its output ports
//   GET  /api/v1/products/{ref}     one product (by id or domain.product): ports, columns, runs
//   POST /api/v1/query              {"sql": "...", "format": "json|csv|ndjson"} or a text/plain
//                                   SQL body; the result streams chunk by chunk
// Errors are JSON {"error": {"code": "...", "message": "..."}} with the HTTP status from the
// one code table (common/status.h). Every query passes the same QueryService (and SqlGuard)
// as the CLI. A handler that throws answers 500; the server carries on.
#pragma once

#include <memory>
#include <string>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"

namespace plexus::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
};

/// A running HTTP server; stops when destroyed.
class HttpServer {
 public:
  /// Opens the catalog and the query service and binds `options.host:port` (port 0: any free
  /// port; see port()). Serves on a background thread.
  static Result<std::unique_ptr<HttpServer>> Start(const catalog::Home& home,
                                                   const HttpOptions& options);
  ~HttpServer();
  int port() const;
  /// Blocks until Stop() (or a signal handler calling it).
  void Wait();
  void Stop();

 private:
  struct State;
  explicit HttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Starts a server and serves until SIGINT or SIGTERM.
Status Serve(const catalog::Home& home, const HttpOptions& options);

}  // namespace plexus::server
