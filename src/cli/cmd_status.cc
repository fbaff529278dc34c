// status: the mesh's health at a glance (issue 9): one header line for the mesh, one line per
// product (last run, freshness SLO, quality, trust score, firing alerts). Read from the catalog
// directly, so it works with or without a running server; only the products the signed-in
// principal may see are counted.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "plexus/common/time.h"
#include "cli/cli.h"

namespace plexus::cli {
namespace {

using nlohmann::json;

struct StatusArgs {
  std::string format = "text";
  bool check = false;
};

/// Whole seconds since the epoch of a catalog time ("2026-11-25T23:50:01.123Z"); -1 if not one.
int64_t UnixSeconds(const std::string& iso) {
  return static_cast<int64_t>(UtcSeconds(iso).value_or(-1));
}

/// "40s", "5m", "3h", "2d".
std::string Ago(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

/// The worse of two SLO statuses (breached > at_risk > unknown > met).
std::string Worse(const std::string& a, const std::string& b) {
  auto rank = [](const std::string& s) {
    return s == "breached" ? 3 : s == "at_risk" ? 2 : s == "unknown" ? 1 : s == "met" ? 0 : -1;
  };
  return rank(b) > rank(a) ? b : a;
}

/// The UTC time 24 hours ago as "YYYY-MM-DDTHH:MM:SS", which sorts before the catalog's
/// times of the same second (they carry milliseconds).
std::string DayAgoUtc() {
  std::time_t t = std::time(nullptr) - 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

/// Everything the catalog holds that one product's line shows.
struct MeshFacts {
  std::vector<catalog::RunRecord> latest;  ///< each product's newest finished run
  std::vector<catalog::RunRecord> runs;    ///< the last 24 hours' runs, every product
  std::vector<catalog::SloStatusRecord> slos;
  std::map<std::string, double> trust;  ///< product_id -> score
  std::vector<catalog::AlertRecord> firing;
};

Result<MeshFacts> ReadFacts(catalog::Catalog& catalog) {
  MeshFacts facts;
  PLEXUS_ASSIGN_OR_RETURN(facts.latest, catalog.LatestFinishedRuns());
  catalog::RunQuery today;  // the last 24 hours, for the mesh's run counts
  today.since = DayAgoUtc();
  today.limit = -1;
  PLEXUS_ASSIGN_OR_RETURN(facts.runs, catalog.ListRuns(today));
  PLEXUS_ASSIGN_OR_RETURN(facts.slos, catalog.ListSloStatus());
  PLEXUS_ASSIGN_OR_RETURN(auto scores, catalog.ListTrustScores());
  for (const auto& s : scores) facts.trust[s.product_id] = s.score;
  PLEXUS_ASSIGN_OR_RETURN(facts.firing, catalog.ListAlerts("firing", 0));
  return facts;
}

/// One product's line as JSON.
Result<json> ProductStatus(catalog::Catalog& catalog, const catalog::ProductRecord& product,
                           const MeshFacts& facts, int64_t now) {
  std::string name = product.QualifiedName();
  json item = {{"product", name}, {"last_run", nullptr}, {"freshness", nullptr},
               {"quality", nullptr}, {"trust_score", nullptr}, {"alerts_firing", 0},
               {"paused", nullptr}};
  for (const auto& r : facts.latest) {
    if (r.product_id != product.id) continue;
    std::string at = r.finished_at.empty() ? r.started_at : r.finished_at;
    item["last_run"] = {{"status", r.status}, {"at", at}, {"rows", r.rows},
                        {"ago_seconds", now - UnixSeconds(at)}};
    if (!r.reason.empty()) item["last_run"]["reason"] = r.reason;
    break;
  }
  std::string freshness;
  json objective;
  for (const auto& s : facts.slos) {
    if (s.product_id != product.id || (s.property != "latency" && s.property != "freshness")) {
      continue;
    }
    if (freshness.empty() || Worse(freshness, s.status) != freshness) {
      freshness = s.status;
      objective = {{"status", s.status}, {"port", s.port}, {"objective", s.objective},
                   {"detail", s.detail}};
    }
  }
  if (!freshness.empty()) item["freshness"] = objective;
  PLEXUS_ASSIGN_OR_RETURN(auto checks, catalog.ListQualityResults(product.id));
  int passed = 0, failed = 0, failed_errors = 0;
  for (const auto& q : checks) {
    if (q.status == "passed") passed++;
    if (q.status == "failed") failed++;
    if (q.status == "failed" && q.severity == "error") failed_errors++;
  }
  if (passed + failed > 0) {
    item["quality"] = {{"passed", passed}, {"failed", failed}, {"failed_errors", failed_errors},
                       {"pass_rate", static_cast<double>(passed) / (passed + failed)}};
  }
  if (auto it = facts.trust.find(product.id); it != facts.trust.end()) {
    item["trust_score"] = it->second;
  }
  int alerts = 0;
  for (const auto& a : facts.firing) alerts += a.product == name ? 1 : 0;
  item["alerts_firing"] = alerts;
  PLEXUS_ASSIGN_OR_RETURN(auto state, catalog.GetPipelineState(product.id));
  if (state.paused) item["paused"] = state.reason.empty() ? "paused" : state.reason;
  return item;
}

/// Something --check fails on: a breached freshness SLO, a last run that failed, a failed
/// quality rule of severity error, a paused pipeline.
bool Failing(const json& item) {
  const json& run = item["last_run"];
  const json& fresh = item["freshness"];
  const json& quality = item["quality"];
  return (run.is_object() && run["status"] == "failed") ||
         (fresh.is_object() && fresh["status"] == "breached") ||
         (quality.is_object() && quality["failed_errors"].get<int>() > 0) ||
         !item["paused"].is_null();
}

Result<json> MeshStatus(const Context& ctx, catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto products, VisibleProducts(ctx, catalog));
  PLEXUS_ASSIGN_OR_RETURN(MeshFacts facts, ReadFacts(catalog));
  int64_t now = UnixSeconds(catalog::NowUtc());
  json items = json::array();
  std::map<std::string, bool> visible;
  int paused = 0, alerts = 0;
  bool failing = false;
  for (const auto& p : products) {
    visible[p.id] = true;
    PLEXUS_ASSIGN_OR_RETURN(json item, ProductStatus(catalog, p, facts, now));
    paused += item["paused"].is_null() ? 0 : 1;
    alerts += item["alerts_firing"].get<int>();
    failing = failing || Failing(item);
    items.push_back(std::move(item));
  }
  int runs = 0, failed = 0;
  for (const auto& r : facts.runs) {
    if (!visible.count(r.product_id) || now - UnixSeconds(r.started_at) > 86400) continue;
    runs++;
    failed += r.status == "failed" ? 1 : 0;
  }
  json slos = {{"met", 0}, {"at_risk", 0}, {"breached", 0}, {"unknown", 0}};
  for (const auto& s : facts.slos) {
    if (visible.count(s.product_id) && slos.contains(s.status)) {
      slos[s.status] = slos[s.status].get<int>() + 1;
    }
  }
  json governance = nullptr;
  auto evaluation = catalog.LatestGovernanceEvaluation();
  if (evaluation.ok()) {
    json summary = json::parse(evaluation->summary, nullptr, false);
    if (summary.is_object() && summary.contains("score")) governance = summary["score"];
  }
  auto settings = catalog.ObservabilitySettings();
  std::string mesh = settings.ok() ? settings->openlineage_namespace : "";
  return json{{"mesh", mesh.empty() ? "mesh" : mesh}, {"at", catalog::NowUtc()},
              {"summary",
               {{"products", items.size()}, {"runs_24h", runs}, {"failed_runs_24h", failed},
                {"slos", slos}, {"alerts_firing", alerts}, {"paused", paused},
                {"governance_score", governance}}},
              {"ok", !failing}, {"products", items}};
}

// ---- The terminal view ----------------------------------------------------------------------

/// Colours a cell padded to `width` (the escapes do not count), when `colour` is on.
struct Painter {
  bool colour = false;
  std::string operator()(const std::string& text, const char* code, size_t width = 0) const {
    std::string padded = text;
    if (padded.size() < width) padded.append(width - padded.size(), ' ');
    if (!colour || code == nullptr) return padded;
    return std::string("\033[") + code + "m" + text + "\033[0m" + padded.substr(text.size());
  }
};

constexpr const char* kGreen = "32";
constexpr const char* kYellow = "33";
constexpr const char* kRed = "31";

const char* StatusColour(const std::string& s) {
  if (s == "succeeded" || s == "met") return kGreen;
  if (s == "at_risk" || s == "unknown" || s == "skipped") return kYellow;
  if (s == "failed" || s == "breached") return kRed;
  return nullptr;
}

std::string Percent(double share) { return std::to_string(static_cast<int>(share * 100 + 0.5)) + "%"; }

void PrintHeader(const json& status, const Painter& paint) {
  const json& s = status["summary"];
  const json& slos = s["slos"];
  int failed = s["failed_runs_24h"], breached = slos["breached"], at_risk = slos["at_risk"];
  int alerts = s["alerts_firing"], paused = s["paused"];
  std::cout << "mesh " << status["mesh"].get<std::string>() << ": " << s["products"].get<int>()
            << " products, runs (24 h): " << s["runs_24h"].get<int>() << " ("
            << paint(std::to_string(failed) + " failed", failed > 0 ? kRed : nullptr)
            << "), SLOs: " << slos["met"].get<int>() << " met, "
            << paint(std::to_string(at_risk) + " at risk", at_risk > 0 ? kYellow : nullptr) << ", "
            << paint(std::to_string(breached) + " breached", breached > 0 ? kRed : nullptr)
            << ", alerts: " << paint(std::to_string(alerts) + " firing", alerts > 0 ? kRed : nullptr)
            << ", paused: " << paint(std::to_string(paused), paused > 0 ? kYellow : nullptr);
  if (!s["governance_score"].is_null()) {
    std::cout << ", governance " << static_cast<int>(s["governance_score"].get<double>() + 0.5)
              << "/100";
  }
  std::cout << "\n";
}

void PrintProduct(const json& item, const Painter& paint, size_t name_width) {
  const json& run = item["last_run"];
  std::string run_text = "never run";
  const char* run_colour = nullptr;
  if (run.is_object()) {
    std::string status = run["status"];
    run_text = status + " " + Ago(run["ago_seconds"].get<int64_t>()) + " ago, " +
               std::to_string(run["rows"].get<int64_t>()) + " rows";
    run_colour = StatusColour(status);
  }
  std::string fresh = item["freshness"].is_object() ? item["freshness"]["status"].get<std::string>()
                                                    : "-";
  std::string quality = "-";
  const char* quality_colour = nullptr;
  if (item["quality"].is_object()) {
    const json& q = item["quality"];
    int passed = q["passed"], failed = q["failed"];
    quality = Percent(q["pass_rate"].get<double>()) + " (" + std::to_string(passed) + "/" +
              std::to_string(passed + failed) + ")";
    quality_colour = q["failed_errors"].get<int>() > 0 ? kRed : failed > 0 ? kYellow : kGreen;
  }
  std::string trust = item["trust_score"].is_null()
                          ? "-"
                          : std::to_string(static_cast<int>(item["trust_score"].get<double>() + 0.5));
  int alerts = item["alerts_firing"];
  std::cout << paint(item["product"].get<std::string>(), nullptr, name_width) << " "
            << paint(run_text, run_colour, 32) << " " << paint(fresh, StatusColour(fresh), 10) << " "
            << paint(quality, quality_colour, 12) << " " << paint(trust, nullptr, 6) << " "
            << paint(std::to_string(alerts), alerts > 0 ? kRed : nullptr);
  if (!item["paused"].is_null()) {
    std::cout << " " << paint("paused: " + item["paused"].get<std::string>(), kYellow);
  }
  std::cout << "\n";
}

void PrintText(const json& status) {
  const char* no_colour = std::getenv("NO_COLOR");
  Painter paint{isatty(STDOUT_FILENO) != 0 && (no_colour == nullptr || *no_colour == '\0')};
  PrintHeader(status, paint);
  if (status["products"].empty()) return;
  size_t width = 7;  // PRODUCT
  for (const auto& item : status["products"]) {
    width = std::max(width, item["product"].get<std::string>().size());
  }
  std::printf("%-*s %-32s %-10s %-12s %-6s %s\n", static_cast<int>(width), "PRODUCT",
              "LAST RUN", "FRESHNESS", "QUALITY", "TRUST", "ALERTS");
  std::fflush(stdout);
  for (const auto& item : status["products"]) PrintProduct(item, paint, width);
}

Status ShowStatus(const Context& ctx, const StatusArgs& args) {
  if (args.format != "text" && args.format != "json") {
    return InvalidArgument("--format must be text or json");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(json status, MeshStatus(ctx, *catalog));
  if (args.format == "json") {
    std::cout << status.dump(2) << "\n";
  } else {
    PrintText(status);
  }
  std::cout.flush();
  if (args.check && !status["ok"].get<bool>()) {
    return FailedPrecondition(
        "something is failing: a last run failed, a freshness SLO is breached, a quality rule "
        "of severity error fails or a pipeline is paused");
  }
  return Status::OK();
}

}  // namespace

void SetupStatus(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<StatusArgs>();
  app.add_option("--format,-f", args->format, "text or json")->capture_default_str();
  app.add_flag("--check", args->check,
               "Exit 1 when a last run failed, a freshness SLO is breached, a quality rule of "
               "severity error fails or a pipeline is paused");
  app.callback([&ctx, args] { ctx.action = [&ctx, args] { return ShowStatus(ctx, *args); }; });
}

}  // namespace plexus::cli
