#include "plexus/server/http_client.h"

#include <cctype>
#include <filesystem>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/server/http_client_internal.h"
#include "plexus/server/http_internal.h"

namespace plexus::server {

Status internal::StatusOfAnswer(int http_status, const std::string& body) {
  using nlohmann::json;
  json doc = json::parse(body, nullptr, false);
  std::string code, message = "the server answered HTTP " + std::to_string(http_status);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    code = doc["error"].value("code", "");
    message = doc["error"].value("message", message);
  }
  for (StatusCode c : {StatusCode::kInvalidArgument, StatusCode::kNotFound,
                       StatusCode::kAlreadyExists, StatusCode::kPermissionDenied,
                       StatusCode::kUnauthenticated, StatusCode::kFailedPrecondition,
                       StatusCode::kIOError}) {
    if (internal::ErrorCode(c) == code) return Status(c, message);
  }
  if (http_status == 404) return NotFound(message);
  if (http_status == 409) return FailedPrecondition(message);
  if (http_status >= 400 && http_status < 500) return InvalidArgument(message);
  return Internal(message);
}

namespace {

using internal::StatusOfAnswer;
using nlohmann::json;

/// A query may run long: the client waits this long for the next bytes.
constexpr time_t kReadTimeoutSeconds = 24 * 3600;

/// The error's details lines, if any.
std::vector<std::string> DetailsOf(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  std::vector<std::string> lines;
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) return lines;
  const json& details = doc["error"].value("details", json::array());
  for (const auto& line : details) {
    if (line.is_string()) lines.push_back(line.get<std::string>());
  }
  return lines;
}

struct Answer {
  int status = 0;
  std::vector<std::string> warnings;  ///< X-Plexus-Warning headers
  std::string body;                   ///< the error's body, or a success's when not streamed
};

