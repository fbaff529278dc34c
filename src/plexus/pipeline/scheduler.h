// File: plexus/pipeline/scheduler.h
//
// Scheduling inside `plexus serve`: each product's pipeline.yaml `schedule` (an interval, a
// UTC cron expression, a run after an upstream product publishes, continuous CDC) and
// `retries`, on serve's one engine (SharedEngine), with a limit on the batch runs at once and
// never two runs of one product at once. Every run is recorded in the catalog with why it ran
// (its trigger) and its attempt.
//
//   RunPlanner: when what runs, without threads or a clock of its own (the caller passes
//     `now`), so its rules are tested with a fake clock (scheduler_test.cc).
//   Scheduler: the threads. One plans (re-reading the schedules when the catalog's generation
//     moves, watching the publications for onUpstream) and starts each batch run on a thread
//     of its own; one more per continuous CDC product steps its ChangeStream.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto scheduler, Scheduler::Open(home, catalog, engine, {2}));
//   scheduler->StartPlanning();
//   PLEXUS_ASSIGN_OR_RETURN(auto reports, scheduler->RunNow({"orders.orders"}, false));
//
// Thread safety: RunPlanner is a value (the Scheduler guards it); Scheduler's methods may be
// called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/runner.h"
#include "plexus/spec/cron.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

/// Why a run started, as the run history records it.
enum class RunTrigger { kManual, kSchedule, kCron, kUpstream, kRetry, kContinuous };
/// manual, schedule, cron, upstream, retry, continuous.
const char* TriggerName(RunTrigger trigger);

/// The wait after failed attempt `attempt` (1: the first run) before the next: `backoff`,
/// doubled at each attempt, at most `maxBackoff`.
std::chrono::milliseconds RetryDelay(const spec::RetryPolicy& policy, int attempt);

/// One product's schedule, as applied.
struct ProductSchedule {
  std::string product;  ///< domain.product
  spec::Schedule schedule;
  std::optional<spec::CronSchedule> cron;  ///< schedule.cron parsed (absent: none)
  spec::RetryPolicy retries;
  std::vector<std::string> upstream;  ///< the products its input ports read (domain.product)
  /// When its last run started, if it ever ran: an interval counts from it, so a restarted
  /// server does not run everything again at once.
  std::optional<std::chrono::system_clock::time_point> last_started;
};

/// A run the planner decided to start.
struct PlannedRun {
  std::string product;
  RunTrigger trigger = RunTrigger::kManual;
  int attempt = 1;
};

/// When what runs. A product is due when its interval or cron time has come, when one of its
/// upstream products published (onUpstream), or when a retry's backoff has passed; a due
/// product starts when fewer than `max_runs` runs are going and it is not running already.
/// Runs asked for by hand (Begin) never wait for the limit, only for a run of the same product,
/// and count against the limit while they run. Continuous streams are not runs here.
class RunPlanner {
 public:
  using Clock = std::chrono::system_clock;
  using Time = Clock::time_point;

  explicit RunPlanner(int max_runs) : max_runs_(max_runs < 1 ? 1 : max_runs) {}

  /// The schedules as applied now. A product whose schedule did not change keeps its next
  /// times and pending retry; a new or changed one starts afresh (an interval at once, or one
  /// interval after its last run).
  void SetSchedules(std::vector<ProductSchedule> schedules, Time now);
  /// `product` published: its onUpstream consumers become due.
  void Published(const std::string& product, Time now);
  /// The runs to start now, in the order they became due; each is marked running.
  std::vector<PlannedRun> TakeDue(Time now);
  /// A run asked for by hand: marks every product running and returns true, or returns false
  /// (marking nothing) while one of them runs.
  bool Begin(const std::vector<std::string>& products);
  /// A run (from TakeDue, or one of Begin's products with trigger kManual) ended. A failed
  /// scheduled run is tried again after RetryDelay until `retries.attempts` runs in all.
  void Finished(const PlannedRun& run, bool succeeded, Time now);
  /// The earliest time a product not running becomes due (Time::max() when none will).
  Time NextWake() const;
  /// When `product` runs next on its own (Time::max(): not scheduled).
  Time NextRunOf(const std::string& product) const;
  int running() const { return static_cast<int>(running_.size()); }
  bool IsRunning(const std::string& product) const { return running_.count(product) != 0; }

 private:
  struct State {
    ProductSchedule spec;
    std::string signature;  ///< what SetSchedules compares
    Time next_interval = Time::max();
    Time next_cron = Time::max();
    Time upstream_since = Time::max();  ///< an upstream published then; max: not pending
    Time retry_at = Time::max();
    int retry_attempt = 0;
  };
  static Time DueAt(const State& state);

  int max_runs_;
  std::map<std::string, State> states_;
  std::set<std::string> running_;
};

/// What a product's pipeline is doing, for `plexus pipeline status` and the HTTP API.
struct PipelineStatus {
  std::string product;
  bool running = false;
  bool continuous = false;
  std::string paused;     ///< why it is paused; empty: it is not
  std::string next_run;   ///< ISO UTC of its next scheduled run; empty: none
};

