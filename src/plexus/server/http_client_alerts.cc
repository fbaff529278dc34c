// RemoteAlerts: `plexus alerts` through a running server (GET /api/v1/alerts, http_alerts.cc).
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/server/http_client.h"
#include "plexus/server/http_client_internal.h"

namespace plexus::server {

Result<std::vector<catalog::AlertRecord>> RemoteAlerts(const RemoteServer& server,
                                                       const std::string& status, int limit) {
  httplib::Client client(server.url);
  client.set_read_timeout(60, 0);
  httplib::Headers headers = {{"Authorization", "Bearer " + server.token}};
  std::string path = "/api/v1/alerts?limit=" + std::to_string(limit);
  if (!status.empty()) path += "&status=" + status;
  auto res = client.Get(path, headers);
  if (!res) {
    return IOError("cannot reach the plexus server at " + server.url + ": " +
                   httplib::to_string(res.error()));
  }
  if (res->status != 200) return internal::StatusOfAnswer(res->status, res->body);
  nlohmann::json doc = nlohmann::json::parse(res->body, nullptr, false);
  if (!doc.is_object()) return Internal("the server's alerts are not JSON");
  std::vector<catalog::AlertRecord> alerts;
  for (const auto& a : doc.value("alerts", nlohmann::json::array())) {
    catalog::AlertRecord r;
    r.id = a.value("id", int64_t{0});
    r.key = a.value("key", "");
    r.status = a.value("status", "");
    r.kind = a.value("kind", "");
    r.entity = a.value("entity", "");
    r.product = a.value("product", "");
    r.severity = a.value("severity", "");
    r.message = a.value("message", "");
    r.fired_at = a.value("fired_at", "");
    if (a.contains("resolved_at") && a["resolved_at"].is_string()) r.resolved_at = a["resolved_at"];
    alerts.push_back(std::move(r));
  }
  return alerts;
}

}  // namespace plexus::server
