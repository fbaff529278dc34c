// File: plexus/observe/service.h
//
// The observability of one home, running beside `plexus serve` (and, for its runs, beside
// `plexus run`): it hears of every run through the catalog's RunObserver and, on one worker
// thread, emits its OpenLineage events and raises or resolves the run's alerts (pipeline
// failure, quality failure, schema drift); every `slo_interval_s` it evaluates the SLOs,
// recomputes the trust scores, raises or resolves SLO alerts and compacts the metrics history.
// Nothing it does can slow or fail a run: the observer only queues, and delivery to endpoints
// goes through bounded Dispatchers.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto observe, ObserveService::Start(home, catalog.get(), {}));
//   ... runs, queries ...
//   observe.reset();  // stops the thread, delivers what is queued for up to 2 s
//
// Settings come from mesh.yaml `observability` as last applied (Catalog::ObservabilitySettings);
// `enabled: false` makes Start return a service that does nothing.
//
// Thread safety: Start and the destructor on one thread; the rest from any thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/observe/dispatcher.h"

namespace plexus::observe {

struct ObserveOptions {
  /// Evaluate SLOs, trust scores and SLO alerts every slo_interval_s (plexus serve); false:
  /// only the runs' events (plexus run).
  bool evaluate = true;
  /// Overrides mesh.yaml's sloInterval when > 0 (plexus serve --slo-interval).
  double slo_interval_s = 0;
  /// serve's shared engine: retention objectives read the published data through it. Null:
  /// they open the domains' files read-only themselves (no server holds them).
  engine::Database* data = nullptr;
};

class ObserveService {
 public:
  static Result<std::unique_ptr<ObserveService>> Start(const catalog::Home& home,
                                                       catalog::Catalog* catalog,
                                                       ObserveOptions options);
  ~ObserveService();

  /// One evaluation now (SLOs, trust scores, SLO alerts), on the caller's thread.
  Status EvaluateNow();
  /// Waits until the runs heard of so far are handled and their events delivered (or
  /// `timeout_s` passed): plexus run calls it before exiting.
  bool Flush(double timeout_s);
  /// Each sink's delivery figures (openlineage, alerts), for /metrics.
  std::vector<std::pair<std::string, DispatcherStats>> Sinks() const;
  bool enabled() const;

  struct State;

 private:
  explicit ObserveService(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace plexus::observe