/// POSTs a JSON body; a successful answer's body goes to `out` when given (as it arrives).
Result<Answer> Post(const RemoteServer& server, const std::string& path, const json& body,
                    std::ostream* out) {
  httplib::Client client(server.url);
  client.set_read_timeout(kReadTimeoutSeconds, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.headers = {{"Authorization", "Bearer " + server.token}};
  req.set_header("Content-Type", "application/json");
  req.body = body.dump();
  Answer answer;
  req.response_handler = [&answer](const httplib::Response& res) {
    answer.status = res.status;
    auto [begin, end] = res.headers.equal_range("X-Plexus-Warning");
    for (auto it = begin; it != end; ++it) answer.warnings.push_back(it->second);
    return true;
  };
  req.content_receiver = [&answer, out](const char* data, size_t size, uint64_t, uint64_t) {
    if (out != nullptr && answer.status >= 200 && answer.status < 300) {
      out->write(data, static_cast<std::streamsize>(size));
    } else {
      answer.body.append(data, size);
    }
    return true;
  };
  auto result = client.send(req);
  if (!result) {
    return IOError("cannot reach the plexus server at " + server.url + ": " +
                   httplib::to_string(result.error()));
  }
  answer.status = result->status;
  return answer;
}

/// GETs `path`; the answer's body whatever its status.
Result<Answer> Get(const RemoteServer& server, const std::string& path) {
  httplib::Client client(server.url);
  client.set_read_timeout(kReadTimeoutSeconds, 0);
  auto result = client.Get(path, {{"Authorization", "Bearer " + server.token}});
  if (!result) {
    return IOError("cannot reach the plexus server at " + server.url + ": " +
                   httplib::to_string(result.error()));
  }
  Answer answer;
  answer.status = result->status;
  answer.body = result->body;
  return answer;
}

/// The JSON body of a successful answer, or the error the answer stands for.
Result<json> JsonOf(const Answer& answer) {
  if (answer.status < 200 || answer.status >= 300) {
    return StatusOfAnswer(answer.status, answer.body);
  }
  json doc = json::parse(answer.body, nullptr, false);
  if (!doc.is_object()) return Internal("the server's answer is not a JSON object");
  return doc;
}

std::string PercentEncoded(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

catalog::QualityResultRecord QualityOf(const json& q, int64_t run_id) {
  catalog::QualityResultRecord result;
  result.run_id = run_id;
  result.port = q.value("port", "");
  result.major = q.value("major", 0);
  result.rule = q.value("rule", "");
  result.column = q.value("column", "");
  result.check = q.value("check", "");
  result.status = q.value("status", "");
  result.has_measured = q.contains("measured") && q["measured"].is_number();
  if (result.has_measured) result.measured = q["measured"].get<double>();
  result.unit = q.value("unit", "");
  result.threshold = q.value("threshold", "");
  result.severity = q.value("severity", "");
  result.message = q.value("message", "");
  return result;
}

/// One product's run as POST /api/v1/runs (or .../backfill) answers it.
pipeline::RunReport RunReportOf(const json& r) {
  pipeline::RunReport report;
  report.product = r.value("product", "");
  report.status = r.value("status", "");
  report.reason = r.value("reason", "");
  report.seconds = r.value("seconds", 0.0);
  report.run_id = r.value("run_id", int64_t{0});
  if (r.contains("rows") && r["rows"].is_object()) {
    for (auto it = r["rows"].begin(); it != r["rows"].end(); ++it) {
      if (it->is_number_integer()) report.rows[it.key()] = it->get<int64_t>();
    }
  }
  for (const auto& q : r.value("quality", json::array())) {
    report.quality.push_back(QualityOf(q, report.run_id));
  }
  report.paused = r.value("paused", "");
  if (r.contains("changes") && r["changes"].is_object()) {
    const json& c = r["changes"];
    report.changes = pipeline::RunReport::Changes{
        .events = c.value("events", int64_t{0}),
        .upserted = c.value("upserted", int64_t{0}),
        .deleted = c.value("deleted", int64_t{0}),
        .stale = c.value("stale", int64_t{0}),
        .dead_lettered = c.value("dead_lettered", int64_t{0}),
        .compacted = c.value("compacted", int64_t{0})};
  }
  for (const auto& p : r.value("proposals", json::array())) {
    catalog::SchemaProposalRecord proposal;
    proposal.port = p.value("port", "");
    proposal.column = p.value("column", "");
    proposal.type = p.value("type", "");
    proposal.proposed_version = p.value("proposed_version", "");
    proposal.at = p.value("at", "");
    report.proposals.push_back(std::move(proposal));
  }
  return report;
}

}  // namespace

Result<std::vector<pipeline::RunReport>> RemoteRun(const RemoteServer& server,
                                                   const std::vector<std::string>& products,
                                                   bool all, bool full_refresh) {
  json body = {{"products", products}, {"all", all}, {"full_refresh", full_refresh}};
  PLEXUS_ASSIGN_OR_RETURN(Answer answer, Post(server, "/api/v1/runs", body, nullptr));
  PLEXUS_ASSIGN_OR_RETURN(json doc, JsonOf(answer));
  std::vector<pipeline::RunReport> reports;
  for (const auto& r : doc.value("runs", json::array())) reports.push_back(RunReportOf(r));
  return reports;
}

Result<pipeline::RunReport> RemoteBackfill(const RemoteServer& server, const std::string& product,
                                           const std::string& input, const std::string& from) {
  json body = {{"from", from}};
  PLEXUS_ASSIGN_OR_RETURN(
      Answer answer, Post(server, "/api/v1/products/" + PercentEncoded(product) + "/inputs/" +
                                      PercentEncoded(input) + "/backfill",
                          body, nullptr));
  PLEXUS_ASSIGN_OR_RETURN(json doc, JsonOf(answer));
  return RunReportOf(doc);
}

Result<std::vector<catalog::RunRecord>> RemoteRuns(const RemoteServer& server,
                                                   const std::string& product, int limit) {
  std::string path = "/api/v1/runs?limit=" + std::to_string(limit);
  if (!product.empty()) path += "&product=" + PercentEncoded(product);
  PLEXUS_ASSIGN_OR_RETURN(Answer answer, Get(server, path));
  PLEXUS_ASSIGN_OR_RETURN(json doc, JsonOf(answer));
  std::vector<catalog::RunRecord> runs;
  for (const auto& r : doc.value("runs", json::array())) {
    catalog::RunRecord run;
    run.id = r.value("id", int64_t{0});
    run.product_id = r.value("product_id", "");
    run.product = r.value("product", "");
    run.started_at = r.value("started_at", "");
    run.finished_at = r.value("finished_at", "");
    run.status = r.value("status", "");
    run.reason = r.value("reason", "");
    run.rows = r.value("rows", int64_t{0});
    run.trigger = r.value("trigger", "manual");
    run.attempt = r.value("attempt", int64_t{1});
    runs.push_back(std::move(run));
  }
  return runs;
}

Result<RemotePipelineState> RemotePipeline(const RemoteServer& server, const std::string& product,
                                           const std::string& action, const std::string& reason) {
  std::string path = "/api/v1/products/" + PercentEncoded(product) + "/pipeline";
  Answer answer;
  if (action.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(answer, Get(server, path));
  } else {
    json body = json::object();
    if (!reason.empty()) body["reason"] = reason;
    PLEXUS_ASSIGN_OR_RETURN(answer, Post(server, path + "/" + action, body, nullptr));
  }
  PLEXUS_ASSIGN_OR_RETURN(json doc, JsonOf(answer));
  RemotePipelineState state;
  state.product = doc.value("product", product);
  state.paused = doc.value("paused", false);
  state.pause_reason = doc.value("pause_reason", "");
  state.paused_since = doc.value("paused_since", "");
  state.running = doc.value("running", false);
  state.continuous = doc.value("continuous", false);
  if (doc.contains("next_run") && doc["next_run"].is_string()) {
    state.next_run = doc["next_run"].get<std::string>();
  }
  return state;
}

Status RemoteQuery(const RemoteServer& server, const std::string& sql, const std::string& format,
                   const std::string& as, std::ostream& out, std::ostream& err) {
  json body = {{"sql", sql}, {"format", format}};
  if (!as.empty()) body["as"] = as;
  PLEXUS_ASSIGN_OR_RETURN(Answer answer, Post(server, "/api/v1/query", body, &out));
  for (const auto& warning : answer.warnings) err << "plexus: warning: " << warning << "\n";
  out.flush();
  if (answer.status < 200 || answer.status >= 300) {
    return StatusOfAnswer(answer.status, answer.body);
  }
  return Status::OK();
}

Status RemoteApply(const RemoteServer& server, const std::string& mesh_dir, std::ostream& out,
                   std::ostream& err) {
  std::error_code ec;
  std::string path = std::filesystem::absolute(mesh_dir, ec).lexically_normal().string();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  PLEXUS_ASSIGN_OR_RETURN(Answer answer,
                          Post(server, "/api/v1/mesh/apply", {{"path", path}}, nullptr));
  if (answer.status < 200 || answer.status >= 300) {
    for (const auto& line : DetailsOf(answer.body)) err << line << "\n";
    return StatusOfAnswer(answer.status, answer.body);
  }
  json report = json::parse(answer.body, nullptr, false);
  if (!report.is_object()) return Internal("the server's apply report is not JSON");
  for (const auto& w : report.value("warnings", json::array())) {
    err << "plexus: warning: " << w.get<std::string>() << "\n";
  }
  auto names = [&](const char* key) { return report.value(key, json::array()); };
  for (const auto& p : names("created")) out << "created    " << p.get<std::string>() << "\n";
  for (const auto& p : names("updated")) out << "updated    " << p.get<std::string>() << "\n";
  for (const auto& p : names("unchanged")) out << "unchanged  " << p.get<std::string>() << "\n";
  size_t created = names("created").size(), updated = names("updated").size();
  out << "applied mesh " << report.value("mesh", "") << ": " << report.value("domains", 0)
      << " domains, " << created + updated + names("unchanged").size() << " products ("
      << created << " created, " << updated << " updated)\n";
  return Status::OK();
}

}  // namespace plexus::server
