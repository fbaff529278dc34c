#include "plexus/common/time.h"
#include "plexus/pipeline/scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "plexus/pipeline/cdc_apply.h"  // HasCdcInputs
#include "plexus/spec/parse.h"

namespace plexus::pipeline {

using Time = RunPlanner::Time;

const char* TriggerName(RunTrigger trigger) {
  switch (trigger) {
    case RunTrigger::kManual: return "manual";
    case RunTrigger::kSchedule: return "schedule";
    case RunTrigger::kCron: return "cron";
    case RunTrigger::kUpstream: return "upstream";
    case RunTrigger::kRetry: return "retry";
    case RunTrigger::kContinuous: return "continuous";
  }
  return "manual";
}

std::chrono::milliseconds RetryDelay(const spec::RetryPolicy& policy, int attempt) {
  double seconds = std::max(0.0, policy.backoff_s) * std::pow(2.0, std::max(0, attempt - 1));
  if (policy.max_backoff_s > 0) seconds = std::min(seconds, policy.max_backoff_s);
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// ---- RunPlanner ----------------------------------------------------------------------------

namespace {

std::string Signature(const ProductSchedule& s) {
  std::ostringstream out;
  out << s.schedule.every_s << '|' << s.schedule.cron << '|' << s.schedule.on_upstream << '|'
      << s.schedule.continuous << '|' << s.retries.attempts << '|' << s.retries.backoff_s << '|'
      << s.retries.max_backoff_s << '|';
  for (const auto& u : s.upstream) out << u << ',';
  return out.str();
}

std::chrono::system_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::duration<double>(s));
}

}  // namespace

void RunPlanner::SetSchedules(std::vector<ProductSchedule> schedules, Time now) {
  std::map<std::string, State> next;
  for (auto& spec : schedules) {
    std::string signature = Signature(spec);
    auto old = states_.find(spec.product);
    if (old != states_.end() && old->second.signature == signature) {
      State kept = std::move(old->second);
      kept.spec = std::move(spec);
      next.emplace(kept.spec.product, std::move(kept));
      continue;
    }
    State state;
    state.signature = signature;
    if (spec.schedule.every_s > 0) {
      state.next_interval = now;
      if (spec.last_started.has_value()) {
        state.next_interval = std::max(now, *spec.last_started + Seconds(spec.schedule.every_s));
      }
    }
    if (spec.cron.has_value()) state.next_cron = spec.cron->NextAfter(now);
    state.spec = std::move(spec);
    next.emplace(state.spec.product, std::move(state));
  }
  states_ = std::move(next);
}

void RunPlanner::Published(const std::string& product, Time now) {
  for (auto& [name, state] : states_) {
    if (!state.spec.schedule.on_upstream || name == product) continue;
    const auto& up = state.spec.upstream;
    if (std::find(up.begin(), up.end(), product) == up.end()) continue;
    state.upstream_since = std::min(state.upstream_since, now);
  }
}

Time RunPlanner::DueAt(const State& s) {
  return std::min({s.next_interval, s.next_cron, s.upstream_since, s.retry_at});
}

std::vector<PlannedRun> RunPlanner::TakeDue(Time now) {
  std::vector<std::pair<Time, std::string>> due;
  for (const auto& [name, state] : states_) {
    Time at = DueAt(state);
    if (at <= now && !running_.count(name)) due.emplace_back(at, name);
  }
  std::sort(due.begin(), due.end());
  std::vector<PlannedRun> out;
  for (const auto& [at, name] : due) {
    if (static_cast<int>(running_.size()) >= max_runs_) break;
    State& s = states_[name];
    PlannedRun run{name, RunTrigger::kSchedule, 1};
    if (s.retry_at <= now) {
      run.trigger = RunTrigger::kRetry;
      run.attempt = s.retry_attempt;
    } else if (s.upstream_since <= now) {
      run.trigger = RunTrigger::kUpstream;
    } else if (s.next_cron <= now) {
      run.trigger = RunTrigger::kCron;
    }
    // One run answers everything that was due: the times move on, nothing piles up.
    if (s.next_interval <= now) s.next_interval = now + Seconds(s.spec.schedule.every_s);
    if (s.next_cron <= now && s.spec.cron.has_value()) s.next_cron = s.spec.cron->NextAfter(now);
    s.upstream_since = Time::max();
    s.retry_at = Time::max();
    running_.insert(name);
    out.push_back(std::move(run));
  }
  return out;
}

