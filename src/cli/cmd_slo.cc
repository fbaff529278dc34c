// slo: each port's service-level objectives with status, observed figure and objective, and
// the products' trust scores (issue 9; docs/slo-and-trust.md). Works on the home's files: it
// evaluates on the spot (and records the evaluation, as plexus serve does every sloInterval)
// unless a server holds the home, whose loop evaluates; --no-evaluate only reads. Also what
// plexus show prints of it (PrintTrustAndSlos).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "plexus/observe/slo.h"
#include "plexus/observe/trust.h"

namespace plexus::cli {

namespace {

using nlohmann::json;

struct SloOptions {
  std::string product;
  bool history = false;
  bool no_evaluate = false;
  std::string format = "table";
};

/// A figure as a person reads it, in the objective's unit.
std::string Figure(double value, const std::string& unit) {
  char buf[64];
  if (unit == "seconds") {
    double magnitude = std::fabs(value);
    if (magnitude >= 2 * 86400) {
      std::snprintf(buf, sizeof(buf), "%.1f d", value / 86400);
    } else if (magnitude >= 2 * 3600) {
      std::snprintf(buf, sizeof(buf), "%.1f h", value / 3600);
    } else if (magnitude >= 120) {
      std::snprintf(buf, sizeof(buf), "%.0f min", value / 60);
    } else {
      std::snprintf(buf, sizeof(buf), "%.0f s", value);
    }
  } else if (unit == "percent") {
    std::snprintf(buf, sizeof(buf), "%.2f%%", value);
  } else if (unit == "time") {
    auto total = static_cast<int>(std::lround(value));
    std::snprintf(buf, sizeof(buf), "%02d:%02d", (total / 3600) % 24, (total / 60) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%g", value);
  }
  return buf;
}

std::string Parts(const catalog::TrustScoreRecord& t) {
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "slo %.2f, quality %.2f, stability %.2f, documentation %.2f, consumers %.2f",
                t.slo, t.quality, t.stability, t.documentation, t.consumers);
  return buf;
}

std::string PortName(const catalog::SloStatusRecord& s) {
  return s.product + "." + s.port + (s.major > 1 ? "__v" + std::to_string(s.major) : "");
}

void PrintSloTable(const std::vector<catalog::SloStatusRecord>& slos) {
  size_t port_width = 6, objective_width = 11;
  for (const auto& s : slos) {
    port_width = std::max(port_width, PortName(s).size() + 2);
    objective_width = std::max(objective_width, s.objective.size() + 2);
  }
  std::cout << std::left << std::setw(static_cast<int>(port_width)) << "PORT" << std::setw(20)
            << "PROPERTY" << std::setw(static_cast<int>(objective_width)) << "OBJECTIVE"
            << std::setw(12) << "OBSERVED" << std::setw(10) << "STATUS" << "SINCE\n";
  for (const auto& s : slos) {
    std::cout << std::left << std::setw(static_cast<int>(port_width)) << PortName(s)
              << std::setw(20) << s.property << std::setw(static_cast<int>(objective_width))
              << s.objective << std::setw(12)
              << (s.has_observed ? Figure(s.observed, s.unit) : "-") << std::setw(10)
              << s.status << s.since << "\n"
              << "    " << s.detail << "\n";
  }
}

void PrintTrustTable(const std::vector<catalog::TrustScoreRecord>& scores) {
  std::cout << std::left << std::setw(36) << "PRODUCT" << std::setw(8) << "TRUST"
            << "PARTS (0 to 1)\n";
  for (const auto& t : scores) {
    char score[16];
    std::snprintf(score, sizeof(score), "%.1f", t.score);
    std::cout << std::left << std::setw(36) << t.product << std::setw(8) << score << Parts(t)
              << "\n";
  }
}

/// The products the caller sees (id -> its visible ports), one or all.
Result<std::map<std::string, std::set<std::string>>> Scope(const Context& ctx,
                                                            catalog::Catalog& catalog,
                                                            const std::string& product) {
  std::map<std::string, std::set<std::string>> out;
  std::vector<catalog::ProductRecord> products;
  if (!product.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(auto one, VisibleProduct(ctx, catalog, product));
    products.push_back(std::move(one));
  } else {
    PLEXUS_ASSIGN_OR_RETURN(products, VisibleProducts(ctx, catalog));
  }
  for (const auto& p : products) {
    auto& ports = out[p.id];
    for (const auto& port : p.outputs) ports.insert(port.name);
  }
  return out;
}

/// Evaluates SLOs and trust scores now, unless told not to or a server holds the home; true
/// when it did.
Result<bool> EvaluateHere(const Context& ctx, catalog::Catalog& catalog,
                          const SloOptions& options) {
  if (options.no_evaluate) return false;
  PLEXUS_ASSIGN_OR_RETURN(auto server, ctx.Server());
  if (server.has_value()) return false;  // its loop evaluates every sloInterval
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  std::string now = catalog::NowUtc();
  observe::SloOptions slo_options;
  slo_options.oldest_value = observe::PublishedDataReader(home);
  PLEXUS_RETURN_IF_ERROR(observe::EvaluateSlos(catalog, now, slo_options).status());
  PLEXUS_RETURN_IF_ERROR(observe::ComputeTrustScores(catalog, now).status());
  return true;
}

Status PrintHistory(catalog::Catalog& catalog, const std::string& product_id,
                    const std::set<std::string>& ports, json* out) {
  PLEXUS_ASSIGN_OR_RETURN(auto changes, catalog.ListSloHistory(product_id, ""));
  PLEXUS_ASSIGN_OR_RETURN(auto trust, catalog.TrustHistory(product_id, 10));
  json slo_rows = json::array(), trust_rows = json::array();
  for (const auto& c : changes) {
    if (!ports.count(c.port)) continue;
    if (out != nullptr) {
      slo_rows.push_back(observe::SloStatusJson(c));
    } else {
      std::cout << "  " << c.since << "  " << c.product << "." << c.port << " " << c.property
                << " " << c.objective << " -> " << c.status << ": " << c.detail << "\n";
    }
  }
  for (const auto& t : trust) {
    if (out != nullptr) {
      trust_rows.push_back(observe::TrustScoreJson(t));
    } else {
      std::cout << "  " << t.computed_at << "  " << t.product << " trust " << t.score << " ("
                << Parts(t) << ")\n";
    }
  }
  if (out != nullptr) (*out)[product_id] = {{"slo_changes", slo_rows}, {"trust", trust_rows}};
  return Status::OK();
}

Status Slo(const Context& ctx, const SloOptions& options) {
  if (options.format != "table" && options.format != "json") {
    return InvalidArgument("--format must be table or json");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto scope, Scope(ctx, *catalog, options.product));
  PLEXUS_ASSIGN_OR_RETURN(bool evaluated, EvaluateHere(ctx, *catalog, options));
  PLEXUS_ASSIGN_OR_RETURN(auto all_slos, catalog->ListSloStatus());
  PLEXUS_ASSIGN_OR_RETURN(auto all_trust, catalog->ListTrustScores());
  std::vector<catalog::SloStatusRecord> slos;
  std::vector<catalog::TrustScoreRecord> trust;
  for (auto& s : all_slos) {
    auto ports = scope.find(s.product_id);
    if (ports != scope.end() && ports->second.count(s.port)) slos.push_back(std::move(s));
  }
  for (auto& t : all_trust) {
    if (scope.count(t.product_id)) trust.push_back(std::move(t));
  }
  bool json_out = options.format == "json";
  json body = {{"evaluated_now", evaluated}, {"slos", json::array()}, {"trust", json::array()}};
  for (const auto& s : slos) body["slos"].push_back(observe::SloStatusJson(s));
  for (const auto& t : trust) body["trust"].push_back(observe::TrustScoreJson(t));
  if (!json_out) {
    if (slos.empty()) {
      std::cout << (all_slos.empty() && !evaluated
                        ? "no SLO evaluated yet: plexus serve evaluates every sloInterval; "
                          "plexus slo without --no-evaluate evaluates now\n"
                        : "no service-level objective declared (ODCS slaProperties)\n");
    } else {
      PrintSloTable(slos);
    }
    if (!trust.empty()) {
      std::cout << "\n";
      PrintTrustTable(trust);
    }
  }
  if (options.history) {
    if (!json_out) std::cout << "\nhistory (status changes, trust scores):\n";
    json history = json::object();
    for (const auto& [product_id, ports] : scope) {
      PLEXUS_RETURN_IF_ERROR(PrintHistory(*catalog, product_id, ports, json_out ? &history : nullptr));
    }
    body["history"] = history;
  }
  if (json_out) std::cout << body.dump(2) << "\n";
  return Status::OK();
}

}  // namespace

Status PrintTrustAndSlos(catalog::Catalog& catalog, const catalog::ProductRecord& product) {
  PLEXUS_ASSIGN_OR_RETURN(auto scores, catalog.ListTrustScores());
  for (const auto& t : scores) {
    if (t.product_id != product.id) continue;
    std::cout << "  trust:    " << t.score << " / 100 (" << Parts(t) << "; computed "
              << t.computed_at << ")\n";
  }
  std::set<std::string> ports;
  for (const auto& o : product.outputs) ports.insert(o.name);
  PLEXUS_ASSIGN_OR_RETURN(auto slos, catalog.ListSloStatus(product.id));
  std::erase_if(slos, [&](const auto& s) { return !ports.count(s.port); });
  if (!slos.empty()) {
    std::cout << "  service-level objectives (evaluated " << slos.front().evaluated_at << "):\n";
  }
  for (const auto& s : slos) {
    std::cout << "    " << std::left << std::setw(10) << s.status << " " << s.port << " "
              << s.property << " " << s.objective << ": " << s.detail << "\n";
  }
  std::string now = catalog::NowUtc();
  auto since = observe::FormatTime(*observe::ParseTime(now) - 30 * 86400.0);
  PLEXUS_ASSIGN_OR_RETURN(auto history, catalog.QualityHistory(product.id, since, now));
  std::erase_if(history, [&](const auto& h) { return !ports.count(h.port); });
  if (!history.empty()) std::cout << "  quality trend (30 days):\n";
  for (const auto& h : history) {
    int passed = 0;
    for (const auto& p : h.points) passed += p.status == "passed";
    std::cout << "    " << h.port << ": " << h.rule << ": " << passed << " of "
              << h.points.size() << " checks passed in 30 days"
              << (h.trend.empty() ? "" : ", " + h.trend + " (last 7 days against the 7 before)")
              << (h.measured_trend.empty() ? "" : ", figure " + h.measured_trend) << "\n";
  }
  return Status::OK();
}

void SetupSlo(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<SloOptions>();
  app.add_option("product", options->product, "domain.product or id (default: every product)");
  app.add_flag("--history", options->history, "also the status changes and trust history");
  app.add_flag("--no-evaluate", options->no_evaluate,
               "only read the last evaluation (default: evaluate now, unless a server runs)");
  app.add_option("--format", options->format, "table (default) or json");
  app.callback([&ctx, options] { ctx.action = [&ctx, options] { return Slo(ctx, *options); }; });
}

}  // namespace plexus::cli
