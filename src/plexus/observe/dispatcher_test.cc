// The Dispatcher against real endpoints on 127.0.0.1: delivery, retries of a flaky endpoint,
// a dead and a slow endpoint that never slow the caller (dropped and counted after the
// retries), a full queue, the file transport, and the bounded drain of the destructor.
#include "plexus/observe/dispatcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "plexus/observe/http_receiver_test_util.h"

namespace plexus::observe {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::HttpReceiver;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string ScratchFile(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::path(::testing::TempDir()) / "plexus_observe_test" / info->name();
  std::filesystem::remove_all(dir);
  return (dir / name).string();
}

/// A port nothing listens on: one a server had and gave back.
int ClosedPort() {
  HttpReceiver gone;
  int port = gone.port();
  gone.Stop();
  return port;
}

TEST(DispatcherTest, PostsJsonBodiesInOrder) {
  HttpReceiver receiver;
  auto dispatcher = Dispatcher::Start({.name = "test"});
  for (int i = 0; i < 3; i++) {
    EXPECT_TRUE(dispatcher->Post(receiver.Url(), "{\"n\":" + std::to_string(i) + "}"));
  }
  ASSERT_TRUE(dispatcher->Flush(10));
  auto bodies = receiver.Json(3);
  ASSERT_EQ(bodies.size(), 3u);
  for (int i = 0; i < 3; i++) EXPECT_EQ(bodies[i]["n"], i);
  EXPECT_EQ(receiver.ContentTypes()[0], "application/json");
  DispatcherStats stats = dispatcher->stats();
  EXPECT_EQ(stats.queued, 3);
  EXPECT_EQ(stats.delivered, 3);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.pending, 0);
}

TEST(DispatcherTest, RetriesAFlakyEndpointWithBackoff) {
  HttpReceiver receiver(milliseconds(0), /*fail_first=*/2);
  auto dispatcher = Dispatcher::Start({.name = "test", .attempts = 4, .first_backoff_s = 0.02});
  EXPECT_TRUE(dispatcher->Post(receiver.Url(), "{}"));
  ASSERT_TRUE(dispatcher->Flush(10));
  EXPECT_EQ(receiver.WaitFor(1).size(), 1u);
  EXPECT_EQ(receiver.requests(), 3);
  EXPECT_EQ(dispatcher->stats().retried, 2);
  EXPECT_EQ(dispatcher->stats().delivered, 1);
}

TEST(DispatcherTest, AnUnreachableEndpointNeverSlowsTheCallerAndIsDroppedAfterRetries) {
  std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/lineage";
  auto dispatcher = Dispatcher::Start(
      {.name = "test", .attempts = 3, .first_backoff_s = 0.01, .timeout_s = 0.5});
  auto start = Clock::now();
  for (int i = 0; i < 20; i++) EXPECT_TRUE(dispatcher->Post(url, "{}"));
  EXPECT_LT(SecondsSince(start), 0.05);  // queued, not sent
  ASSERT_TRUE(dispatcher->Flush(20));
  DispatcherStats stats = dispatcher->stats();
  EXPECT_EQ(stats.dropped, 20);
  EXPECT_EQ(stats.retried, 40);  // 3 attempts each: 2 retried
  EXPECT_EQ(stats.delivered, 0);
}

TEST(DispatcherTest, ASlowEndpointTimesOutAndNeverSlowsTheCaller) {
  HttpReceiver slow(milliseconds(3000));
  auto dispatcher = Dispatcher::Start(
      {.name = "test", .attempts = 2, .first_backoff_s = 0.01, .timeout_s = 0.2});
  auto start = Clock::now();
  for (int i = 0; i < 3; i++) EXPECT_TRUE(dispatcher->Post(slow.Url(), "{}"));
  EXPECT_LT(SecondsSince(start), 0.05);
  ASSERT_TRUE(dispatcher->Flush(10));
  EXPECT_LT(SecondsSince(start), 3.0);  // 3 events x 2 attempts x 0.2 s, not 3 s each
  EXPECT_EQ(dispatcher->stats().dropped, 3);
  EXPECT_EQ(dispatcher->stats().retried, 3);
}

TEST(DispatcherTest, AFullQueueDropsAndCountsWithoutBlocking) {
  HttpReceiver slow(milliseconds(2000));
  auto dispatcher = Dispatcher::Start(
      {.name = "test", .capacity = 3, .attempts = 1, .timeout_s = 0.3});
  int refused = 0;
  auto start = Clock::now();
  for (int i = 0; i < 50; i++) refused += dispatcher->Post(slow.Url(), "{}") ? 0 : 1;
  EXPECT_LT(SecondsSince(start), 0.05);
  EXPECT_GE(refused, 46);  // at most one in delivery and three queued
  EXPECT_EQ(dispatcher->stats().dropped, refused);
  EXPECT_EQ(dispatcher->stats().queued, 50 - refused);
}

TEST(DispatcherTest, AppendsLinesToAFileItCreates) {
  std::string path = ScratchFile("sub/events.ndjson");
  auto dispatcher = Dispatcher::Start({.name = "test"});
  EXPECT_TRUE(dispatcher->Append(path, "{\"a\":1}"));
  EXPECT_TRUE(dispatcher->Append(path, "{\"a\":2}"));
  ASSERT_TRUE(dispatcher->Flush(5));
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"}));
}

TEST(DispatcherTest, TheDestructorDrainsForAtMostTwoSeconds) {
  HttpReceiver slow(milliseconds(5000));
  HttpReceiver fast;
  auto start = Clock::now();
  {
    auto dispatcher = Dispatcher::Start(
        {.name = "test", .attempts = 5, .first_backoff_s = 0.5, .timeout_s = 5});
    EXPECT_TRUE(dispatcher->Post(fast.Url(), "{\"first\":true}"));
    for (int i = 0; i < 5; i++) EXPECT_TRUE(dispatcher->Post(slow.Url(), "{}"));
  }
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_EQ(fast.WaitFor(1, 1).size(), 1u);  // what could be delivered was
}

}  // namespace
}  // namespace plexus::observe
