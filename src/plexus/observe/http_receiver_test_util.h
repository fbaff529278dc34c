// File: plexus/observe/http_receiver_test_util.h (tests only)
//
// A real HTTP endpoint for the observe tests: a cpp-httplib server on 127.0.0.1 (a free port)
// that keeps every body POSTed to it, optionally after sleeping (a slow endpoint) or answering
// an error to the first requests (a flaky one).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::observe::testing {

class HttpReceiver {
 public:
  /// `sleep`: how long each request waits before its answer; `fail_first`: how many requests
  /// are answered 503 first.
  explicit HttpReceiver(std::chrono::milliseconds sleep = std::chrono::milliseconds(0),
                        int fail_first = 0)
      : sleep_(sleep), fail_left_(fail_first) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      auto until = std::chrono::steady_clock::now() + sleep_;
      while (!stopping_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      std::lock_guard lock(mu_);
      requests_++;
      if (fail_left_ > 0) {
        fail_left_--;
        res.status = 503;
        return;
      }
      bodies_.push_back(req.body);
      paths_.push_back(req.path);
      content_types_.push_back(req.get_header_value("Content-Type"));
      arrived_.notify_all();
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HttpReceiver() { Stop(); }

  void Stop() {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string Url(const std::string& path = "/events") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  /// Waits until `count` bodies arrived (or `timeout_s` passed); returns the bodies so far.
  std::vector<std::string> WaitFor(size_t count, double timeout_s = 10) {
    std::unique_lock lock(mu_);
    arrived_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                      [&] { return bodies_.size() >= count; });
    return bodies_;
  }
  std::vector<nlohmann::json> Json(size_t count, double timeout_s = 10) {
    std::vector<nlohmann::json> out;
    for (const auto& b : WaitFor(count, timeout_s)) out.push_back(nlohmann::json::parse(b));
    return out;
  }
  std::vector<std::string> ContentTypes() {
    std::lock_guard lock(mu_);
    return content_types_;
  }
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::chrono::milliseconds sleep_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable arrived_;
  int fail_left_ = 0;
  int requests_ = 0;
  std::vector<std::string> bodies_;
  std::vector<std::string> paths_;
  std::vector<std::string> content_types_;
};

}  // namespace plexus::observe::testing
