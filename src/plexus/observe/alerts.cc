// Alerts (alerts.h): reconciling conditions with the catalog's firing alerts, sending each
// change to the webhook and the log, and the conditions a run leaves behind.
#include "plexus/observe/alerts.h"

#include <map>
#include <set>

#include "plexus/observe/log.h"

namespace plexus::observe {
namespace {

using nlohmann::json;

/// What a CDC pause for a source column the contract lacks says (pipeline/cdc_apply.cc).
constexpr std::string_view kNewColumnsPause = "(new_columns: pause)";

std::string KeyOf(const AlertCondition& c, const std::string& kind) {
  if (!c.key.empty()) return c.key;
  return (c.kind.empty() ? kind : c.kind) + ":" + c.entity;
}

/// The columns of the product's ports at their newest majors: port -> column names.
std::map<std::string, std::set<std::string>> DeclaredColumns(const catalog::ProductRecord& p) {
  std::map<std::string, int> newest;
  for (const auto& port : p.outputs) {
    newest[port.name] = std::max(newest[port.name], port.major);
  }
  std::map<std::string, std::set<std::string>> out;
  for (const auto& port : p.outputs) {
    if (port.major != newest[port.name]) continue;
    for (const auto& c : port.columns) out[port.name].insert(c.name);
  }
  return out;
}

std::vector<AlertCondition> QualityConditions(
    const std::string& product, const std::vector<catalog::QualityResultRecord>& results) {
  std::vector<AlertCondition> active;
  for (const auto& q : results) {
    if (q.status != "failed") continue;
    std::string rule = q.rule.empty() ? "rule " + std::to_string(q.rule_position + 1) : q.rule;
    std::string entity = product + "." + q.port + (q.column.empty() ? "" : "." + q.column) +
                         "/" + rule;
    AlertCondition c;
    c.entity = entity;
    c.product = product;
    c.severity = q.severity == "error" ? "critical" : "warning";
    c.message = "quality check " + rule + " of " + product + "." + q.port + " failed" +
                (q.message.empty() ? "" : ": " + q.message);
    active.push_back(std::move(c));
  }
  return active;
}

Result<std::vector<AlertCondition>> DriftConditions(catalog::Catalog& catalog,
                                                    const catalog::ProductRecord& p) {
  std::vector<AlertCondition> active;
  std::string product = p.QualifiedName();
  PLEXUS_ASSIGN_OR_RETURN(auto state, catalog.GetPipelineState(p.id));
  if (state.paused && state.reason.find(kNewColumnsPause) != std::string::npos) {
    active.push_back({"", "", product, product, "critical",
                      "the CDC pipeline of " + product + " is paused: " + state.reason});
  }
  PLEXUS_ASSIGN_OR_RETURN(auto proposals, catalog.ListSchemaProposals(p.id));
  auto declared = DeclaredColumns(p);
  for (const auto& proposal : proposals) {
    if (declared[proposal.port].count(proposal.column)) continue;  // the contract has it now
    std::string entity = product + "." + proposal.port + "." + proposal.column;
    active.push_back({"", "", entity, product, "warning",
                      "the source of " + product + " has column " + proposal.column + " " +
                          proposal.type + " that the contract of port " + proposal.port +
                          " does not declare (proposed: contract " +
                          proposal.proposed_version + ")"});
  }
  return active;
}

}  // namespace

json AlertJson(const catalog::AlertRecord& a) {
  return {{"id", a.id},
          {"key", a.key},
          {"status", a.status},
          {"kind", a.kind},
          {"entity", a.entity},
          {"product", a.product},
          {"severity", a.severity},
          {"message", a.message},
          {"fired_at", a.fired_at},
          {"resolved_at", a.resolved_at.empty() ? json(nullptr) : json(a.resolved_at)}};
}

AlertEngine::AlertEngine(catalog::Catalog* catalog, spec::MeshObservability settings,
                         Dispatcher* dispatcher)
    : catalog_(catalog), settings_(std::move(settings)), dispatcher_(dispatcher) {}

void AlertEngine::Notify(const catalog::AlertRecord& alert) {
  json body = AlertJson(alert);
  if (settings_.alerts_log) {
    bool firing = alert.status == "firing";
    Log(firing ? LogLevel::kWarn : LogLevel::kInfo, firing ? "alert.firing" : "alert.resolved",
        body);
  }
  if (dispatcher_ != nullptr && !settings_.alerts_webhook.empty()) {
    dispatcher_->Post(settings_.alerts_webhook, body.dump());
  }
}

Status AlertEngine::Reconcile(const std::string& kind, const std::string& product,
                              const std::vector<AlertCondition>& active) {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto firing, catalog_->ListAlerts("firing", 0));
  std::set<std::string> firing_keys;
  for (const auto& a : firing) firing_keys.insert(a.key);
  std::set<std::string> active_keys;
  for (const auto& c : active) {
    std::string key = KeyOf(c, kind);
    active_keys.insert(key);
    if (firing_keys.count(key)) continue;
    catalog::AlertRecord alert;
    alert.key = key;
    alert.kind = c.kind.empty() ? kind : c.kind;
    alert.entity = c.entity;
    alert.product = c.product.empty() ? product : c.product;
    alert.severity = c.severity.empty() ? "warning" : c.severity;
    alert.message = c.message;
    auto fired = catalog_->FireAlert(alert);
    if (fired.ok()) {
      firing_keys.insert(key);
      Notify(*fired);
    } else if (fired.status().code() != StatusCode::kAlreadyExists) {
      return fired.status();
    }
  }
  for (const auto& a : firing) {
    if (a.kind != kind || (!product.empty() && a.product != product)) continue;
    if (active_keys.count(a.key)) continue;
    auto resolved = catalog_->ResolveAlert(a.id);
    if (resolved.ok()) {
      Notify(*resolved);
    } else if (resolved.status().code() != StatusCode::kNotFound) {
      return resolved.status();
    }
  }
  return Status::OK();
}

Status ReconcileRunAlerts(AlertEngine& engine, catalog::Catalog& catalog, int64_t run_id,
                          const std::string& product_id) {
  PLEXUS_ASSIGN_OR_RETURN(catalog::ProductRecord p, catalog.GetProduct(product_id));
  std::string product = p.QualifiedName();
  PLEXUS_ASSIGN_OR_RETURN(auto runs, catalog.ListRuns(p.id, 200));
  const catalog::RunRecord* run = nullptr;
  for (const auto& r : runs) {
    if (r.id == run_id) run = &r;
  }
  if (run == nullptr) return NotFound("no run " + std::to_string(run_id) + " of " + product);
  if (run->status == "running") return Status::OK();  // not finished: nothing to tell yet
  bool failed = run->status == "failed";
  std::vector<AlertCondition> pipeline;
  if (failed) {
    pipeline.push_back({"", "", product, product, "critical",
                        "run " + std::to_string(run_id) + " of " + product + " failed" +
                            (run->reason.empty() ? "" : ": " + run->reason)});
  }
  PLEXUS_RETURN_IF_ERROR(engine.Reconcile(kPipelineFailure, product, pipeline));
  PLEXUS_ASSIGN_OR_RETURN(auto results, catalog.ListQualityResults(p.id, run_id));
  if (!failed || !results.empty()) {
    PLEXUS_RETURN_IF_ERROR(
        engine.Reconcile(kQualityFailure, product, QualityConditions(product, results)));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto drift, DriftConditions(catalog, p));
  return engine.Reconcile(kSchemaDrift, product, drift);
}

}  // namespace plexus::observe