bool RunPlanner::Begin(const std::vector<std::string>& products) {
  for (const auto& p : products) {
    if (running_.count(p)) return false;
  }
  running_.insert(products.begin(), products.end());
  return true;
}

void RunPlanner::Finished(const PlannedRun& run, bool succeeded, Time now) {
  running_.erase(run.product);
  auto it = states_.find(run.product);
  if (it == states_.end()) return;
  State& s = it->second;
  if (succeeded) {
    s.retry_at = Time::max();
    s.retry_attempt = 0;
    return;
  }
  bool scheduled = run.trigger != RunTrigger::kManual && run.trigger != RunTrigger::kContinuous;
  if (scheduled && run.attempt < s.spec.retries.attempts) {
    s.retry_attempt = run.attempt + 1;
    s.retry_at = now + std::chrono::duration_cast<Clock::duration>(
                           RetryDelay(s.spec.retries, run.attempt));
  } else {
    s.retry_attempt = 0;  // given up until its next regular time
  }
}

Time RunPlanner::NextWake() const {
  Time wake = Time::max();
  for (const auto& [name, state] : states_) {
    if (!running_.count(name)) wake = std::min(wake, DueAt(state));
  }
  return wake;
}

Time RunPlanner::NextRunOf(const std::string& product) const {
  auto it = states_.find(product);
  return it == states_.end() ? Time::max() : DueAt(it->second);
}

// ---- Scheduler -----------------------------------------------------------------------------

namespace {

/// "2026-11-25T20:46:35.123Z" (catalog::NowUtc) as a time point; nullopt when unreadable.
std::optional<Time> ParseUtc(const std::string& text) {
  std::optional<double> seconds = UtcSeconds(text);
  if (!seconds) return std::nullopt;
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::duration<double>(*seconds)));
}

std::string FormatUtc(Time t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// One line per run for serve's log: "run orders.orders (schedule): succeeded, 600 rows".
std::string RunLine(const PlannedRun& run, const RunReport& r) {
  std::string line = "plexus: run " + r.product + " (" + TriggerName(run.trigger);
  if (run.attempt > 1) line += ", attempt " + std::to_string(run.attempt);
  line += "): " + r.status;
  for (const auto& [port, rows] : r.rows) {
    line += ", " + port + ": " + std::to_string(rows) + " rows";
  }
  if (!r.reason.empty()) line += ": " + r.reason;
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), " (%.2fs)", r.seconds);
  return line + seconds;
}

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::Open(const catalog::Home& home,
                                                   catalog::Catalog* catalog, SharedEngine* engine,
                                                   SchedulerOptions options) {
  std::unique_ptr<Scheduler> scheduler(new Scheduler(home, catalog, engine, std::move(options)));
  PLEXUS_RETURN_IF_ERROR(scheduler->Reload());
  return scheduler;
}

void Scheduler::StartPlanning() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& [product, loop] : loops_) {
    loop.stop->store(true);
    if (loop.thread.joinable()) loop.thread.join();
  }
  loops_.clear();
  std::map<int64_t, std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [id, worker] : workers) {
    if (worker.joinable()) worker.join();
  }
}

void Scheduler::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

