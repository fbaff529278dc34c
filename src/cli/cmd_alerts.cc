// plexus alerts [--status firing|resolved|all] [--format table|json] [--limit N] (issue 9):
// the alerts the catalog keeps (docs/openlineage-and-alerts.md), newest first, through the
// running server when there is one. A mesh admin sees every alert; anyone else those of the
// products they may see.
#include <cstdio>
#include <iostream>
#include <set>

#include "cli/cli.h"
#include "plexus/observe/alerts.h"

namespace plexus::cli {
namespace {

struct AlertsArgs {
  std::string status = "all";
  std::string format = "table";
  int limit = 50;
};

Result<std::vector<catalog::AlertRecord>> LocalAlerts(const Context& ctx,
                                                      const std::string& status, int limit) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(*catalog));
  std::set<std::string> visible;
  if (!principal.admin) {
    PLEXUS_ASSIGN_OR_RETURN(auto products, VisibleProducts(ctx, *catalog));
    for (const auto& p : products) visible.insert(p.QualifiedName());
  }
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog->ListAlerts(status, 0));
  std::vector<catalog::AlertRecord> shown;
  for (auto& a : all) {
    if (static_cast<int>(shown.size()) >= limit) break;
    if (principal.admin || visible.count(a.product)) shown.push_back(std::move(a));
  }
  return shown;
}

void PrintAlertsTable(const std::vector<catalog::AlertRecord>& alerts) {
  if (alerts.empty()) {
    std::cout << "no alerts\n";
    return;
  }
  std::printf("%-6s %-9s %-17s %-9s %-44s %-24s %-24s %s\n", "ID", "STATUS", "KIND", "SEVERITY",
              "ENTITY", "FIRED", "RESOLVED", "MESSAGE");
  for (const auto& a : alerts) {
    std::string message = a.message.size() > 100 ? a.message.substr(0, 97) + "..." : a.message;
    std::printf("%-6lld %-9s %-17s %-9s %-44s %-24s %-24s %s\n", static_cast<long long>(a.id),
                a.status.c_str(), a.kind.c_str(), a.severity.c_str(), a.entity.c_str(),
                a.fired_at.c_str(), OrDash(a.resolved_at).c_str(), message.c_str());
  }
}

Status Alerts(const Context& ctx, const AlertsArgs& args) {
  if (args.status != "firing" && args.status != "resolved" && args.status != "all") {
    return InvalidArgument("--status must be firing, resolved or all");
  }
  if (args.format != "table" && args.format != "json") {
    return InvalidArgument("--format must be table or json");
  }
  if (args.limit < 1 || args.limit > 1000) return InvalidArgument("--limit must be 1 to 1000");
  std::string status = args.status == "all" ? "" : args.status;
  std::vector<catalog::AlertRecord> alerts;
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {
    PLEXUS_ASSIGN_OR_RETURN(alerts, server::RemoteAlerts(*remote, status, args.limit));
  } else {
    PLEXUS_ASSIGN_OR_RETURN(alerts, LocalAlerts(ctx, status, args.limit));
  }
  if (args.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : alerts) list.push_back(observe::AlertJson(a));
    std::cout << nlohmann::json{{"alerts", list}}.dump(2) << "\n";
  } else {
    PrintAlertsTable(alerts);
  }
  return Status::OK();
}

}  // namespace

void SetupAlerts(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<AlertsArgs>();
  app.add_option("--status,-s", args->status, "firing, resolved or all")->capture_default_str();
  app.add_option("--format,-f", args->format, "table or json")->capture_default_str();
  app.add_option("--limit", args->limit, "How many alerts, newest first")->capture_default_str();
  app.callback([&ctx, args] { ctx.action = [&ctx, args] { return Alerts(ctx, *args); }; });
}

}  // namespace plexus::cli
