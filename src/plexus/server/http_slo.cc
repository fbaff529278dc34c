// SLOs, trust scores and quality history of one product (issue 9), cut to what the caller may
// see: a product the caller cannot see is 404 like an unknown one, and the objectives and
// quality rules of a port hidden from the caller are left out.
//   GET /api/v1/products/{ref}/slo              current status of each objective, and its
//                                               changes (?since=, default: all kept)
//   GET /api/v1/products/{ref}/trust            the trust score, its parts, weights, history
//   GET /api/v1/products/{ref}/quality/history  each rule's checks since ?since= (default 30
//                                               days ago) with its trend
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/observe/slo.h"
#include "plexus/observe/trust.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/server/product_json.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// Trust history rows an answer carries at most (?limit=, default 30).
constexpr int kTrustHistoryDefault = 30;
constexpr int kTrustHistoryMax = 1000;

json RateOrNull(double rate) { return rate < 0 ? json(nullptr) : json(rate); }

json RuleHistoryJson(const catalog::QualityRuleHistoryRecord& h) {
  json points = json::array();
  for (const auto& p : h.points) {
    points.push_back({{"checked_at", p.checked_at},
                      {"run_id", p.run_id == 0 ? json(nullptr) : json(p.run_id)},
                      {"status", p.status},
                      {"measured", p.has_measured ? json(p.measured) : json(nullptr)}});
  }
  return {{"port", h.port},
          {"major", h.major},
          {"rule", h.rule},
          {"column", h.column},
          {"check", h.check},
          {"unit", h.unit},
          {"threshold", h.threshold},
          {"severity", h.severity},
          {"pass_rate_last_7_days", RateOrNull(h.pass_rate_recent)},
          {"pass_rate_previous_7_days", RateOrNull(h.pass_rate_before)},
          {"trend", h.trend.empty() ? json(nullptr) : json(h.trend)},
          {"measured_trend", h.measured_trend.empty() ? json(nullptr) : json(h.measured_trend)},
          {"checks", points}};
}

/// ?since= as given (an ISO 8601 time or date), or `fallback` when absent.
Result<std::string> ReadSince(const httplib::Request& req, const std::string& fallback) {
  if (!req.has_param("since")) return fallback;
  std::string since = req.get_param_value("since");
  if (!observe::ParseTime(since)) {
    return InvalidArgument("since must be an ISO 8601 time or date, e.g. 2026-11-01");
  }
  return since;
}

/// Answers with `then(product, ports)` when {ref} is a product the caller sees; `ports` are the
/// names of its output ports the caller sees.
template <typename Then>
void WithVisiblePorts(catalog::Catalog* catalog, access::QueryService* queries,
                      const httplib::Request& req, httplib::Response& res,
                      const access::Principal& principal, Then then) {
  WithProduct(catalog, queries, req, res, principal, [&](const catalog::ProductRecord& product) {
    std::set<std::string> ports;
    for (const auto& port : product.outputs) ports.insert(port.name);
    then(product, ports);
  });
}

void SendSlo(const catalog::Catalog& catalog, const catalog::ProductRecord& product,
             const std::set<std::string>& ports, const httplib::Request& req,
             httplib::Response& res) {
  auto since = ReadSince(req, "");
  if (!since.ok()) return SendError(res, since.status());
  auto current = catalog.ListSloStatus(product.id);
  if (!current.ok()) return SendError(res, current.status());
  auto history = catalog.ListSloHistory(product.id, *since);
  if (!history.ok()) return SendError(res, history.status());
  json slos = json::array(), changes = json::array();
  std::string evaluated_at;
  for (const auto& s : *current) {
    if (!ports.count(s.port)) continue;
    slos.push_back(observe::SloStatusJson(s));
    evaluated_at = std::max(evaluated_at, s.evaluated_at);
  }
  for (const auto& s : *history) {
    if (ports.count(s.port)) changes.push_back(observe::SloStatusJson(s));
  }
  SendJson(res, {{"product", product.QualifiedName()},
                 {"self", address::ProductUrl(product.QualifiedName()) + "/slo"},
                 {"evaluated_at", evaluated_at.empty() ? json(nullptr) : json(evaluated_at)},
                 {"slos", slos},
                 {"history", changes}});
}