Status Scheduler::Reload() {
  PLEXUS_ASSIGN_OR_RETURN(auto generation, catalog_->Generation());
  if (generation == generation_) return Status::OK();
  // Every publication moves the generation: a schedule needs no column.
  PLEXUS_ASSIGN_OR_RETURN(auto products, catalog_->ListProductsWithoutColumns());
  Time now = RunPlanner::Clock::now();
  bool first = generation_.first < 0;
  // Publications: a product whose newest publication moved published (onUpstream).
  std::map<std::string, std::string> newest;
  for (const auto& p : products) {
    for (const auto& port : p.outputs) {
      if (port.rows < 0) continue;
      auto& slot = newest[p.QualifiedName()];
      slot = std::max(slot, port.published_at);
    }
  }
  std::vector<std::string> published;
  for (const auto& [product, at] : newest) {
    auto seen = published_at_.find(product);
    if (!first && (seen == published_at_.end() || seen->second < at)) published.push_back(product);
  }
  published_at_ = std::move(newest);

  std::vector<ProductSchedule> schedules;
  std::map<std::string, double> continuous;  // product -> maxLatency
  for (const auto& p : products) {
    if (p.pipeline_text.empty()) continue;
    std::vector<spec::Diagnostic> problems;
    auto pipeline = spec::ParsePipelineText(p.pipeline_text, p.pipeline_file, &problems);
    if (!pipeline.ok()) continue;  // apply checked it; a run will say what is wrong
    const spec::Schedule& when = pipeline->schedule;
    ProductSchedule s;
    s.product = p.QualifiedName();
    s.schedule = when;
    s.retries = pipeline->retries;
    if (!when.cron.empty()) {
      auto cron = spec::ParseCron(when.cron);
      if (cron.ok()) {
        s.cron = std::move(cron).value();
      } else {
        Log("plexus: warning: " + s.product + ": schedule.cron: " + cron.status().message());
      }
    }
    for (const auto& in : p.inputs) {
      if (!in.upstream_product.empty()) {
        s.upstream.push_back(in.upstream_domain + "." + in.upstream_product);
      }
    }
    if (when.continuous && HasCdcInputs(p)) continuous[s.product] = when.max_latency_s;
    if (when.every_s <= 0 && !s.cron.has_value() && !when.on_upstream) continue;
    auto runs = catalog_->ListRuns(p.id, 1);
    if (runs.ok() && !runs->empty()) s.last_started = ParseUtc(runs->front().started_at);
    schedules.push_back(std::move(s));
  }
  std::lock_guard lock(mu_);
  planner_.SetSchedules(std::move(schedules), now);
  for (const auto& product : published) planner_.Published(product, now);
  continuous_ = std::move(continuous);
  generation_ = generation;
  return Status::OK();
}

void Scheduler::Loop() {
  while (true) {
    Status reloaded = Reload();
    if (!reloaded.ok()) Log("plexus: warning: scheduler: " + reloaded.message());
    std::map<std::string, double> continuous;
    {
      std::lock_guard lock(mu_);
      continuous = continuous_;
    }
    UpdateLoops(continuous);
    std::vector<std::thread> finished;
    std::unique_lock lock(mu_);
    if (stopping_) return;
    for (int64_t id : done_workers_) {
      auto it = workers_.find(id);
      if (it == workers_.end()) continue;
      finished.push_back(std::move(it->second));
      workers_.erase(it);
    }
    done_workers_.clear();
    Time now = RunPlanner::Clock::now();
    for (auto& run : planner_.TakeDue(now)) {
      int64_t id = next_worker_++;
      workers_[id] = std::thread([this, run, id] {
        Launch(run);
        std::lock_guard done(mu_);
        done_workers_.push_back(id);
      });
    }
    Time wake = std::min(planner_.NextWake(), now + options_.poll);
    if (wake > now) cv_.wait_until(lock, wake);
    else cv_.wait_for(lock, options_.poll);  // due but no free slot: a run's end wakes us
    lock.unlock();
    for (auto& t : finished) t.join();
  }
}

