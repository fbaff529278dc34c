// File: plexus/observe/slo_measure.h (observe-internal)
//
// How each SLO property is measured (slo_measure.cc); slo.cc gathers a port's facts once and
// calls them. docs/slo-and-trust.md describes the same rules for users.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "plexus/catalog/catalog.h"
#include "plexus/observe/slo.h"

namespace plexus::observe::internal {

/// A duration objective is at risk past this share of it (latency, freshness, frequency), an
/// error-rate objective past this share of the rate, an availability objective past this share
/// of its error budget.
inline constexpr double kAtRiskShare = 0.8;
/// timeOfAvailability: at risk in the last hour before the deadline when not yet published.
inline constexpr double kTimeOfAvailabilityWarning = 3600;
/// Availability and errorRate read the last 30 days.
inline constexpr double kWindowSeconds = 30 * 86400.0;
/// Retention: values this close after the first run count as kept from the start.
inline constexpr double kRetentionGrace = 86400;

/// What one evaluation knows of a port, gathered once for all its objectives.
struct PortFacts {
  const catalog::ProductRecord* product = nullptr;
  const catalog::OutputPortRecord* port = nullptr;
  catalog::RunWindowRecord runs;           ///< window: the last 30 days
  std::optional<double> fresh_at;          ///< newest publication or successful run (epoch s)
  bool servable = false;
  std::string unservable;                  ///< why not, when not
  std::pair<int64_t, int64_t> serving{0, 0};  ///< {servable, evaluations} in 30 days
};

/// The context of one evaluation.
struct Clock {
  double now = 0;        ///< epoch seconds
  std::string now_text;  ///< as given
};

/// The canonical name of a property measured here (latency, freshness, frequency,
/// availability, retention, errorRate, timeOfAvailability); empty: not measured.
std::string CanonicalProperty(const std::string& property);

/// Measures one objective: fills objective_value, observed, unit, status and detail of `r`.
void MeasureAge(catalog::SloStatusRecord& r, const catalog::SlaPropertyRecord& sla,
                const PortFacts& facts, const Clock& clock);
void MeasureFrequency(catalog::SloStatusRecord& r, const catalog::SlaPropertyRecord& sla,
                      const PortFacts& facts, const Clock& clock);
void MeasureAvailability(catalog::SloStatusRecord& r, const catalog::SlaPropertyRecord& sla,
                         const PortFacts& facts);
void MeasureErrorRate(catalog::SloStatusRecord& r, const catalog::SlaPropertyRecord& sla,
                      const PortFacts& facts);
void MeasureRetention(catalog::SloStatusRecord& r, const catalog::SlaPropertyRecord& sla,
                      const PortFacts& facts, const Clock& clock, const SloOptions& options);
/// Reads the product's first successful run of the objective's local day from `catalog`.
void MeasureTimeOfAvailability(catalog::SloStatusRecord& r, const catalog::SlaPropertyRecord& sla,
                               const PortFacts& facts, const Clock& clock,
                               catalog::Catalog& catalog);

}  // namespace plexus::observe::internal
