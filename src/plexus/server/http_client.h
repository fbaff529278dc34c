// File: plexus/server/http_client.h
//
// The CLI's side of the HTTP API: `plexus query` and `plexus apply` through a running server
// (`--server URL`, PLEXUS_SERVER, or the home's server.json), with the same output and exit
// status as the local path: rows to `out`, warnings ("plexus: warning: ...") and problems to
// `err`, and the server's error as a Status of the same code and message.
#pragma once

#include <ostream>
#include <string>

#include "plexus/common/status.h"

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

}  // namespace plexus::server