void SendTrust(const catalog::Catalog& catalog, const catalog::ProductRecord& product,
               const httplib::Request& req, httplib::Response& res) {
  int limit = kTrustHistoryDefault;
  if (req.has_param("limit")) {
    std::string text = req.get_param_value("limit");
    if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(text) < 1 || std::stoi(text) > kTrustHistoryMax) {
      return SendError(res, InvalidArgument("limit must be a whole number from 1 to 1000"));
    }
    limit = std::stoi(text);
  }
  auto history = catalog.TrustHistory(product.id, limit);
  if (!history.ok()) return SendError(res, history.status());
  json body = ProductTrustJson(catalog, product.id);
  if (body.is_null()) body = {{"score", nullptr}, {"parts", nullptr}, {"computed_at", nullptr}};
  body["product"] = product.QualifiedName();
  body["self"] = address::ProductUrl(product.QualifiedName()) + "/trust";
  body["weights"] = {{"slo", observe::kTrustWeightSlo},
                     {"quality", observe::kTrustWeightQuality},
                     {"stability", observe::kTrustWeightStability},
                     {"documentation", observe::kTrustWeightDocumentation},
                     {"consumers", observe::kTrustWeightConsumers}};
  json rows = json::array();
  for (const auto& t : *history) rows.push_back(observe::TrustScoreJson(t));
  body["history"] = rows;
  SendJson(res, body);
}

void SendQualityHistory(const catalog::Catalog& catalog, const catalog::ProductRecord& product,
                        const std::set<std::string>& ports, const httplib::Request& req,
                        httplib::Response& res) {
  std::string now = catalog::NowUtc();
  auto since = ReadSince(req, observe::FormatTime(*observe::ParseTime(now) - 30 * 86400.0));
  if (!since.ok()) return SendError(res, since.status());
  auto history = catalog.QualityHistory(product.id, *since, now);
  if (!history.ok()) return SendError(res, history.status());
  json rules = json::array();
  for (const auto& h : *history) {
    if (ports.count(h.port)) rules.push_back(RuleHistoryJson(h));
  }
  SendJson(res, {{"product", product.QualifiedName()},
                 {"since", *since},
                 {"rules", rules}});
}

}  // namespace

void SloRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/products/{ref}/slo",
             "The product's service-level objectives (ODCS slaProperties): each one's current "
             "status (met, at_risk, breached, unknown) and the changes of status",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithVisiblePorts(catalog, queries, req, res, principal,
                                [&](const catalog::ProductRecord& p, const auto& ports) {
                                  SendSlo(*catalog, p, ports, req, res);
                                });
             })
      .Tag("observability")
      .Query("since", "ISO 8601 time or date: only the changes since then (default: all kept)");
  routes.Get("/api/v1/products/{ref}/trust",
             "The product's trust score (0 to 100), its five parts, their weights and its history",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithVisiblePorts(catalog, queries, req, res, principal,
                                [&](const catalog::ProductRecord& p, const auto&) {
                                  SendTrust(*catalog, p, req, res);
                                });
             })
      .Tag("observability")
      .Query("limit", "history rows, newest first (default 30, at most 1000)", "integer");
  routes.Get("/api/v1/products/{ref}/quality/history",
             "Every check of each quality rule since a time, with the rule's trend (the last 7 "
             "days' pass rate against the 7 before)",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               WithVisiblePorts(catalog, queries, req, res, principal,
                                [&](const catalog::ProductRecord& p, const auto& ports) {
                                  SendQualityHistory(*catalog, p, ports, req, res);
                                });
             })
      .Tag("quality")
      .Query("since", "ISO 8601 time or date (default: 30 days ago)");
}

}  // namespace plexus::server::internal
