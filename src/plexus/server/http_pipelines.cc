// Pipelines inside plexus serve, over HTTP (issue 7):
//   POST /api/v1/runs                                    run products now (plexus run)
//   POST /api/v1/products/{ref}/inputs/{input}/events    push Debezium change events to an
//                                                        http CDC input (NDJSON or a JSON array)
//   POST /api/v1/products/{ref}/inputs/{input}/backfill  re-read a files or kafka CDC input
//                                                        from a position (plexus backfill)
//   GET  /api/v1/products/{ref}/pipeline                 its schedule state: running, paused,
//                                                        next run
//   POST /api/v1/products/{ref}/pipeline/pause|resume    stop and restart its scheduled runs
//                                                        and its continuous stream
// Running, pausing and resuming take a mesh admin or an owner or member of the product's
// domain; pushing also the domain's service principal. Anyone else gets 403, and a product
// the caller may not see answers 404 like an unknown one. Pushes and pauses are audited.
#include <nlohmann/json.hpp>

#include "plexus/pipeline/scheduler.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// Events in one push at most (the body limit, 1 MiB, comes first for big events).
constexpr size_t kMaxPushedEvents = 100000;

Status NoScheduler() {
  return FailedPrecondition("pipelines run inside plexus serve; this server has no scheduler");
}

/// Whether `principal` may run, pause or resume the pipelines of `domain` (push: `service`
/// too).
bool MayOperate(const access::Principal& principal, const std::string& domain, bool service) {
  if (principal.admin) return true;
  auto role = principal.domain_roles.find(domain);
  if (role == principal.domain_roles.end()) return false;
  return role->second == "owner" || role->second == "member" ||
         (service && role->second == "service");
}

/// The product of the route's {ref}, if the caller sees it and may operate its pipeline.
Result<catalog::ProductRecord> OperatedProduct(const catalog::Catalog& catalog,
                                               access::QueryService& queries,
                                               const access::Principal& principal,
                                               const std::string& ref, const char* what,
                                               bool service = false) {
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  PLEXUS_ASSIGN_OR_RETURN(auto product, VisibleProduct(catalog, *policy, principal, ref));
  if (!MayOperate(principal, product.domain, service)) {
    return PermissionDenied(std::string(what) + " " + product.QualifiedName() +
                            " needs a mesh admin or an owner or member of domain " +
                            product.domain + (service ? " (or its service principal)" : ""));
  }
  return product;
}

void Audit(catalog::Catalog& catalog, const access::Principal& principal, std::string action,
           std::string object, std::string product, std::string detail, int64_t rows = 0) {
  catalog::AuditRecord record;
  record.principal = principal.name;
  record.action = std::move(action);
  record.object = std::move(object);
  record.products = {std::move(product)};
  record.decision = "allow";
  record.rows = rows;
  record.detail = std::move(detail);
  (void)catalog.AppendAudit(std::move(record));
}

json QualityJson(const catalog::QualityResultRecord& q) {
  return {{"port", q.port},         {"major", q.major},         {"rule", q.rule},
          {"column", q.column},     {"check", q.check},         {"status", q.status},
          {"measured", q.has_measured ? json(q.measured) : json(nullptr)},
          {"unit", q.unit},         {"threshold", q.threshold}, {"severity", q.severity},
          {"message", q.message}};
}

json ReportJson(const pipeline::RunReport& r) {
  json quality = json::array();
  for (const auto& q : r.quality) quality.push_back(QualityJson(q));
  json proposals = json::array();
  for (const auto& p : r.proposals) {
    proposals.push_back({{"port", p.port}, {"column", p.column}, {"type", p.type},
                         {"proposed_version", p.proposed_version}, {"at", p.at}});
  }
  json out = {{"product", r.product}, {"status", r.status},   {"reason", r.reason},
              {"rows", r.rows},       {"seconds", r.seconds}, {"run_id", r.run_id},
              {"quality", quality},   {"proposals", proposals}};
  if (!r.paused.empty()) out["paused"] = r.paused;
  if (r.changes) {
    out["changes"] = {{"events", r.changes->events},
                      {"upserted", r.changes->upserted},
                      {"deleted", r.changes->deleted},
                      {"stale", r.changes->stale},
                      {"dead_lettered", r.changes->dead_lettered},
                      {"compacted", r.changes->compacted}};
  }
  return out;
}

