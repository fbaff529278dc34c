// RemoteProductMetrics: `plexus metrics` through a running server
// (GET /api/v1/products/{ref}/metrics, http_metrics.cc).
#include <httplib.h>

#include "plexus/server/http_client.h"
#include "plexus/server/http_client_internal.h"

namespace plexus::server {

Result<std::string> RemoteProductMetrics(const RemoteServer& server, const std::string& product,
                                         int64_t run, const std::string& since) {
  httplib::Client client(server.url);
  client.set_read_timeout(60, 0);
  httplib::Headers headers = {{"Authorization", "Bearer " + server.token}};
  httplib::Params params;
  if (run > 0) params.emplace("run", std::to_string(run));
  if (!since.empty()) params.emplace("since", since);
  std::string path = httplib::append_query_params(
      "/api/v1/products/" + httplib::detail::encode_query_param(product) + "/metrics", params);
  auto res = client.Get(path, headers);
  if (!res) {
    return IOError("cannot reach the plexus server at " + server.url + ": " +
                   httplib::to_string(res.error()));
  }
  if (res->status != 200) return internal::StatusOfAnswer(res->status, res->body);
  return res->body;
}

}  // namespace plexus::server
