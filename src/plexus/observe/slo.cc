// SLO evaluation: every applied port's slaProperties measured at one time, recorded with their
// history (catalog_slo.cc). The measuring of each property is slo_measure.cc's.
#include "plexus/observe/slo.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "plexus/engine/engine.h"
#include "plexus/observe/slo_measure.h"

namespace plexus::observe {

namespace {

using catalog::SlaPropertyRecord;
using catalog::SloStatusRecord;
using internal::Clock;
using internal::PortFacts;

using PortKey = std::tuple<std::string, std::string, int>;  // product_id, port, major

/// The objective as a person reads it, and its key: "1 d", "99.9 percent", "5 y on date".
std::string ObjectiveText(const SlaPropertyRecord& sla) {
  std::string text = sla.value;
  if (!sla.unit.empty()) text += " " + sla.unit;
  if (!sla.element.empty()) text += " on " + sla.element;
  return text;
}

/// Gathers what the objectives of one port read, once per evaluation.
class FactsGatherer {
 public:
  FactsGatherer(catalog::Catalog& catalog, const Clock& clock,
                std::map<std::string, std::string> quarantined)
      : catalog_(catalog), clock_(clock), quarantined_(std::move(quarantined)) {}

  Result<PortFacts> Gather(const catalog::ProductRecord& product,
                           const catalog::OutputPortRecord& port, bool sample_serving) {
    PortFacts facts;
    facts.product = &product;
    facts.port = &port;
    auto cached = runs_.find(product.id);
    if (cached == runs_.end()) {
      PLEXUS_ASSIGN_OR_RETURN(catalog::RunWindowRecord window,
                              catalog_.SloRunWindow(product.id, Since()));
      cached = runs_.emplace(product.id, std::move(window)).first;
    }
    facts.runs = cached->second;
    if (port.rows >= 0) {
      auto published = ParseTime(port.published_at);
      auto succeeded = ParseTime(facts.runs.last_success_at);
      if (published || succeeded) facts.fresh_at = std::max(published.value_or(0), succeeded.value_or(0));
    }
    auto quarantine = quarantined_.find(product.QualifiedName());
    if (port.rows < 0) {
      facts.unservable = "never published";
    } else if (quarantine != quarantined_.end()) {
      facts.unservable = "quarantined by " + quarantine->second;
    }
    facts.servable = facts.unservable.empty();
    if (sample_serving) {
      PLEXUS_RETURN_IF_ERROR(catalog_.RecordServingSample(product.id, port.name, port.major,
                                                          facts.servable, clock_.now_text));
      PLEXUS_ASSIGN_OR_RETURN(facts.serving,
                              catalog_.ServingSamples(product.id, port.name, port.major, Since()));
    }
    return facts;
  }

 private:
  std::string Since() const { return FormatTime(clock_.now - internal::kWindowSeconds); }

