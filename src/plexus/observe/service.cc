#include "plexus/observe/service.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "plexus/observe/alerts.h"
#include "plexus/observe/log.h"
#include "plexus/observe/openlineage.h"
#include "plexus/observe/slo.h"
#include "plexus/observe/trust.h"

namespace plexus::observe {
namespace {

using Clock = std::chrono::steady_clock;

/// A run the catalog told of, waiting for the worker.
struct RunEvent {
  bool finished = false;
  int64_t run_id = 0;
  std::string product_id;
  std::string detail; ///< the trigger (started) or the status (finished)
};

constexpr size_t kMaxQueuedRuns = 10000;

/// Retention's reader over serve's engine, which holds the domains' files: the
/// oldest value of the column in the port's published table.
OldestValueReader SharedDataReader(engine::Database *data) {
  return [data](const catalog::OutputPortRecord &port,
                const std::string &column) -> Result<std::optional<double>> {
    PLEXUS_ASSIGN_OR_RETURN(auto conn, data->Connect());
    return OldestValue(*conn, port, column);
  };
}

} // namespace

struct ObserveService::State {
  catalog::Catalog *catalog = nullptr;
  ObserveOptions options;
  spec::MeshObservability settings;
  SloOptions slo_options;
  std::unique_ptr<Dispatcher> lineage_sink;
  std::unique_ptr<Dispatcher> alert_sink;
  std::unique_ptr<LineageEmitter> lineage;
  std::unique_ptr<AlertEngine> alerts;
  std::shared_ptr<catalog::RunObserver> observer;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<RunEvent> queue; ///< GUARDED_BY(mu)
  int busy = 0;               ///< GUARDED_BY(mu): events taken, not yet handled
  bool stopping = false;      ///< GUARDED_BY(mu)
  int64_t dropped_runs = 0;   ///< GUARDED_BY(mu)
  std::mutex evaluate_mu; ///< one evaluation at a time (worker, EvaluateNow)
  std::optional<Clock::time_point> last_prune; ///< GUARDED_BY(evaluate_mu)
  bool prune_backlog = false;                  ///< GUARDED_BY(evaluate_mu)
  std::thread worker;

  void Push(RunEvent event) {
    {
      std::lock_guard lock(mu);
      if (queue.size() >= kMaxQueuedRuns) {
        ++dropped_runs;
        Log(LogLevel::kWarn, "observe.run_dropped",
            {{"run_id", event.run_id}, {"dropped", dropped_runs}});
        return;
      }
      queue.push_back(std::move(event));
    }
    cv.notify_all();
  }

  void Handle(const RunEvent &event) {
    if (!event.finished) {
      lineage->RunStarted(event.run_id, event.product_id, event.detail);
      return;
    }
    lineage->RunFinished(event.run_id, event.product_id, event.detail);
    Status s =
        ReconcileRunAlerts(*alerts, *catalog, event.run_id, event.product_id);
    if (!s.ok()) {
      Log(LogLevel::kWarn, "observe.alerts_failed",
          {{"run_id", event.run_id}, {"error", s.message()}});
    }
  }

  Status Evaluate() {
    std::lock_guard lock(evaluate_mu);
    std::string now = catalog::NowUtc();
    PLEXUS_ASSIGN_OR_RETURN(auto statuses,
                            EvaluateSlos(*catalog, now, slo_options));
    std::vector<AlertCondition> breached;
    for (const auto &slo : statuses) {
      if (slo.status != "breached")
        continue;
      AlertCondition condition;
      condition.kind = "slo_breach";
      condition.entity = slo.product + "." + slo.port + "/" + slo.property;
      condition.key = condition.kind + ":" + condition.entity;
      condition.product = slo.product;
      condition.severity = "critical";
      condition.message = slo.property + " objective " + slo.objective +
                          " of " + slo.product + "." + slo.port +
                          " breached: " + slo.detail;
      breached.push_back(std::move(condition));
    }
    PLEXUS_RETURN_IF_ERROR(alerts->Reconcile("slo_breach", "", breached));
    PLEXUS_RETURN_IF_ERROR(ComputeTrustScores(*catalog, now).status());
    PLEXUS_RETURN_IF_ERROR(catalog->CompactMetrics(now));
    return PruneRunHistory(now);
  }

  /// Run retention (observability.runHistory): once an hour, or at the next evaluation while
  /// the last one deleted a whole batch (a large backlog goes in short transactions).
  Status PruneRunHistory(const std::string &now) {
    auto at = Clock::now();
    if (!prune_backlog && last_prune.has_value() && at - *last_prune < std::chrono::hours(1))
      return Status::OK();
    std::optional<double> seconds = ParseTime(now);
    if (!seconds)
      return InvalidArgument("not an ISO 8601 time: " + now);
    constexpr int64_t kBatch = 50000;
    PLEXUS_ASSIGN_OR_RETURN(
        int64_t deleted,
        catalog->PruneRuns(FormatTime(*seconds - settings.run_retention_s),
                           settings.runs_per_product, kBatch));
    last_prune = at;
    prune_backlog = deleted == kBatch;
    if (deleted > 0)
      Log(LogLevel::kInfo, "observe.runs_pruned", {{"runs", deleted}});
    return Status::OK();
  }

