// File: plexus/observe/metrics.h
//
// The mesh's metrics in the Prometheus text format (0.0.4), for GET /metrics: built at each
// scrape from the catalog (runs, run metrics and their cumulative totals, SLO status, trust
// scores) and the event sinks' delivery figures, with prometheus-cpp's Registry and
// TextSerializer. Every name starts with plexus_; labels are domain, product, port, position,
// processor, status, objective, sink as they apply (docs/metrics.md lists each).
//
//   PLEXUS_ASSIGN_OR_RETURN(std::string text, RenderPrometheus(*catalog, service->Sinks()));
//
// Thread safety: any thread (it only reads the catalog).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/observe/dispatcher.h"

namespace plexus::observe {

/// The Content-Type of RenderPrometheus's text.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Every metric of the mesh, serialised. `sinks`: (name, figures) of each event dispatcher
/// (openlineage, alerts); empty when none runs.
Result<std::string> RenderPrometheus(
    const catalog::Catalog& catalog,
    const std::vector<std::pair<std::string, DispatcherStats>>& sinks);

/// Where /metrics reads the event sinks' figures from: plexus serve sets it to its
/// ObserveService's Sinks() once started and clears it (an empty function) before stopping it.
/// Unset: no sink figures. Any thread.
using SinkStatsSource = std::function<std::vector<std::pair<std::string, DispatcherStats>>()>;
void SetSinkStatsSource(SinkStatsSource source);
/// The figures of the source set, or none.
std::vector<std::pair<std::string, DispatcherStats>> CurrentSinkStats();

/// One product's metrics as JSON (GET /api/v1/products/{ref}/metrics, plexus metrics
/// --format json): `run` (the run shown: `run_id`, or the newest that recorded metrics; null
/// when none did), `ports` (each port's figures with its `steps`), and `history` since `since`
/// (ISO date or time; empty: everything kept). kNotFound when `run_id` is not a run of it.
Result<nlohmann::json> ProductMetricsJson(const catalog::Catalog& catalog,
                                          const catalog::ProductRecord& product, int64_t run_id,
                                          const std::string& since);
/// One record as JSON (run_id, product, port, position, processor, figures, at).
nlohmann::json MetricJson(const catalog::RunMetricRecord& m);

/// Seconds since the Unix epoch of an ISO 8601 UTC time (NowUtc()'s form); 0 when unreadable.
double UnixSeconds(const std::string& iso);

}  // namespace plexus::observe
