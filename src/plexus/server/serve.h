// File: plexus/server/serve.h
//
// `plexus serve`: the HTTP API and the PostgreSQL wire protocol of one home, together, on one
// catalog and one query service, until SIGINT or SIGTERM. Prints one line per listener on
// stdout (tests parse them; the HTTP line first):
//   plexus: serving HTTP on http://127.0.0.1:8080/api/v1/products  (Ctrl-C stops)
//   plexus: serving PostgreSQL wire protocol on 127.0.0.1:5433 (TLS)
#pragma once

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/server/http_server.h"
#include "plexus/server/pg_server.h"

namespace plexus::server {

struct ServeOptions {
  HttpOptions http;
  PgOptions pg;
  bool pg_enabled = true;  ///< false: HTTP only (--no-pg)
  /// False when the wire port is the default one: if it is taken (another server), serve
  /// HTTP only with a warning rather than fail; an explicit --pg-port must bind.
  bool pg_port_required = false;
  /// Seconds between evaluations of the mesh's policies (kept as history; quarantines follow
  /// them); the first runs at start. 0: never.
  double governance_interval_s = 3600;
  /// Seconds between SLO evaluations (--slo-interval); 0: mesh.yaml's sloInterval.
  double slo_interval_s = 0;
  /// Batch pipeline runs the scheduler starts at once (--max-runs); runs asked for by hand
  /// start at once anyway, and continuous CDC streams have threads of their own.
  int max_runs = 2;
  /// The mesh folder of the command line: its pipelines may read files even when it is
  /// applied after the server started (ignored unless it holds mesh.yaml).
  std::string mesh_dir;
  /// Structured JSON log lines (observe/log.h: http.request, pg.*, pipeline.run, warnings):
  /// appended to this file (--log-file) instead of stderr.
  std::string log_file;
  /// debug, info, warn or error (--log-level): lines below it are dropped.
  std::string log_level = "info";
};

/// Starts both listeners, publishes <home>/server.json, and serves until SIGINT or SIGTERM;
/// then stops both (connections closed, queries interrupted) and removes the file.
/// One DuckDB engine serves the queries and runs the pipelines (pipeline/runner.h
/// SharedEngine): the scheduler (pipeline/scheduler.h) runs them on their schedules, and
/// `plexus run` goes through the server. One line per scheduled run goes to stdout after the
/// listeners' lines.
/// Call from the main thread before any other thread starts (it blocks the two signals).
Status Serve(const catalog::Home& home, const ServeOptions& options);

}  // namespace plexus::server
