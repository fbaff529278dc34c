// File: plexus/observe/metrics.cc
//
// /metrics (metrics.h): one Registry per scrape, filled from the catalog.
#include "plexus/common/time.h"
#include "plexus/observe/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <ctime>
#include <map>
#include <sstream>

namespace plexus::observe {
namespace {

using prometheus::Labels;
using prometheus::Registry;

/// {domain, product} from "domain.product".
Labels ProductLabels(const std::string& qualified) {
  size_t dot = qualified.find('.');
  if (dot == std::string::npos) return {{"domain", ""}, {"product", qualified}};
  return {{"domain", qualified.substr(0, dot)}, {"product", qualified.substr(dot + 1)}};
}

Labels SeriesLabels(const catalog::RunMetricRecord& m) {
  Labels labels = ProductLabels(m.product);
  labels["port"] = m.port;
  if (m.position >= 0) {
    labels["position"] = std::to_string(m.position);
    labels["processor"] = m.processor;
  }
  return labels;
}

/// A counter family's value for `labels` (prometheus-cpp counters only go up: set once).
void Count(prometheus::Family<prometheus::Counter>& family, const Labels& labels, double value) {
  if (value > 0) family.Add(labels).Increment(value);
  else family.Add(labels);
}

prometheus::Family<prometheus::Counter>& Counter(Registry& r, const std::string& name,
                                                 const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Gauge>& Gauge(Registry& r, const std::string& name,
                                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

Status AddRuns(Registry& r, const catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto counts, catalog.RunStatusCounts());
  auto& runs = Counter(r, "plexus_runs_total", "Pipeline runs finished, by status.");
  auto& errors = Counter(r, "plexus_run_errors_total", "Pipeline runs that failed.");
  auto& last = Gauge(r, "plexus_last_success_timestamp_seconds",
                     "When the product's newest successful run finished (Unix seconds).");
  for (const auto& c : counts) {
    if (c.status == "running") continue;
    Labels labels = ProductLabels(c.product);
    Labels with_status = labels;
    with_status["status"] = c.status;
    Count(runs, with_status, static_cast<double>(c.runs));
    if (c.status == "failed") Count(errors, labels, static_cast<double>(c.runs));
    if (c.status == "succeeded") last.Add(labels).Set(UnixSeconds(c.last_finished_at));
  }
  return Status::OK();
}

Status AddTotals(Registry& r, const catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto totals, catalog.MetricTotals());
  auto& port_in = Counter(r, "plexus_port_rows_in_total",
                          "Rows the output port's chain started from (CDC: events read).");
  auto& port_out = Counter(r, "plexus_port_rows_out_total",
                           "Rows published to the output port (CDC: rows upserted or deleted).");
  auto& rejected = Counter(r, "plexus_port_rows_rejected_total",
                           "Rows of runs the contract or an error-severity quality rule "
                           "rejected (CDC: events dead-lettered).");
  auto& bytes_in = Counter(r, "plexus_port_bytes_in_total", "Bytes of the input files read.");
  auto& bytes_out = Counter(r, "plexus_port_bytes_out_total",
                            "Estimated bytes of the tables published.");
  auto& seconds = Counter(r, "plexus_port_duration_seconds_total",
                          "Seconds spent building the output port.");
  auto& step_in = Counter(r, "plexus_processor_rows_in_total", "Rows into the processor step.");
  auto& step_out = Counter(r, "plexus_processor_rows_out_total",
                           "Rows out of the processor step.");
  for (const auto& m : totals) {
    Labels labels = SeriesLabels(m);
    if (m.position >= 0) {
      Count(step_in, labels, static_cast<double>(m.rows_in));
      Count(step_out, labels, static_cast<double>(m.rows_out));
      continue;
    }
    Count(port_in, labels, static_cast<double>(m.rows_in));
    Count(port_out, labels, static_cast<double>(m.rows_out));
    Count(rejected, labels, static_cast<double>(m.rows_rejected));
    Count(bytes_in, labels, static_cast<double>(m.bytes_in));
    Count(bytes_out, labels, static_cast<double>(m.bytes_out));
    Count(seconds, labels, m.seconds);
  }
  return Status::OK();
}

Status AddLatest(Registry& r, const catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto latest, catalog.LatestMetrics());
  auto& port_out = Gauge(r, "plexus_port_last_rows_out",
                         "Rows the output port's newest run published.");
  auto& step_in = Gauge(r, "plexus_processor_last_rows_in",
                        "Rows into the processor step in the newest run.");
  auto& step_out = Gauge(r, "plexus_processor_last_rows_out",
                         "Rows out of the processor step in the newest run.");
  auto& lag = Gauge(r, "plexus_cdc_lag_seconds",
                    "CDC: seconds between the newest applied event and its run.");
  for (const auto& m : latest) {
    Labels labels = SeriesLabels(m);
    if (m.position >= 0) {
      step_in.Add(labels).Set(static_cast<double>(m.rows_in));
      step_out.Add(labels).Set(static_cast<double>(m.rows_out));
      continue;
    }
    port_out.Add(labels).Set(static_cast<double>(m.rows_out));
    if (m.lag_seconds >= 0) lag.Add(labels).Set(m.lag_seconds);
  }
  return Status::OK();
}

double SloValue(const std::string& status) {
  if (status == "met") return 0;
  if (status == "at_risk") return 1;
  if (status == "breached") return 2;
  return -1;
}

Status AddTrust(Registry& r, const catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto statuses, catalog.ListSloStatus());
  auto& slo = Gauge(r, "plexus_slo_status",
                    "Status of a port's service-level objective: 0 met, 1 at risk, 2 breached, "
                    "-1 unknown.");
  for (const auto& s : statuses) {
    Labels labels = ProductLabels(s.product);
    labels["port"] = s.port;
    labels["major"] = std::to_string(s.major);
    labels["objective"] = s.property;
    slo.Add(labels).Set(SloValue(s.status));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto scores, catalog.ListTrustScores());
  auto& trust = Gauge(r, "plexus_trust_score", "The product's trust score, 0 to 100.");
  for (const auto& t : scores) trust.Add(ProductLabels(t.product)).Set(t.score);
  return Status::OK();
}