/// The products of a run request the caller may run; kPermissionDenied / kNotFound otherwise.
Result<std::vector<std::string>> RunnableProducts(const catalog::Catalog& catalog,
                                                  access::QueryService& queries,
                                                  const access::Principal& principal,
                                                  const json& body) {
  std::vector<std::string> products;
  bool all = body.value("all", false);
  const json& named = body.contains("products") ? body["products"] : json::array();
  if (!named.is_array()) return InvalidArgument("products must be a list of domain.product");
  if (all == !named.empty()) {
    return InvalidArgument("name the products to run (\"products\": [...]) or \"all\": true");
  }
  for (const auto& ref : named) {
    if (!ref.is_string()) return InvalidArgument("products must be a list of domain.product");
    PLEXUS_ASSIGN_OR_RETURN(auto p, OperatedProduct(catalog, queries, principal,
                                                    ref.get<std::string>(), "running"));
    products.push_back(p.QualifiedName());
  }
  if (!all) return products;
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  PLEXUS_ASSIGN_OR_RETURN(auto visible, VisibleProducts(catalog, *policy, principal));
  for (const auto& p : visible) {
    if (!p.pipeline_text.empty() && MayOperate(principal, p.domain, false)) {
      products.push_back(p.QualifiedName());
    }
  }
  if (products.empty()) {
    return FailedPrecondition("no product with a pipeline that you may run: apply a mesh first");
  }
  return products;
}

void RunNow(catalog::Catalog* catalog, access::QueryService* queries,
            pipeline::Scheduler* scheduler, const httplib::Request& req, httplib::Response& res,
            const access::Principal& principal) {
  if (scheduler == nullptr) return SendError(res, NoScheduler());
  auto body = BodyObject(req, {"products", "all", "full_refresh"});
  if (!body.ok()) return SendError(res, body.status());
  if (body->contains("all") && !(*body)["all"].is_boolean()) {
    return SendError(res, InvalidArgument("all must be true or false"));
  }
  if (body->contains("full_refresh") && !(*body)["full_refresh"].is_boolean()) {
    return SendError(res, InvalidArgument("full_refresh must be true or false"));
  }
  auto products = RunnableProducts(*catalog, *queries, principal, *body);
  if (!products.ok()) return SendError(res, products.status());
  bool full_refresh = body->value("full_refresh", false);
  auto reports = scheduler->RunNow(*products, full_refresh);
  if (!reports.ok()) return SendError(res, reports.status());
  json runs = json::array();
  for (const auto& r : *reports) runs.push_back(ReportJson(r));
  (void)queries->Refresh();  // a new domain's data file answers at once
  SendJson(res, {{"runs", runs}});
}

/// The pushed events: NDJSON (one envelope per line) or one JSON array of envelopes.
Result<std::vector<std::string>> PushedEvents(const std::string& body) {
  std::vector<std::string> events;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return InvalidArgument("the body holds no events");
  if (body[first] == '[') {
    json list = json::parse(body, nullptr, false);
    if (!list.is_array()) return InvalidArgument("the body is not a JSON array of events");
    for (const auto& e : list) events.push_back(e.dump());
  } else {
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      std::string line = body.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) events.push_back(std::move(line));
      start = end + 1;
    }
  }
  if (events.size() > kMaxPushedEvents) {
    return InvalidArgument("at most " + std::to_string(kMaxPushedEvents) +
                           " events per push: split the batch");
  }
  return events;
}

