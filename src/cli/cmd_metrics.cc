// metrics: a product's pipeline metrics per output port and processor step, the last (or a
// given) run's and their history (issue 9, docs/metrics.md).
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "plexus/observe/metrics.h"
#include "plexus/server/http_client.h"

namespace plexus::cli {
namespace {

using nlohmann::json;

struct MetricsArgs {
  std::string product;
  int64_t run = 0;
  std::string since;
  std::string format = "table";
};

std::string Number(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", value.get<double>());
  return buf;
}

void PrintRun(const json& body) {
  const json& run = body["run"];
  std::printf("%s: run %lld at %s\n", body.value("product", "").c_str(),
              static_cast<long long>(run.value("id", int64_t{0})), run.value("at", "").c_str());
  std::printf("%-24s %-4s %-22s %12s %12s %10s %12s %12s %9s %9s\n", "PORT", "POS", "PROCESSOR",
              "ROWS IN", "ROWS OUT", "REJECTED", "BYTES IN", "BYTES OUT", "SECONDS", "LAG S");
  for (const auto& port : body["ports"]) {
    std::string name = port.value("port", "");
    std::printf("%-24s %-4s %-22s %12s %12s %10s %12s %12s %9s %9s\n", name.c_str(), "-", "-",
                Number(port["rows_in"]).c_str(), Number(port["rows_out"]).c_str(),
                Number(port["rows_rejected"]).c_str(), Number(port["bytes_in"]).c_str(),
                Number(port["bytes_out"]).c_str(), Number(port["seconds"]).c_str(),
                Number(port["lag_seconds"]).c_str());
    for (const auto& step : port["steps"]) {
      std::printf("%-24s %-4s %-22s %12s %12s\n", "", Number(step["position"]).c_str(),
                  step.value("processor", "").c_str(), Number(step["rows_in"]).c_str(),
                  Number(step["rows_out"]).c_str());
    }
  }
}

/// The history, ports only (steps are in --format json): one line per run or hour.
void PrintHistory(const json& history) {
  std::printf("\nHISTORY (per port)\n%-24s %-8s %-24s %12s %12s %10s %9s\n", "AT", "RUN", "PORT",
              "ROWS IN", "ROWS OUT", "REJECTED", "SECONDS");
  for (const auto& m : history) {
    if (!m["position"].is_null()) continue;
    std::printf("%-24s %-8s %-24s %12s %12s %10s %9s\n", m.value("at", "").c_str(),
                Number(m["run_id"]).c_str(), m.value("port", "").c_str(),
                Number(m["rows_in"]).c_str(), Number(m["rows_out"]).c_str(),
                Number(m["rows_rejected"]).c_str(), Number(m["seconds"]).c_str());
  }
}

Result<json> Fetch(const Context& ctx, const MetricsArgs& args) {
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {
    PLEXUS_ASSIGN_OR_RETURN(std::string text, server::RemoteProductMetrics(
                                                  *remote, args.product, args.run, args.since));
    json body = json::parse(text, nullptr, false);
    if (!body.is_object()) return Internal("the server's metrics are not JSON");
    return body;
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto product, VisibleProduct(ctx, *catalog, args.product));
  return observe::ProductMetricsJson(*catalog, product, args.run, args.since);
}

Status Metrics(const Context& ctx, const MetricsArgs& args) {
  if (args.format != "table" && args.format != "json") {
    return InvalidArgument("--format must be table or json");
  }
  if (args.run < 0) return InvalidArgument("--run must be a run id (plexus runs lists them)");
  PLEXUS_ASSIGN_OR_RETURN(json body, Fetch(ctx, args));
  if (args.format == "json") {
    std::cout << body.dump(2) << "\n";
    return Status::OK();
  }
  if (body["run"].is_null()) {
    std::cout << body.value("product", args.product)
              << ": no run has recorded metrics yet (plexus run " << args.product << ")\n";
    return Status::OK();
  }
  PrintRun(body);
  PrintHistory(body["history"]);
  return Status::OK();
}

}  // namespace

void SetupMetrics(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<MetricsArgs>();
  app.add_option("product", args->product, "The product (domain.product or id)")->required();
  app.add_option("--run", args->run, "Show this run (default: the newest that recorded metrics)");
  app.add_option("--since", args->since,
                 "History from this ISO date or time (default: everything kept)");
  app.add_option("--format,-f", args->format, "table or json")->capture_default_str();
  app.footer("Rows in and out per output port and per processor step, rows rejected by the "
             "contract, bytes and seconds (docs/metrics.md). History: every run of the last 7 "
             "days, then one row per hour for 90 days.");
  app.callback([&ctx, args] { ctx.action = [&ctx, args] { return Metrics(ctx, *args); }; });
}

}  // namespace plexus::cli
