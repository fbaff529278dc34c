// The trust score: five parts from the catalog's records, weighted (trust.h).
#include "plexus/observe/trust.h"

#include <algorithm>
#include <cmath>

#include "plexus/observe/slo.h"

namespace plexus::observe {

namespace {

constexpr double kDay = 86400;
/// Breaking changes count for 180 days; each costs this much stability.
constexpr double kStabilityWindowDays = 180;
constexpr double kBreakingChangeCost = 0.25;
constexpr double kDeprecatedCost = 0.5;

double Clamp01(double value) { return std::clamp(value, 0.0, 1.0); }

double SloPart(const TrustInputs& in) {
  double now_sum = 0;
  int known = 0;
  for (const auto& status : in.slo_statuses) {
    if (status == "unknown") continue;
    ++known;
    now_sum += status == "met" ? 1.0 : status == "at_risk" ? 0.5 : 0.0;
  }
  bool has_now = known > 0;
  bool has_history = in.slo_attainment >= 0;
  double now_share = has_now ? now_sum / known : 0;
  if (has_now && has_history) return Clamp01(0.5 * in.slo_attainment + 0.5 * now_share);
  if (has_now) return now_share;
  if (has_history) return Clamp01(in.slo_attainment);
  return kTrustNeutral;
}

double StabilityPart(const TrustInputs& in) {
  if (in.retired) return 0;
  double stability = 1.0 - kBreakingChangeCost * in.breaking_changes;
  if (in.deprecated) stability -= kDeprecatedCost;
  return Clamp01(stability);
}

/// Share of `items` for which `pass` holds; 0 when there are none.
template <typename T, typename Pass>
double ShareOf(const std::vector<T>& items, Pass pass) {
  if (items.empty()) return 0;
  auto count = std::count_if(items.begin(), items.end(), pass);
  return static_cast<double>(count) / static_cast<double>(items.size());
}

/// The newest major of each output port.
std::vector<const catalog::OutputPortRecord*> NewestPorts(const catalog::ProductRecord& product) {
  std::vector<const catalog::OutputPortRecord*> newest;
  for (const auto& port : product.outputs) {
    auto same = std::find_if(newest.begin(), newest.end(),
                             [&](const auto* p) { return p->name == port.name; });
    if (same == newest.end()) {
      newest.push_back(&port);
    } else if ((*same)->major < port.major) {
      *same = &port;
    }
  }
  return newest;
}

void Documentation(const catalog::ProductRecord& product, TrustInputs& in) {
  auto ports = NewestPorts(product);
  std::vector<const catalog::ColumnRecord*> columns;
  for (const auto* port : ports) {
    for (const auto& column : port->columns) columns.push_back(&column);
  }
  in.purpose = product.purpose.empty() ? 0 : 1;
  in.owners = product.owners.empty() ? 0 : 1;
  in.port_descriptions = ShareOf(ports, [](const auto* p) { return !p->description.empty(); });
  in.column_descriptions =
      ShareOf(columns, [](const auto* c) { return !c->description.empty(); });
  in.business = ShareOf(columns, [](const auto* c) {
    return !c->business_name.empty() || !c->terms.empty();
  });
}

/// Breaking changes in the window, deprecation and retirement, from the port versions. A new
/// major dates from the last apply of the major before it (port_versions keeps an earlier
/// major's row as it was when it was last current).
Status Lifecycle(catalog::Catalog& catalog, const catalog::ProductRecord& product, double now,
                 const std::string& now_text, TrustInputs& in) {
  PLEXUS_ASSIGN_OR_RETURN(auto versions, catalog.ListPortVersions(product.id));
  for (size_t i = 1; i < versions.size(); ++i) {
    const auto& earlier = versions[i - 1];
    if (earlier.port != versions[i].port) continue;
    auto at = ParseTime(earlier.applied_at);
    if (at && now - *at <= kStabilityWindowDays * kDay) in.breaking_changes++;
  }
  in.retired = product.status == "retired";
  in.deprecated = product.status == "deprecated";
  auto ports = NewestPorts(product);
  bool all_retired = !ports.empty();
  for (const auto* port : ports) {
    std::string served = catalog::ServedStatus(*port, now_text);
    if (served == "deprecated") in.deprecated = true;
    if (served != "retired") all_retired = false;
  }
  in.retired = in.retired || all_retired;
  return Status::OK();
}

}  // namespace

catalog::TrustScoreRecord ScoreTrust(const TrustInputs& in) {
  catalog::TrustScoreRecord r;
  r.slo = SloPart(in);
  r.quality = in.quality_pass_rate >= 0 ? Clamp01(in.quality_pass_rate) : kTrustNeutral;
  r.stability = StabilityPart(in);
  r.documentation = Clamp01((in.purpose + in.port_descriptions + in.column_descriptions +
                             in.owners + in.business) / 5.0);
  r.consumers =
      Clamp01(static_cast<double>(std::max<int64_t>(in.readers, 0)) / kTrustReadersForFull);
  double sum = kTrustWeightSlo * r.slo + kTrustWeightQuality * r.quality +
               kTrustWeightStability * r.stability +
               kTrustWeightDocumentation * r.documentation + kTrustWeightConsumers * r.consumers;
  r.score = std::round(1000.0 * sum) / 10.0;
  return r;
}

Result<std::map<std::string, TrustInputs>> GatherTrustInputs(catalog::Catalog& catalog,
                                                             const std::string& now) {
  auto now_s = ParseTime(now);
  if (!now_s) return InvalidArgument("trust: '" + now + "' is not an ISO 8601 time");
  std::string since = FormatTime(*now_s - 30 * kDay);
  PLEXUS_ASSIGN_OR_RETURN(auto products, catalog.ListProducts());
  PLEXUS_ASSIGN_OR_RETURN(auto statuses, catalog.ListSloStatus());
  PLEXUS_ASSIGN_OR_RETURN(auto attainment, catalog.SloAttainment(since));
  PLEXUS_ASSIGN_OR_RETURN(auto pass_rates, catalog.QualityPassRates(since));
  PLEXUS_ASSIGN_OR_RETURN(auto usage, catalog.ListUsage(since.substr(0, 10)));
  std::map<std::string, TrustInputs> out;
  for (const auto& product : products) {
    TrustInputs& in = out[product.id];
    if (auto a = attainment.find(product.id); a != attainment.end()) in.slo_attainment = a->second;
    if (auto q = pass_rates.find(product.id); q != pass_rates.end()) {
      in.quality_pass_rate = q->second;
    }
    if (auto u = usage.find(product.QualifiedName()); u != usage.end()) {
      in.readers = u->second.readers;
    }
    Documentation(product, in);
    PLEXUS_RETURN_IF_ERROR(Lifecycle(catalog, product, *now_s, now, in));
  }
  for (const auto& status : statuses) {
    auto found = out.find(status.product_id);
    if (found != out.end()) found->second.slo_statuses.push_back(status.status);
  }
  return out;
}

Result<std::vector<catalog::TrustScoreRecord>> ComputeTrustScores(catalog::Catalog& catalog,
                                                                  const std::string& now) {
  PLEXUS_ASSIGN_OR_RETURN(auto inputs, GatherTrustInputs(catalog, now));
  std::vector<catalog::TrustScoreRecord> scores;
  for (const auto& [product_id, in] : inputs) {
    catalog::TrustScoreRecord r = ScoreTrust(in);
    r.product_id = product_id;
    r.computed_at = FormatTime(*ParseTime(now));  // valid: GatherTrustInputs checked it
    scores.push_back(r);
  }
  PLEXUS_RETURN_IF_ERROR(catalog.RecordTrustScores(scores));
  return catalog.ListTrustScores();
}

nlohmann::json TrustScoreJson(const catalog::TrustScoreRecord& t) {
  return {{"product", t.product},
          {"score", t.score},
          {"parts", {{"slo", t.slo},
                     {"quality", t.quality},
                     {"stability", t.stability},
                     {"documentation", t.documentation},
                     {"consumers", t.consumers}}},
          {"computed_at", t.computed_at}};
}

}  // namespace plexus::observe