void AddSinks(Registry& r, const std::vector<std::pair<std::string, DispatcherStats>>& sinks) {
  auto& delivered = Counter(r, "plexus_sink_events_delivered_total",
                            "Events (OpenLineage, alerts) delivered to their endpoint or file.");
  auto& dropped = Counter(r, "plexus_sink_events_dropped_total",
                          "Events dropped: queue full, or every delivery attempt failed.");
  auto& retried = Counter(r, "plexus_sink_events_retried_total",
                          "Failed delivery attempts that were retried.");
  auto& pending = Gauge(r, "plexus_sink_events_pending", "Events queued for delivery now.");
  for (const auto& [name, stats] : sinks) {
    Labels labels{{"sink", name}};
    Count(delivered, labels, static_cast<double>(stats.delivered));
    Count(dropped, labels, static_cast<double>(stats.dropped));
    Count(retried, labels, static_cast<double>(stats.retried));
    pending.Add(labels).Set(static_cast<double>(stats.pending));
  }
}

}  // namespace

double UnixSeconds(const std::string& iso) { return UtcSeconds(iso).value_or(0); }

Result<std::string> RenderPrometheus(
    const catalog::Catalog& catalog,
    const std::vector<std::pair<std::string, DispatcherStats>>& sinks) {
  Registry registry;
  PLEXUS_RETURN_IF_ERROR(AddRuns(registry, catalog));
  PLEXUS_RETURN_IF_ERROR(AddTotals(registry, catalog));
  PLEXUS_RETURN_IF_ERROR(AddLatest(registry, catalog));
  PLEXUS_RETURN_IF_ERROR(AddTrust(registry, catalog));
  AddSinks(registry, sinks);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

}  // namespace plexus::observe