json ApplyJson(const pipeline::ApplyReport& r) {
  return {{"events", r.events},     {"upserted", r.upserted},
          {"deleted", r.deleted},   {"stale", r.stale},
          {"dead_lettered", r.dead_lettered}, {"compacted", r.compacted},
          {"new_columns", r.new_columns},
          {"paused", r.paused},     {"pause_reason", r.pause_reason},
          {"seconds", r.seconds}};
}

void PushEvents(catalog::Catalog* catalog, access::QueryService* queries,
                pipeline::Scheduler* scheduler, const httplib::Request& req,
                httplib::Response& res, const access::Principal& principal) {
  if (scheduler == nullptr) return SendError(res, NoScheduler());
  auto product = OperatedProduct(*catalog, *queries, principal, req.matches[1].str(),
                                 "pushing events to", true);
  if (!product.ok()) return SendError(res, product.status());
  std::string input = req.matches[2].str();
  auto events = PushedEvents(req.body);
  if (!events.ok()) return SendError(res, events.status());
  size_t count = events->size();
  auto report = scheduler->Push(product->QualifiedName(), input, std::move(events).value());
  if (!report.ok()) return SendError(res, report.status());
  Audit(*catalog, principal, "pipeline.push", product->QualifiedName() + "/" + input,
        product->QualifiedName(),
        std::to_string(count) + " events: " + std::to_string(report->upserted) + " upserted, " +
            std::to_string(report->deleted) + " deleted, " +
            std::to_string(report->dead_lettered) + " dead-lettered" +
            (report->paused ? ", paused: " + report->pause_reason : ""),
        report->upserted + report->deleted);
  (void)queries->Refresh();
  SendJson(res, ApplyJson(*report));
}

void Backfill(catalog::Catalog* catalog, access::QueryService* queries,
              pipeline::Scheduler* scheduler, const httplib::Request& req, httplib::Response& res,
              const access::Principal& principal) {
  if (scheduler == nullptr) return SendError(res, NoScheduler());
  auto product = OperatedProduct(*catalog, *queries, principal, req.matches[1].str(),
                                 "backfilling");
  if (!product.ok()) return SendError(res, product.status());
  std::string input = req.matches[2].str();
  auto body = BodyObject(req, {"from"});
  if (!body.ok()) return SendError(res, body.status());
  if (!body->contains("from") || !(*body)["from"].is_string()) {
    return SendError(res, InvalidArgument("from must be a string: a file name of the input's "
                                          "folder, or kafka partition:offset pairs"));
  }
  std::string from = (*body)["from"].get<std::string>();
  auto report = scheduler->Backfill(product->QualifiedName(), input, from);
  if (!report.ok()) return SendError(res, report.status());
  Audit(*catalog, principal, "pipeline.backfill", product->QualifiedName() + "/" + input,
        product->QualifiedName(), "from " + from + ": " + report->status);
  (void)queries->Refresh();
  SendJson(res, ReportJson(*report));
}

void PipelineState(catalog::Catalog* catalog, access::QueryService* queries,
                   pipeline::Scheduler* scheduler, const httplib::Request& req,
                   httplib::Response& res, const access::Principal& principal) {
  auto policy = CurrentPolicy(*queries);
  if (!policy.ok()) return SendError(res, policy.status());
  auto product = VisibleProduct(*catalog, **policy, principal, req.matches[1].str());
  if (!product.ok()) return SendError(res, product.status());
  auto state = catalog->GetPipelineState(product->id);
  if (!state.ok()) return SendError(res, state.status());
  json body = {{"product", product->QualifiedName()},
               {"pipeline", !product->pipeline_text.empty()},
               {"paused", state->paused},
               {"pause_reason", state->reason},
               {"paused_since", state->since},
               {"running", false},
               {"continuous", false},
               {"next_run", nullptr}};
  if (scheduler != nullptr) {
    auto status = scheduler->StatusOf(product->QualifiedName());
    if (!status.ok()) return SendError(res, status.status());
    body["running"] = status->running;
    body["continuous"] = status->continuous;
    if (!status->next_run.empty()) body["next_run"] = status->next_run;
  }
  SendJson(res, body);
}