struct SchedulerOptions {
  int max_runs = 2;  ///< batch runs at once (continuous streams not counted)
  /// How often the catalog's generation is looked at (schedules, publications).
  std::chrono::milliseconds poll{500};
  /// Where a line per scheduled run goes (null: nowhere).
  std::function<void(const std::string&)> log;
};

class Scheduler {
 public:
  /// A scheduler on serve's engine, with the schedules as applied now. RunNow works at once;
  /// scheduled runs start with StartPlanning.
  static Result<std::unique_ptr<Scheduler>> Open(const catalog::Home& home,
                                                 catalog::Catalog* catalog, SharedEngine* engine,
                                                 SchedulerOptions options);
  /// Starts the planning thread (once).
  void StartPlanning();
  ~Scheduler();
  /// Stops planning, lets the runs going end, and joins every thread. Idempotent.
  void Stop();

  /// Runs the products now (domain.product or id; empty: every product with a pipeline), as
  /// PipelineRunner::Run does, after any run of one of them ends. `full_refresh`: CDC products
  /// rebuild from their sources.
  Result<std::vector<RunReport>> RunNow(const std::vector<std::string>& products,
                                        bool full_refresh);
  /// The product's scheduling state.
  Result<PipelineStatus> StatusOf(const std::string& product);

  /// Applies events pushed to a product's http CDC input through the product's one stream
  /// (shared with its continuous loop): all of them or none. kNotFound for an unknown input,
  /// kInvalidArgument for an input that is not an http CDC input, kFailedPrecondition while
  /// the pipeline is paused.
  Result<ApplyReport> Push(const std::string& product, const std::string& input,
                           std::vector<std::string> events);
  /// Pauses the product's pipeline (scheduled runs and its continuous stream stop; the data
  /// stays served) with `reason`, or resumes it. Kept in the catalog across restarts.
  Status Pause(const std::string& product, const std::string& reason);
  /// Resumes through the product's open stream when there is one (its loop steps again at
  /// once), else in the catalog.
  Status Resume(const std::string& product);
  /// `plexus backfill` through the server: rewinds the input's committed offsets to `from`
  /// (ChangeStream::Backfill) and catches up on the product's one stream; the run it records
  /// has the trigger "backfill".
  Result<RunReport> Backfill(const std::string& product, const std::string& input,
                             const std::string& from);

 private:
  Scheduler(catalog::Home home, catalog::Catalog* catalog, SharedEngine* engine,
            SchedulerOptions options)
      : home_(std::move(home)), catalog_(catalog), engine_(engine), options_(std::move(options)),
        planner_(options_.max_runs) {}
  void Loop();
  /// Re-reads the schedules and the publications when the catalog's generation moved.
  Status Reload();
  /// Runs one planned run on a thread of its own.
  void Launch(PlannedRun run);
  void Log(const std::string& line) const;
  /// The continuous micro-batch loop of one CDC product, until `stop` or Stop().
  void StepLoop(std::string product, std::chrono::milliseconds max_latency,
                std::shared_ptr<std::atomic<bool>> stop);
  /// Calls `use` with the product's stream (opened, or reopened after a run by hand, a pause
  /// or a resume), once no run of the product goes on; runs wait for it in turn.
  Status WithStream(const std::string& product,
                    const std::function<Status(ChangeStream&)>& use);
  /// Starts the loops of continuous products not looping yet; stops those no longer continuous.
  void UpdateLoops(const std::map<std::string, double>& continuous);
  /// Waits up to `wait` unless stopping; false when stopping.
  /// Resume() wakes it early too.
  bool Sleep(std::chrono::milliseconds wait);
  /// The id of the product's newest run (0: none).
  Result<int64_t> LastRunId(const std::string& product);

  /// One product's ChangeStream, used by one caller at a time.
  struct StreamSlot {
    std::mutex mu;
    std::unique_ptr<ChangeStream> stream;  // guarded by mu
    int64_t epoch = -1;                    // guarded by mu: epochs_ when it opened
  };
  struct StepThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> stop;
  };

  catalog::Home home_;
  catalog::Catalog* catalog_;
  SharedEngine* engine_;
  SchedulerOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  RunPlanner planner_;                               // guarded by mu_
  bool stopping_ = false;                            // guarded by mu_
  int64_t wakes_ = 0;                                // guarded by mu_: Resume() counts up
  std::map<int64_t, std::thread> workers_;           // guarded by mu_
  std::vector<int64_t> done_workers_;                // guarded by mu_
  int64_t next_worker_ = 0;                          // guarded by mu_
  std::pair<int64_t, int64_t> generation_{-1, -1};   // loop thread only
  std::map<std::string, std::string> published_at_;  // loop thread only: product -> newest
  std::map<std::string, double> continuous_;  // guarded by mu_: product -> maxLatency (s)
  std::map<std::string, std::shared_ptr<StreamSlot>> slots_;  // guarded by mu_
  std::map<std::string, int64_t> epochs_;       // guarded by mu_: a change reopens the stream
  std::map<std::string, int> stream_users_;     // guarded by mu_: product -> callers inside
  std::map<std::string, int> runs_waiting_;     // guarded by mu_: runs by hand waiting for it
  std::map<std::string, StepThread> loops_;     // loop thread only (and Stop)
  std::thread thread_;
};

}  // namespace plexus::pipeline
