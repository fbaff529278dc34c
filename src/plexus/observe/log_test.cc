#include "plexus/observe/log.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace plexus::observe {
namespace {

using nlohmann::json;

TEST(LogLine, TimeLevelAndEventComeFirstThenTheFieldsAsJson) {
  // 2026-11-25T23:50:01.123Z
  std::string line = FormatLogLine(1795650601123, LogLevel::kWarn, "http.request",
                                   {{"status", 200}, {"ms", 1.5}, {"request_id", "abc"}});
  EXPECT_EQ(line.rfind("{\"ts\":\"2026-11-25T23:50:01.123Z\",\"level\":\"warn\","
                       "\"event\":\"http.request\",", 0),
            0u)
      << line;
  json parsed = json::parse(line);
  EXPECT_EQ(parsed["status"], 200);
  EXPECT_EQ(parsed["ms"], 1.5);
  EXPECT_EQ(parsed["request_id"], "abc");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogLine, EscapesQuotesNewlinesControlsAndBadUtf8) {
  std::string nasty = "a \"quoted\"\nline\twith \x01 and bad \xff bytes \\ end";
  std::string line = FormatLogLine(0, LogLevel::kInfo, "ev\"ent\n", {{"message", nasty}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  json parsed = json::parse(line);  // throws if the escaping were wrong
  EXPECT_EQ(parsed["event"], "ev\"ent\n");
  std::string message = parsed["message"];
  EXPECT_NE(message.find("\"quoted\"\nline\twith \x01"), std::string::npos);
  EXPECT_NE(message.find("bad \xEF\xBF\xBD bytes"), std::string::npos);  // U+FFFD
  EXPECT_EQ(parsed["ts"], "1970-01-01T00:00:00.000Z");
}

TEST(LogLine, FieldsCannotOverwriteTheFixedKeys) {
  json parsed = json::parse(
      FormatLogLine(0, LogLevel::kError, "x", {{"level", "debug"}, {"event", "y"}}));
  EXPECT_EQ(parsed["level"], "error");
  EXPECT_EQ(parsed["event"], "x");
  EXPECT_EQ(parsed["_level"], "debug");
  EXPECT_EQ(parsed["_event"], "y");
}

TEST(LogLevels, ParseAndName) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("loud").has_value());
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
}

TEST(RequestIds, NewOnesAreSixteenHexDigitsAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RequestIds, ClientIdsAreCheckedForLengthAndCharacters) {
  EXPECT_TRUE(ValidRequestId("abc-DEF_1.2"));
  EXPECT_TRUE(ValidRequestId(std::string(64, 'a')));
  EXPECT_FALSE(ValidRequestId(""));
  EXPECT_FALSE(ValidRequestId(std::string(65, 'a')));
  EXPECT_FALSE(ValidRequestId("a b"));
  EXPECT_FALSE(ValidRequestId("a\nb"));
  EXPECT_FALSE(ValidRequestId("\"x\""));
}

TEST(LogFile, LinesFromManyThreadsNeverInterleaveAndLevelsFilter) {
  auto path = std::filesystem::temp_directory_path() /
              ("plexus_log_test_" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  ASSERT_TRUE(SetLogFile(path.string()).ok());
  SetLogLevel(LogLevel::kInfo);
  Log(LogLevel::kDebug, "dropped");
  constexpr int kThreads = 8, kLines = 300;
  std::vector<std::thread> threads;
  std::string long_text(3000, 'x');  // longer than a pipe's atomic write
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &long_text] {
      for (int i = 0; i < kLines; ++i) {
        Log(LogLevel::kInfo, "test.line", {{"thread", t}, {"i", i}, {"text", long_text}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(SetLogFile("").ok());
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    json parsed = json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << line.substr(0, 200);
    EXPECT_EQ(parsed["event"], "test.line");
    ++count;
  }
  EXPECT_EQ(count, kThreads * kLines);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  std::filesystem::remove(path);
}

TEST(LogFile, AnUnwritablePathIsAnErrorAndKeepsTheDestination) {
  Status s = SetLogFile("/nonexistent-dir/plexus.log");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("/nonexistent-dir/plexus.log"), std::string::npos);
}

}  // namespace
}  // namespace plexus::observe

namespace plexus::observe {
namespace {

TEST(SchedulerLines, RunLinesBecomeStructuredFields) {
  auto ok = SchedulerLineFields(
      "plexus: run sales.orders (schedule, attempt 2): succeeded, orders: 42 rows, "
      "order_lines: 7 rows (0.31s)");
  EXPECT_EQ(ok["event"], "pipeline.run");
  EXPECT_EQ(ok["product"], "sales.orders");
  EXPECT_EQ(ok["trigger"], "schedule");
  EXPECT_EQ(ok["attempt"], 2);
  EXPECT_EQ(ok["status"], "succeeded");
  EXPECT_EQ(ok["rows"]["orders"], 42);
  EXPECT_EQ(ok["rows"]["order_lines"], 7);
  EXPECT_DOUBLE_EQ(ok["seconds"].get<double>(), 0.31);

  auto failed = SchedulerLineFields(
      "plexus: run sales.orders (cron): failed: quality rule row_count: 0 < 1 (1.50s)");
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["attempt"], 1);
  EXPECT_EQ(failed["reason"], "quality rule row_count: 0 < 1");

  auto start = SchedulerLineFields(
      "plexus: run sales.orders (manual): could not start: the data file is locked");
  EXPECT_EQ(start["status"], "could_not_start");
  EXPECT_EQ(start["reason"], "the data file is locked");

  auto warning = SchedulerLineFields("plexus: warning: sales.orders: schedule.cron: bad field");
  EXPECT_EQ(warning["event"], "pipeline.warning");
  EXPECT_EQ(warning["message"], "plexus: warning: sales.orders: schedule.cron: bad field");
  EXPECT_EQ(SchedulerLineFields("plexus: stream a.b paused: why")["event"], "pipeline.stream");
}

}  // namespace
}  // namespace plexus::observe