void PauseOrResume(catalog::Catalog* catalog, access::QueryService* queries,
                   pipeline::Scheduler* scheduler, const httplib::Request& req,
                   httplib::Response& res, const access::Principal& principal, bool pause) {
  if (scheduler == nullptr) return SendError(res, NoScheduler());
  auto product = OperatedProduct(*catalog, *queries, principal, req.matches[1].str(),
                                 pause ? "pausing" : "resuming");
  if (!product.ok()) return SendError(res, product.status());
  std::string reason;
  if (pause) {
    if (!req.body.empty()) {
      Status read = ReadTextBody(req, {{"reason", &reason}});
      if (!read.ok()) return SendError(res, read);
    }
    reason = "paused by " + principal.name + (reason.empty() ? "" : ": " + reason);
  }
  Status done = pause ? scheduler->Pause(product->QualifiedName(), reason)
                      : scheduler->Resume(product->QualifiedName());
  if (!done.ok()) return SendError(res, done);
  Audit(*catalog, principal, pause ? "pipeline.pause" : "pipeline.resume",
        product->QualifiedName(), product->QualifiedName(), reason);
  PipelineState(catalog, queries, scheduler, req, res, principal);
}

}  // namespace

void PipelineRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries,
                    pipeline::Scheduler* scheduler) {
  routes
      .Post("/api/v1/runs",
            "Run products' pipelines now, in dependency order, as plexus run does (admins, the "
            "products' domain owners and members)",
            [catalog, queries, scheduler](const auto& req, auto& res, const auto& principal) {
              RunNow(catalog, queries, scheduler, req, res, principal);
            })
      .Tag("runs")
      .Body("{\"products\": [\"domain.product\"], \"all\": false, \"full_refresh\": false}");
  routes
      .Post("/api/v1/products/{ref}/inputs/{input}/events",
            "Push Debezium change events (NDJSON, or a JSON array) to a product's http CDC "
            "input: all applied or none (admins, the domain's owners, members and service "
            "principal)",
            [catalog, queries, scheduler](const auto& req, auto& res, const auto& principal) {
              PushEvents(catalog, queries, scheduler, req, res, principal);
            })
      .Tag("pipelines")
      .Body("Debezium envelopes, one per line (application/x-ndjson) or a JSON array");
  routes
      .Post("/api/v1/products/{ref}/inputs/{input}/backfill",
            "Re-read a files or kafka CDC input from a position and catch up; replayed events "
            "older than the table's state are skipped (admins, the domain's owners and members)",
            [catalog, queries, scheduler](const auto& req, auto& res, const auto& principal) {
              Backfill(catalog, queries, scheduler, req, res, principal);
            })
      .Tag("pipelines")
      .Body("{\"from\": \"changes-0002.ndjson\"} (files) or {\"from\": \"0:120,1:0\"} "
            "(kafka)");
  routes
      .Get("/api/v1/products/{ref}/pipeline",
           "The product's pipeline: paused or not (and why), running, continuous, next run",
           [catalog, queries, scheduler](const auto& req, auto& res, const auto& principal) {
             PipelineState(catalog, queries, scheduler, req, res, principal);
           })
      .Tag("pipelines");
  routes
      .Post("/api/v1/products/{ref}/pipeline/pause",
            "Pause the product's pipeline: no scheduled runs, no micro-batches, no pushes; the "
            "data stays served (admins, the domain's owners and members)",
            [catalog, queries, scheduler](const auto& req, auto& res, const auto& principal) {
              PauseOrResume(catalog, queries, scheduler, req, res, principal, true);
            })
      .Tag("pipelines")
      .Body("{\"reason\": \"...\"} (optional)");
  routes
      .Post("/api/v1/products/{ref}/pipeline/resume",
            "Resume a paused pipeline (admins, the domain's owners and members)",
            [catalog, queries, scheduler](const auto& req, auto& res, const auto& principal) {
              PauseOrResume(catalog, queries, scheduler, req, res, principal, false);
            })
      .Tag("pipelines");
}

}  // namespace plexus::server::internal