  double Interval() const {
    return options.slo_interval_s > 0 ? options.slo_interval_s
                                      : settings.slo_interval_s;
  }

  void Loop() {
    auto next = Clock::now();
    std::unique_lock lock(mu);
    while (true) {
      bool due = options.evaluate && Clock::now() >= next;
      if (!due && queue.empty() && !stopping) {
        if (options.evaluate) {
          cv.wait_until(lock, next);
        } else {
          cv.wait(lock);
        }
        continue;
      }
      if (stopping && queue.empty())
        return;
      if (!queue.empty()) {
        RunEvent event = std::move(queue.front());
        queue.pop_front();
        ++busy;
        lock.unlock();
        Handle(event);
        lock.lock();
        --busy;
        cv.notify_all();
        continue;
      }
      lock.unlock();
      Status s = Evaluate();
      if (!s.ok())
        Log(LogLevel::kWarn, "observe.evaluation_failed",
            {{"error", s.message()}});
      next = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(Interval()));
      lock.lock();
    }
  }
};

namespace {

/// Hands the catalog's run notices to the worker: queues only, never blocks a
/// run.
class QueueingObserver : public catalog::RunObserver {
public:
  explicit QueueingObserver(ObserveService::State *state) : state_(state) {}
  void RunStarted(int64_t run_id, const std::string &product_id,
                  const std::string &trigger) override {
    state_->Push({false, run_id, product_id, trigger});
  }
  void RunFinished(int64_t run_id, const std::string &product_id,
                   const std::string &status) override {
    state_->Push({true, run_id, product_id, status});
  }

private:
  ObserveService::State *state_;
};

} // namespace

Result<std::unique_ptr<ObserveService>>
ObserveService::Start(const catalog::Home &home, catalog::Catalog *catalog,
                      ObserveOptions options) {
  auto state = std::make_unique<State>();
  state->catalog = catalog;
  state->options = options;
  PLEXUS_ASSIGN_OR_RETURN(state->settings, catalog->ObservabilitySettings());
  if (!state->settings.enabled) {
    return std::unique_ptr<ObserveService>(
        new ObserveService(std::move(state)));
  }
  DispatcherOptions lineage_options;
  lineage_options.name = "openlineage";
  state->lineage_sink = Dispatcher::Start(lineage_options);
  DispatcherOptions alert_options;
  alert_options.name = "alerts";
  state->alert_sink = Dispatcher::Start(alert_options);
  state->lineage = std::make_unique<LineageEmitter>(
      catalog, state->settings, state->lineage_sink.get(), home.root());
  state->alerts = std::make_unique<AlertEngine>(catalog, state->settings,
                                                state->alert_sink.get());
  state->slo_options.oldest_value = options.data != nullptr
                                        ? SharedDataReader(options.data)
                                        : PublishedDataReader(home);
  State *raw = state.get();
  state->observer = std::make_shared<QueueingObserver>(raw);
  state->worker = std::thread([raw] { raw->Loop(); });
  catalog->SetRunObserver(state->observer);
  return std::unique_ptr<ObserveService>(new ObserveService(std::move(state)));
}

ObserveService::ObserveService(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

ObserveService::~ObserveService() {
  if (!state_->worker.joinable())
    return;
  state_->catalog->SetRunObserver(nullptr);
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  state_->worker.join();
  // The dispatchers deliver what is queued for up to 2 s as they are destroyed;
  // the emitter and the engine that use them go first.
  state_->lineage.reset();
  state_->alerts.reset();
}

Status ObserveService::EvaluateNow() {
  if (!enabled())
    return Status::OK();
  return state_->Evaluate();
}

bool ObserveService::Flush(double timeout_s) {
  if (!enabled())
    return true;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(timeout_s));
  {
    std::unique_lock lock(state_->mu);
    if (!state_->cv.wait_until(lock, deadline, [&] {
          return state_->queue.empty() && state_->busy == 0;
        })) {
      return false;
    }
  }
  double left = std::chrono::duration<double>(deadline - Clock::now()).count();
  bool lineage = state_->lineage_sink->Flush(std::max(0.0, left));
  left = std::chrono::duration<double>(deadline - Clock::now()).count();
  return state_->alert_sink->Flush(std::max(0.0, left)) && lineage;
}

std::vector<std::pair<std::string, DispatcherStats>>
ObserveService::Sinks() const {
  std::vector<std::pair<std::string, DispatcherStats>> out;
  if (state_->lineage_sink)
    out.emplace_back("openlineage", state_->lineage_sink->stats());
  if (state_->alert_sink)
    out.emplace_back("alerts", state_->alert_sink->stats());
  return out;
}

bool ObserveService::enabled() const { return state_->worker.joinable(); }

} // namespace plexus::observe
