// File: plexus/observe/dispatcher.h
//
// Delivers events (OpenLineage run events, alerts) to HTTP endpoints and files off the
// caller's thread: a bounded queue and one worker thread, retries with exponential backoff,
// and events that cannot be queued (queue full) or delivered (every attempt failed) dropped,
// counted and logged. A slow or dead endpoint never slows or fails the caller: Post and Append
// never block on the network.
//
//   auto dispatcher = Dispatcher::Start({.name = "openlineage"});
//   dispatcher->Post("http://127.0.0.1:5000/api/v1/lineage", event.dump());
//   dispatcher->Append("/home/x/.plexus/openlineage.ndjson", event.dump());
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace plexus::observe {

struct DispatcherOptions {
  std::string name = "events";  ///< in log lines and metrics: openlineage, alerts
  size_t capacity = 10000;      ///< events queued at most; more are dropped
  int attempts = 4;             ///< deliveries tried per event before it is dropped
  double first_backoff_s = 0.2; ///< doubles after each failed attempt
  double timeout_s = 5;         ///< connect and read timeout of one POST
};

struct DispatcherStats {
  int64_t queued = 0;     ///< accepted into the queue
  int64_t delivered = 0;
  int64_t retried = 0;    ///< failed attempts that were retried
  int64_t dropped = 0;    ///< queue full, or every attempt failed
  int64_t pending = 0;    ///< in the queue now, or being delivered
};

class Dispatcher {
 public:
  static std::unique_ptr<Dispatcher> Start(DispatcherOptions options);
  /// Delivers what is queued for up to 2 s, then drops the rest (counted, logged).
  ~Dispatcher();

  /// Queues `body` to POST to `url` (Content-Type: application/json; a 2xx is delivered).
  /// False when the queue is full: the event is dropped, counted and logged.
  bool Post(const std::string& url, std::string body);
  /// Queues `line` to append to the file `path` (a newline is added), created if absent.
  bool Append(const std::string& path, std::string line);
  /// Waits until the queue is empty or `timeout_s` passed; true when empty.
  bool Flush(double timeout_s);
  DispatcherStats stats() const;

 private:
  struct State;
  explicit Dispatcher(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace plexus::observe
