// The Dispatcher (dispatcher.h): one worker thread drains a bounded queue of events, each
// POSTed to an HTTP(S) endpoint or appended to a file, with retries and exponential backoff.
// Callers only take the lock to push: the network is touched on the worker thread alone.
#include "plexus/observe/dispatcher.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "plexus/observe/log.h"

namespace plexus::observe {
namespace {

using Clock = std::chrono::steady_clock;

/// How long the destructor keeps delivering what is queued.
constexpr double kDrainSeconds = 2.0;
/// Drops are logged at most this often (each line carries the running count).
constexpr auto kDropLogEvery = std::chrono::seconds(1);
/// Backoff between attempts never exceeds this.
constexpr double kMaxBackoffSeconds = 30.0;

struct Event {
  bool post = true;    ///< false: append to a file
  std::string target;  ///< the URL or the file path
  std::string body;
};

/// "http://host:port/path?q" -> ("http://host:port", "/path?q").
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

std::pair<time_t, time_t> SecondsAndMicros(double seconds) {
  seconds = std::max(seconds, 0.001);
  auto whole = static_cast<time_t>(seconds);
  return {whole, static_cast<time_t>((seconds - static_cast<double>(whole)) * 1e6)};
}

}  // namespace

struct Dispatcher::State {
  DispatcherOptions options;
  mutable std::mutex mu;
  std::condition_variable wake;  ///< the worker: an event, or stopping
  std::condition_variable idle;  ///< Flush: the queue emptied
  std::deque<Event> queue;       ///< GUARDED_BY(mu)
  bool busy = false;             ///< an event is being delivered; GUARDED_BY(mu)
  bool stopping = false;         ///< GUARDED_BY(mu)
  Clock::time_point drain_deadline;
  DispatcherStats stats;         ///< GUARDED_BY(mu)
  Clock::time_point last_drop_log;
  bool done = false;                 ///< the worker returned; GUARDED_BY(mu)
  std::condition_variable finished;  ///< the destructor: done
  httplib::Client* current = nullptr;  ///< the POST in flight (stopped at the drain's end)
  std::thread worker;

  bool Push(Event event);
  void Run();
  /// Every attempt at one event; true when one succeeded. Called without the lock.
  bool Deliver(const Event& event);
  /// One attempt; the error (empty on success) is returned.
  std::string Attempt(const Event& event, double timeout_s);
  /// Counts and (rate-limited) logs a dropped event. Called with the lock held.
  void Dropped(const Event& event, std::string_view reason, const std::string& error);
  /// The seconds one attempt may take now: the option, cut to what is left of a drain.
  double AttemptTimeout();
};

bool Dispatcher::State::Push(Event event) {
  std::lock_guard lock(mu);
  if (stopping || queue.size() >= options.capacity) {
    Dropped(event, stopping ? "stopped" : "queue full", "");
    return false;
  }
  queue.push_back(std::move(event));
  stats.queued++;
  wake.notify_one();
  return true;
}

void Dispatcher::State::Dropped(const Event& event, std::string_view reason,
                                const std::string& error) {
  stats.dropped++;
  auto now = Clock::now();
  if (stats.dropped > 1 && now - last_drop_log < kDropLogEvery) return;
  last_drop_log = now;
  nlohmann::json fields = {{"sink", options.name},
                           {"reason", reason},
                           {"target", event.target},
                           {"dropped_total", stats.dropped}};
  if (!error.empty()) fields["error"] = error;
  Log(LogLevel::kWarn, "dispatcher.dropped", fields);
}

double Dispatcher::State::AttemptTimeout() {
  std::lock_guard lock(mu);
  if (!stopping) return options.timeout_s;
  double left = std::chrono::duration<double>(drain_deadline - Clock::now()).count();
  return std::min(options.timeout_s, std::max(left, 0.05));
}

std::string Dispatcher::State::Attempt(const Event& event, double timeout_s) {
  if (!event.post) {
    std::error_code ec;
    std::filesystem::path path(event.target);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << event.body << '\n';
    out.flush();
    return out ? "" : "cannot append to " + event.target;
  }
  auto [base, path] = SplitUrl(event.target);
  httplib::Client client(base);
  if (!client.is_valid()) return "not a valid URL";
  auto [sec, usec] = SecondsAndMicros(timeout_s);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  {
    std::lock_guard lock(mu);
    current = &client;
  }
  auto res = client.Post(path, event.body, "application/json");
  {
    std::lock_guard lock(mu);
    current = nullptr;
  }
  if (!res) return httplib::to_string(res.error());
  if (res->status < 200 || res->status >= 300) return "HTTP " + std::to_string(res->status);
  return "";
}

bool Dispatcher::State::Deliver(const Event& event) {
  double backoff = options.first_backoff_s;
  std::string error;
  for (int attempt = 1; attempt <= std::max(options.attempts, 1); attempt++) {
    error = Attempt(event, AttemptTimeout());
    if (error.empty()) return true;
    std::unique_lock lock(mu);
    if (attempt == std::max(options.attempts, 1)) break;
    auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(backoff));
    if (stopping) until = std::min(until, drain_deadline);
    wake.wait_until(lock, until, [&] { return stopping && Clock::now() >= drain_deadline; });
    if (stopping && Clock::now() >= drain_deadline) break;
    stats.retried++;
    backoff = std::min(backoff * 2, kMaxBackoffSeconds);
  }
  std::lock_guard lock(mu);
  Dropped(event, "delivery failed", error);
  return false;
}

