// File: plexus/server/http_client.h
//
// The CLI's side of the HTTP API: `plexus query` and `plexus apply` through a running server
// (`--server URL`, PLEXUS_SERVER, or the home's server.json), with the same output and exit
// status as the local path: rows to `out`, warnings ("plexus: warning: ...") and problems to
// `err`, and the server's error as a Status of the same code and message.
#pragma once

#include <ostream>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/pipeline/runner.h"

namespace plexus::server {

/// Where the CLI sends its requests, and as whom.
struct RemoteServer {
  std::string url;    ///< http://host:port
  std::string token;  ///< bearer token
};

/// POST /api/v1/query; the answer streams to `out` as it comes (format: table, csv, json,
/// ndjson).
Status RemoteQuery(const RemoteServer& server, const std::string& sql, const std::string& format,
                   const std::string& as, std::ostream& out, std::ostream& err);

/// POST /api/v1/mesh/apply of `mesh_dir` (made absolute; it must be readable by the server),
/// printing what `plexus apply` prints.
Status RemoteApply(const RemoteServer& server, const std::string& mesh_dir, std::ostream& out,
                   std::ostream& err);

/// What the server applied of pushed change events (http_client_cdc.cc).
struct RemoteIngestReport {
  int64_t events = 0;
  int64_t upserted = 0;
  int64_t deleted = 0;
  int64_t stale = 0;
  int64_t dead_lettered = 0;
  std::vector<std::string> new_columns;
  bool paused = false;
  std::string pause_reason;
  int64_t pushes = 0;  ///< requests made (the events go in pushes of at most 10,000, < 1 MiB)
};

/// POST /api/v1/products/{product}/inputs/{input}/events: pushes `events` (Debezium envelopes)
/// to a product's http CDC input, in pushes the server accepts, each applied all or nothing;
/// stops at the first refused push or at a pause. The counts are summed.
/// `progress`, when given, is called after each push with the running total.
Result<RemoteIngestReport> RemoteIngest(
    const RemoteServer& server, const std::string& product, const std::string& input,
    const std::vector<std::string>& events,
    const std::function<void(const RemoteIngestReport&)>& progress = nullptr);

/// `plexus backfill` through the server (POST /api/v1/products/{ref}/inputs/{input}/backfill):
/// the input's committed offsets rewound to `from`, then caught up; the run's report.
Result<pipeline::RunReport> RemoteBackfill(const RemoteServer& server, const std::string& product,
                                           const std::string& input, const std::string& from);

/// POST /api/v1/runs: the server runs the products (empty with `all`: every one the token's
/// principal may run) on its engine; one report per product, as PipelineRunner::Run returns
/// (http_client.cc).
Result<std::vector<pipeline::RunReport>> RemoteRun(const RemoteServer& server,
                                                   const std::vector<std::string>& products,
                                                   bool all, bool full_refresh);

/// GET /api/v1/runs[?product=]: the newest `limit` runs the principal may see.
Result<std::vector<catalog::RunRecord>> RemoteRuns(const RemoteServer& server,
                                                   const std::string& product, int limit);

/// A product's pipeline as the server schedules it (GET /api/v1/products/{ref}/pipeline).
struct RemotePipelineState {
  std::string product;
  bool paused = false;
  std::string pause_reason;
  std::string paused_since;
  bool running = false;
  bool continuous = false;
  std::string next_run;  ///< empty: not scheduled
};

/// `action`: "" (its state), "pause" (with `reason`) or "resume"; answers the state after it.
Result<RemotePipelineState> RemotePipeline(const RemoteServer& server, const std::string& product,
                                           const std::string& action, const std::string& reason);

/// GET /api/v1/alerts (http_client_alerts.cc, issue 9): `status` firing, resolved or "" (all),
/// newest first, at most `limit`, those the server's principal may see.
Result<std::vector<catalog::AlertRecord>> RemoteAlerts(const RemoteServer& server,
                                                       const std::string& status, int limit);

/// GET /api/v1/products/{product}/metrics (http_client_metrics.cc, issue 9): the answer's JSON
/// text (observe::ProductMetricsJson); `run` 0: the newest; `since` empty: all history kept.
Result<std::string> RemoteProductMetrics(const RemoteServer& server, const std::string& product,
                                         int64_t run, const std::string& since);

}  // namespace plexus::server
