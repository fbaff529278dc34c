// How each SLO property is measured; docs/slo-and-trust.md says the same for users.
#include "plexus/observe/slo_measure.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "plexus/common/text.h"
#include "plexus/observe/slo_internal.h"

namespace plexus::observe::internal {

namespace {

using catalog::SlaPropertyRecord;
using catalog::SloStatusRecord;

void Set(SloStatusRecord& r, const char* status, std::string detail) {
  r.status = status;
  r.detail = std::move(detail);
}

std::optional<double> Number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == nullptr || *end != '\0' || !std::isfinite(value)) return std::nullopt;
  return value;
}

/// The objective as a duration in seconds; false (status unknown, detail why) when it is not.
bool DurationObjective(SloStatusRecord& r, const SlaPropertyRecord& sla) {
  r.unit = "seconds";
  auto value = Number(sla.value);
  if (!value || *value < 0) {
    Set(r, "unknown", "The value '" + sla.value + "' is not a duration.");
    return false;
  }
  auto unit = UnitSeconds(sla.unit);
  if (!unit) {
    Set(r, "unknown", "The unit '" + sla.unit + "' is not understood (d, h, m, s, ...).");
    return false;
  }
  r.objective_value = *value * *unit;
  return true;
}

/// The objective as a percentage (99.9 with unit percent or %, or a ratio 0.999 with unit ratio
/// or none); false (status unknown) when it is not one.
bool PercentObjective(SloStatusRecord& r, const SlaPropertyRecord& sla) {
  r.unit = "percent";
  auto value = Number(sla.value);
  std::string unit = AsciiLower(sla.unit);
  bool percent = unit == "percent" || unit == "%" || unit == "pct";
  if (!percent && !unit.empty() && unit != "ratio") {
    Set(r, "unknown", "The unit '" + sla.unit + "' is not understood (percent or ratio).");
    return false;
  }
  if (value && !percent && *value <= 1) *value *= 100;
  if (!value || *value < 0 || *value > 100) {
    Set(r, "unknown", "The value '" + sla.value + "' is not a share.");
    return false;
  }
  r.objective_value = *value;
  return true;
}

/// Met, at risk past kAtRiskShare of the objective, breached beyond it (a duration).
void JudgeDuration(SloStatusRecord& r, const std::string& observed_what) {
  const double objective = r.objective_value;
  const std::string bound = Human(objective);
  if (r.observed > objective) {
    Set(r, "breached", observed_what + ", more than the " + bound + " allowed.");
  } else if (r.observed > kAtRiskShare * objective) {
    Set(r, "at_risk", observed_what + ": past 80% of the " + bound + " allowed.");
  } else {
    Set(r, "met", observed_what + ", within " + bound + ".");
  }
}

}  // namespace

std::string CanonicalProperty(const std::string& property) {
  static const std::map<std::string, std::string> kNames = {
      {"latency", "latency"},
      {"freshness", "freshness"},
      {"frequency", "frequency"},
      {"availability", "availability"},
      {"retention", "retention"},
      {"errorrate", "errorRate"},
      {"error_rate", "errorRate"},
      {"timeofavailability", "timeOfAvailability"},
      {"time_of_availability", "timeOfAvailability"}};
  auto found = kNames.find(AsciiLower(property));
  return found == kNames.end() ? "" : found->second;
}

void MeasureAge(SloStatusRecord& r, const SlaPropertyRecord& sla, const PortFacts& facts,
                const Clock& clock) {
  if (!DurationObjective(r, sla)) return;
  if (!facts.fresh_at) return Set(r, "unknown", "The port was never published.");
  r.observed = std::max(0.0, clock.now - *facts.fresh_at);
  r.has_observed = true;
  JudgeDuration(r, "The data is " + Human(r.observed) + " old");
}

void MeasureFrequency(SloStatusRecord& r, const SlaPropertyRecord& sla, const PortFacts& facts,
                      const Clock& clock) {
  if (!DurationObjective(r, sla)) return;
  auto last = ParseTime(facts.runs.last_success_at);
  if (!last) return Set(r, "unknown", "The product has no successful run yet.");
  double open = std::max(0.0, clock.now - *last);
  r.observed = open;
  std::string what = "The last successful run finished " + Human(open) + " ago";
  if (auto previous = ParseTime(facts.runs.previous_success_at)) {
    double gap = *last - *previous;
    r.observed = std::max(open, gap);
    what += " (" + Human(gap) + " after the one before)";
  }
  r.has_observed = true;
  JudgeDuration(r, what);
}

void MeasureAvailability(SloStatusRecord& r, const SlaPropertyRecord& sla,
                         const PortFacts& facts) {
  if (!PercentObjective(r, sla)) return;
  auto [servable, evaluations] = facts.serving;
  if (evaluations <= 0) return Set(r, "unknown", "The port has not been evaluated yet.");
  r.observed = 100.0 * static_cast<double>(servable) / static_cast<double>(evaluations);
  r.has_observed = true;
  std::string what = "Servable at " + Percent(r.observed) + " of " +
                     std::to_string(evaluations) + " evaluations in 30 days";
  if (!facts.servable) what += " (not now: " + facts.unservable + ")";
  double budget = 100.0 - r.objective_value;
  double used = 100.0 - r.observed;
  if (r.observed < r.objective_value) {
    Set(r, "breached", what + ", below " + Percent(r.objective_value) + ".");
  } else if (used > 0 && used >= kAtRiskShare * budget) {
    Set(r, "at_risk", what + ": past 80% of the error budget of " + Percent(budget) + ".");
  } else {
    Set(r, "met", what + ", at least " + Percent(r.objective_value) + ".");
  }
}