void Dispatcher::State::Run() {
  std::unique_lock lock(mu);
  while (true) {
    wake.wait(lock, [&] { return stopping || !queue.empty(); });
    if (queue.empty()) break;  // stopping, nothing left
    if (stopping && Clock::now() >= drain_deadline) {
      for (const auto& e : queue) Dropped(e, "shutdown", "not delivered within the drain time");
      queue.clear();
      break;
    }
    Event event = std::move(queue.front());
    queue.pop_front();
    busy = true;
    lock.unlock();
    bool delivered = Deliver(event);
    lock.lock();
    busy = false;
    if (delivered) stats.delivered++;
    idle.notify_all();
  }
  busy = false;
  done = true;
  idle.notify_all();
  finished.notify_all();
}

std::unique_ptr<Dispatcher> Dispatcher::Start(DispatcherOptions options) {
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  state->options.capacity = std::max<size_t>(state->options.capacity, 1);
  State* raw = state.get();
  state->worker = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(state)));
}

Dispatcher::Dispatcher(std::unique_ptr<State> state) : state_(std::move(state)) {}

Dispatcher::~Dispatcher() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    state_->drain_deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(kDrainSeconds));
    state_->wake.notify_all();
  }
  {
    // A POST in flight when the drain time is up is cut short (its socket shut down).
    std::unique_lock lock(state_->mu);
    auto deadline = state_->drain_deadline + std::chrono::milliseconds(50);
    if (!state_->finished.wait_until(lock, deadline, [&] { return state_->done; }) &&
        state_->current != nullptr) {
      state_->current->stop();
    }
  }
  if (state_->worker.joinable()) state_->worker.join();
}

bool Dispatcher::Post(const std::string& url, std::string body) {
  return state_->Push({true, url, std::move(body)});
}

bool Dispatcher::Append(const std::string& path, std::string line) {
  return state_->Push({false, path, std::move(line)});
}

bool Dispatcher::Flush(double timeout_s) {
  std::unique_lock lock(state_->mu);
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(std::max(timeout_s, 0.0)));
  return state_->idle.wait_until(lock, until,
                                 [&] { return state_->queue.empty() && !state_->busy; });
}

DispatcherStats Dispatcher::stats() const {
  std::lock_guard lock(state_->mu);
  DispatcherStats out = state_->stats;
  out.pending = static_cast<int64_t>(state_->queue.size()) + (state_->busy ? 1 : 0);
  return out;
}

}  // namespace plexus::observe
