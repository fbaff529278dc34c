// File: plexus/observe/metrics_json.cc
//
// One product's metrics as JSON (metrics.h), and where /metrics finds the sinks' figures.
#include <algorithm>
#include <mutex>

#include "plexus/observe/metrics.h"

namespace plexus::observe {
namespace {

using nlohmann::json;

std::mutex& SourceMutex() {
  static std::mutex mu;
  return mu;
}

SinkStatsSource& Source() {
  static SinkStatsSource source;  // GUARDED_BY(SourceMutex())
  return source;
}

json Figures(const catalog::RunMetricRecord& m) {
  json out = {{"rows_in", m.rows_in}, {"rows_out", m.rows_out}};
  if (m.position >= 0) return out;
  out["rows_rejected"] = m.rows_rejected;
  out["bytes_in"] = m.bytes_in;
  out["bytes_out"] = m.bytes_out;
  out["seconds"] = m.seconds;
  out["lag_seconds"] = m.lag_seconds >= 0 ? json(m.lag_seconds) : json(nullptr);
  return out;
}

/// The run's records as ports, each with its steps in chain order.
json PortsJson(const std::vector<catalog::RunMetricRecord>& records) {
  json ports = json::array();
  for (const auto& m : records) {
    if (m.position >= 0) continue;
    json port = Figures(m);
    port["port"] = m.port;
    port["steps"] = json::array();
    for (const auto& step : records) {
      if (step.port != m.port || step.position < 0) continue;
      json s = Figures(step);
      s["position"] = step.position;
      s["processor"] = step.processor;
      port["steps"].push_back(std::move(s));
    }
    ports.push_back(std::move(port));
  }
  return ports;
}

/// The newest run of the product that recorded metrics; 0 when none did.
Result<int64_t> NewestMeasuredRun(const catalog::Catalog& catalog, const std::string& product_id) {
  PLEXUS_ASSIGN_OR_RETURN(auto latest, catalog.LatestMetrics());
  int64_t newest = 0;
  for (const auto& m : latest) {
    if (m.product_id == product_id) newest = std::max(newest, m.run_id);
  }
  return newest;
}

}  // namespace

void SetSinkStatsSource(SinkStatsSource source) {
  std::lock_guard lock(SourceMutex());
  Source() = std::move(source);
}

std::vector<std::pair<std::string, DispatcherStats>> CurrentSinkStats() {
  SinkStatsSource source;
  {
    std::lock_guard lock(SourceMutex());
    source = Source();
  }
  if (!source) return {};
  return source();
}

json MetricJson(const catalog::RunMetricRecord& m) {
  json out = Figures(m);
  out["run_id"] = m.run_id;
  out["product"] = m.product;
  out["port"] = m.port;
  out["position"] = m.position >= 0 ? json(m.position) : json(nullptr);
  out["processor"] = m.position >= 0 ? json(m.processor) : json(nullptr);
  out["at"] = m.at;
  return out;
}

Result<json> ProductMetricsJson(const catalog::Catalog& catalog,
                                const catalog::ProductRecord& product, int64_t run_id,
                                const std::string& since) {
  int64_t run = run_id;
  if (run == 0) {
    PLEXUS_ASSIGN_OR_RETURN(run, NewestMeasuredRun(catalog, product.id));
  }
  json body = {{"product", product.QualifiedName()}, {"run", nullptr}, {"ports", json::array()}};
  if (run > 0) {
    PLEXUS_ASSIGN_OR_RETURN(auto records, catalog.ListRunMetrics(run));
    bool ours = !records.empty() && records.front().product_id == product.id;
    if (!ours && run_id > 0) {
      return NotFound("run " + std::to_string(run_id) + " recorded no metrics of " +
                      product.QualifiedName());
    }
    if (ours) {
      body["run"] = {{"id", run}, {"at", records.front().at}};
      body["ports"] = PortsJson(records);
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto history, catalog.MetricsHistory(product.id, since));
  json list = json::array();
  for (const auto& m : history) list.push_back(MetricJson(m));
  body["history"] = std::move(list);
  return body;
}

}  // namespace plexus::observe