  catalog::Catalog& catalog_;
  const Clock& clock_;
  std::map<std::string, std::string> quarantined_;
  std::map<std::string, catalog::RunWindowRecord> runs_;
};

SloStatusRecord Measure(const SlaPropertyRecord& sla, const std::string& property,
                        const PortFacts& facts, const Clock& clock, const SloOptions& options,
                        catalog::Catalog& catalog) {
  SloStatusRecord r;
  r.product_id = sla.product_id;
  r.product = sla.product;
  r.port = sla.port;
  r.major = sla.major;
  r.property = property;
  r.objective = ObjectiveText(sla);
  r.evaluated_at = clock.now_text;
  if (property == "latency" || property == "freshness") {
    internal::MeasureAge(r, sla, facts, clock);
  } else if (property == "frequency") {
    internal::MeasureFrequency(r, sla, facts, clock);
  } else if (property == "availability") {
    internal::MeasureAvailability(r, sla, facts);
  } else if (property == "errorRate") {
    internal::MeasureErrorRate(r, sla, facts);
  } else if (property == "retention") {
    internal::MeasureRetention(r, sla, facts, clock, options);
  } else {
    internal::MeasureTimeOfAvailability(r, sla, facts, clock, catalog);
  }
  return r;
}

}  // namespace

Result<std::vector<SloStatusRecord>> EvaluateSlos(catalog::Catalog& catalog,
                                                  const std::string& now) {
  return EvaluateSlos(catalog, now, SloOptions{});
}

Result<std::vector<SloStatusRecord>> EvaluateSlos(catalog::Catalog& catalog,
                                                  const std::string& now,
                                                  const SloOptions& options) {
  auto now_s = ParseTime(now);
  if (!now_s) return InvalidArgument("slo: '" + now + "' is not an ISO 8601 time");
  // Stored in one form (UTC, milliseconds), whatever offset `now` was written with.
  const std::string at = FormatTime(*now_s);
  Clock clock{*now_s, at};
  PLEXUS_ASSIGN_OR_RETURN(auto slas, catalog.ListSlaProperties());
  PLEXUS_ASSIGN_OR_RETURN(auto products, catalog.ListProducts());
  PLEXUS_ASSIGN_OR_RETURN(auto quarantined, catalog.QuarantinedProducts());
  std::map<PortKey, std::pair<const catalog::ProductRecord*, const catalog::OutputPortRecord*>>
      ports;
  for (const auto& product : products) {
    for (const auto& port : product.outputs) {
      ports[{product.id, port.name, port.major}] = {&product, &port};
    }
  }
  // Ports with an availability objective are sampled once per evaluation.
  std::set<PortKey> sampled;
  for (const auto& sla : slas) {
    if (internal::CanonicalProperty(sla.property) == "availability") {
      sampled.insert({sla.product_id, sla.port, sla.major});
    }
  }
  FactsGatherer gatherer(catalog, clock, std::move(quarantined));
  std::map<PortKey, PortFacts> facts;
  std::vector<SloStatusRecord> statuses;
  for (const auto& sla : slas) {
    std::string property = internal::CanonicalProperty(sla.property);
    PortKey key{sla.product_id, sla.port, sla.major};
    auto port = ports.find(key);
    if (property.empty() || port == ports.end()) continue;
    // A retired port major promises nothing any more.
    if (catalog::ServedStatus(*port->second.second, at) == "retired") continue;
    auto known = facts.find(key);
    if (known == facts.end()) {
      PLEXUS_ASSIGN_OR_RETURN(PortFacts gathered,
                              gatherer.Gather(*port->second.first, *port->second.second,
                                              sampled.count(key) > 0));
      known = facts.emplace(key, std::move(gathered)).first;
    }
    statuses.push_back(Measure(sla, property, known->second, clock, options, catalog));
  }
  PLEXUS_RETURN_IF_ERROR(catalog.RecordSloEvaluation(statuses, at));
  return catalog.ListSloStatus();
}

Result<std::optional<double>> OldestValue(engine::Connection& conn,
                                          const catalog::OutputPortRecord& port,
                                          const std::string& column) {
  PLEXUS_ASSIGN_OR_RETURN(
      std::string oldest,
      conn.QueryScalar("SELECT coalesce(CAST(epoch(min(" + engine::QuoteIdentifier(column) +
                       ")) AS VARCHAR), '') FROM " +
                       engine::QuoteIdentifier(catalog::Home::AttachName(port.domain)) +
                       ".main." + engine::QuoteIdentifier(port.PhysicalTable())));
  if (oldest.empty()) return std::optional<double>{};
  return std::optional<double>{std::strtod(oldest.c_str(), nullptr)};
}

OldestValueReader PublishedDataReader(const catalog::Home& home) {
  return [home](const catalog::OutputPortRecord& port,
                const std::string& column) -> Result<std::optional<double>> {
    std::string data = home.DomainDataPath(port.domain);
    if (!std::filesystem::exists(data)) return NotFound("no data file for domain " + port.domain);
    engine::DatabaseOptions options;
    options.hardened = true;
    options.allowed_directories = {home.DataDir(), home.TempDir()};
    options.temp_directory = home.TempDir();
    options.threads = 1;
    PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open(options));
    PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
    PLEXUS_RETURN_IF_ERROR(conn->Execute(
        "ATTACH " + engine::QuoteLiteral(data) + " AS " +
        engine::QuoteIdentifier(catalog::Home::AttachName(port.domain)) + " (READ_ONLY)"));
    return OldestValue(*conn, port, column);
  };
}

nlohmann::json SloStatusJson(const catalog::SloStatusRecord& s) {
  using nlohmann::json;
  return {{"product", s.product},
          {"port", s.port},
          {"major", s.major},
          {"property", s.property},
          {"objective", s.objective},
          {"objective_value", s.objective_value},
          {"observed", s.has_observed ? json(s.observed) : json(nullptr)},
          {"unit", s.unit},
          {"status", s.status},
          {"detail", s.detail},
          {"since", s.since},
          {"evaluated_at", s.evaluated_at}};
}

}  // namespace plexus::observe