void Scheduler::Launch(PlannedRun run) {
  auto product = catalog_->GetProduct(run.product);
  auto state = product.ok() ? catalog_->GetPipelineState(product->id)
                            : Result<catalog::PipelineStateRecord>(product.status());
  if (state.ok() && state->paused) {  // a paused pipeline waits for plexus pipeline resume
    std::lock_guard lock(mu_);
    planner_.Finished(run, true, RunPlanner::Clock::now());
    return;
  }
  {
    // Marked running, the product's stream takes no new caller: wait for the one inside.
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || stream_users_[run.product] == 0; });
  }
  RunOptions options;
  options.shared = engine_;
  options.trigger = TriggerName(run.trigger);
  options.attempt = run.attempt;
  PipelineRunner runner(home_, catalog_, options);
  auto reports = runner.Run({run.product});
  bool succeeded = false;
  if (!reports.ok()) {
    Log("plexus: run " + run.product + " (" + TriggerName(run.trigger) +
        "): could not start: " + reports.status().message());
  } else {
    succeeded = true;
    for (const auto& r : *reports) {
      Log(RunLine(run, r));
      if (r.status != "succeeded") succeeded = false;
    }
  }
  {
    std::lock_guard lock(mu_);
    planner_.Finished(run, succeeded, RunPlanner::Clock::now());
  }
  cv_.notify_all();
}

Result<std::vector<RunReport>> Scheduler::RunNow(const std::vector<std::string>& refs,
                                                 bool full_refresh) {
  std::vector<std::string> products;
  if (refs.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(auto all, catalog_->ListProductsWithoutColumns());
    for (const auto& p : all) {
      if (!p.pipeline_text.empty()) products.push_back(p.QualifiedName());
    }
  } else {
    for (const auto& ref : refs) {
      PLEXUS_ASSIGN_OR_RETURN(auto p, catalog_->GetProduct(ref));
      if (std::find(products.begin(), products.end(), p.QualifiedName()) == products.end()) {
        products.push_back(p.QualifiedName());
      }
    }
  }
  {
    std::unique_lock lock(mu_);
    for (const auto& p : products) runs_waiting_[p]++;  // the streams let it in next
    cv_.wait(lock, [&] {
      if (stopping_) return true;
      for (const auto& p : products) {
        if (stream_users_[p] > 0) return false;  // a push or a micro-batch is applying
      }
      return planner_.Begin(products);
    });
    for (const auto& p : products) runs_waiting_[p]--;
    if (stopping_) return FailedPrecondition("plexus serve is stopping");
  }
  RunOptions options;
  options.shared = engine_;
  options.full_refresh = full_refresh;
  PipelineRunner runner(home_, catalog_, options);
  auto reports = runner.Run(products);
  {
    std::lock_guard lock(mu_);
    Time now = RunPlanner::Clock::now();
    for (const auto& product : products) {
      bool ok = false;
      if (reports.ok()) {
        for (const auto& r : *reports) ok = ok || (r.product == product && r.status == "succeeded");
      }
      planner_.Finished({product, RunTrigger::kManual, 1}, ok, now);
      epochs_[product]++;  // a CDC run used a stream of its own: the loop's reopens
    }
  }
  cv_.notify_all();
  if (reports.ok()) {
    for (const auto& r : *reports) Log(RunLine({r.product, RunTrigger::kManual, 1}, r));
  }
  return reports;
}

Result<PipelineStatus> Scheduler::StatusOf(const std::string& ref) {
  PLEXUS_ASSIGN_OR_RETURN(auto product, catalog_->GetProduct(ref));
  PipelineStatus status;
  status.product = product.QualifiedName();
  std::lock_guard lock(mu_);
  status.running = planner_.IsRunning(status.product);
  status.continuous = continuous_.count(status.product) != 0;
  Time next = planner_.NextRunOf(status.product);
  if (next != Time::max()) status.next_run = FormatUtc(next);
  return status;
}

}  // namespace plexus::pipeline