void MeasureErrorRate(SloStatusRecord& r, const SlaPropertyRecord& sla, const PortFacts& facts) {
  if (!PercentObjective(r, sla)) return;
  if (facts.runs.runs <= 0) return Set(r, "unknown", "The product has no runs in 30 days.");
  r.observed = 100.0 * static_cast<double>(facts.runs.failed) /
               static_cast<double>(facts.runs.runs);
  r.has_observed = true;
  std::string what = std::to_string(facts.runs.failed) + " of " +
                     std::to_string(facts.runs.runs) + " runs in 30 days failed (" +
                     Percent(r.observed) + ")";
  if (r.observed > r.objective_value) {
    Set(r, "breached", what + ", more than " + Percent(r.objective_value) + ".");
  } else if (r.observed > 0 && r.observed > kAtRiskShare * r.objective_value) {
    Set(r, "at_risk", what + ": past 80% of the " + Percent(r.objective_value) + " allowed.");
  } else {
    Set(r, "met", what + ", within " + Percent(r.objective_value) + ".");
  }
}

void MeasureRetention(SloStatusRecord& r, const SlaPropertyRecord& sla, const PortFacts& facts,
                      const Clock& clock, const SloOptions& options) {
  if (!DurationObjective(r, sla)) return;
  std::string column = sla.element.substr(sla.element.rfind('.') + 1);
  if (column.empty()) {
    return Set(r, "unknown", "No date column is named (element): retention is read from one.");
  }
  const auto& columns = facts.port->columns;
  if (std::none_of(columns.begin(), columns.end(), [&](const auto& c) { return c.name == column; })) {
    return Set(r, "unknown", "The port has no column " + column + " (element " + sla.element + ").");
  }
  if (facts.port->rows < 0) return Set(r, "unknown", "The port was never published.");
  if (!options.oldest_value) {
    return Set(r, "unknown", "The data was not read here (plexus slo and plexus serve read it).");
  }
  auto oldest = options.oldest_value(*facts.port, column);
  if (!oldest.ok()) return Set(r, "unknown", "Cannot read " + column + ": " + oldest.status().message());
  if (!oldest->has_value()) return Set(r, "unknown", "The column " + column + " has no values.");
  r.observed = clock.now - **oldest;
  r.has_observed = true;
  std::string what = "The oldest " + column + " is " + Human(r.observed) + " old";
  auto first_run = ParseTime(facts.runs.first_run_at);
  if (r.observed >= r.objective_value) {
    Set(r, "met", what + ": the whole " + Human(r.objective_value) + " is kept.");
  } else if (first_run && **oldest <= *first_run + kRetentionGrace) {
    Set(r, "met", what + ": everything since the first run is kept (the port is younger than " +
                      Human(r.objective_value) + ").");
  } else {
    Set(r, "breached", what + ": data within the " + Human(r.objective_value) +
                           " retained was removed.");
  }
}

namespace {

/// "09:00", "T09:00:00", "09:00Z", "09:00+02:00"; an offset may be the unit instead ("+02:00",
/// "UTC", "Z" or none). {seconds after midnight, offset in seconds east of UTC}.
std::optional<std::pair<double, double>> DeadlineOf(const SlaPropertyRecord& sla) {
  std::string value = sla.value;
  size_t start = !value.empty() && (value[0] == 'T' || value[0] == 't') ? 1 : 0;
  size_t end = 0;
  auto clock = ParseClock(value, start, &end);
  if (!clock) return std::nullopt;
  auto offset = ParseOffset(value, end);
  if (!offset) return std::nullopt;
  std::string unit = AsciiLower(sla.unit);
  if (end == value.size() && !unit.empty() && unit != "utc" && unit != "z") {
    offset = ParseOffset(sla.unit, 0);
    if (!offset) return std::nullopt;
  }
  return std::pair{*clock, *offset};
}

}  // namespace

void MeasureTimeOfAvailability(SloStatusRecord& r, const SlaPropertyRecord& sla,
                               const PortFacts& facts, const Clock& clock,
                               catalog::Catalog& catalog) {
  r.unit = "time";
  auto deadline = DeadlineOf(sla);
  if (!deadline) {
    return Set(r, "unknown", "'" + sla.value + (sla.unit.empty() ? "" : " " + sla.unit) +
                                 "' is not a time of day (HH:MM, with an optional offset).");
  }
  auto [due, offset] = *deadline;
  r.objective_value = due;
  if (!facts.fresh_at) return Set(r, "unknown", "The port was never published.");
  double local_now = clock.now + offset;
  double day_start = std::floor(local_now / 86400) * 86400;  // local midnight, local clock
  std::optional<double> today;  // the first publication of the local day, local clock
  auto window = catalog.SloRunWindow(facts.product->id, FormatTime(day_start - offset));
  if (window.ok()) {
    if (auto first = ParseTime(window->first_success_at)) today = *first + offset;
  }
  if (!today && *facts.fresh_at + offset >= day_start) today = *facts.fresh_at + offset;
  std::string due_text = ClockText(due);
  if (today) {
    r.observed = *today - day_start;
    r.has_observed = true;
    std::string at = "Today's data was published at " + ClockText(r.observed);
    if (r.observed <= due) return Set(r, "met", at + ", by " + due_text + ".");
    return Set(r, "breached", at + ", after " + due_text + ".");
  }
  double left = day_start + due - local_now;
  std::string last = " (last published " + Human(clock.now - *facts.fresh_at) + " ago).";
  if (left < 0) return Set(r, "breached", "Today's data was due by " + due_text + last);
  if (left <= kTimeOfAvailabilityWarning) {
    return Set(r, "at_risk", "Today's data is due by " + due_text + ", in " + Human(left) + last);
  }
  Set(r, "met", "Today's data is due by " + due_text + last);
}

}  // namespace plexus::observe::internal
