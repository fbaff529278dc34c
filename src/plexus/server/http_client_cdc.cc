// RemoteIngest: `plexus ingest` through a running server, posting NDJSON change events to the
// push endpoint of a product's http CDC input (http_pipelines.cc).
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/server/http_client.h"
#include "plexus/server/http_client_internal.h"

namespace plexus::server {
namespace {

using nlohmann::json;

/// What the endpoint takes in one push: events and bytes (its body limit is 1 MiB).
constexpr size_t kPushEvents = 10000;
constexpr size_t kPushBytes = 900 * 1024;

}  // namespace

Result<RemoteIngestReport> RemoteIngest(
    const RemoteServer& server, const std::string& product, const std::string& input,
    const std::vector<std::string>& events,
    const std::function<void(const RemoteIngestReport&)>& progress) {
  httplib::Client client(server.url);
  client.set_read_timeout(600, 0);
  httplib::Headers headers = {{"Authorization", "Bearer " + server.token}};
  std::string path = "/api/v1/products/" + product + "/inputs/" + input + "/events";
  RemoteIngestReport total;
  size_t next = 0;
  while (next < events.size()) {
    std::string body;
    size_t count = 0;
    while (next < events.size() && count < kPushEvents &&
           (count == 0 || body.size() + events[next].size() + 1 <= kPushBytes)) {
      body += events[next++];
      body += '\n';
      count++;
    }
    auto res = client.Post(path, headers, body, "application/x-ndjson");
    if (!res) {
      return IOError("cannot reach the plexus server at " + server.url + ": " +
                     httplib::to_string(res.error()));
    }
    if (res->status < 200 || res->status >= 300) return internal::StatusOfAnswer(res->status, res->body);
    json r = json::parse(res->body, nullptr, false);
    if (!r.is_object()) return Internal("the server's push report is not JSON");
    total.pushes++;
    total.events += r.value("events", int64_t{0});
    total.upserted += r.value("upserted", int64_t{0});
    total.deleted += r.value("deleted", int64_t{0});
    total.stale += r.value("stale", int64_t{0});
    total.dead_lettered += r.value("dead_lettered", int64_t{0});
    for (const auto& c : r.value("new_columns", json::array())) {
      if (c.is_string()) total.new_columns.push_back(c.get<std::string>());
    }
    if (r.value("paused", false)) {
      total.paused = true;
      total.pause_reason = r.value("pause_reason", "");
      break;
    }
    if (progress) progress(total);
  }
  return total;
}

}  // namespace plexus::server
