// The Kafka change source against librdkafka's mock cluster (real brokers' protocol over TCP on
// 127.0.0.1, held in this process by tests/cdc/kafka_mock_cluster.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kafka_mock_cluster.h"
#include "plexus/pipeline/cdc.h"

namespace plexus::pipeline {
namespace {

using Json = nlohmann::json;
using plexus::testing::KafkaMockCluster;
using namespace std::chrono_literals;

std::string Envelope(int id, const std::string& op, int64_t pos) {
  Json after = op == "d" ? Json() : Json{{"id", id}, {"name", "n" + std::to_string(id)}};
  Json before = op == "d" ? Json{{"id", id}} : Json();
  return Json{{"op", op},
              {"before", before},
              {"after", after},
              {"source", {{"pos", pos}}},
              {"ts_ms", 1700000000000 + pos}}
      .dump();
}

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    kafka_ = KafkaMockCluster::Start(1, &error);
    ASSERT_TRUE(kafka_) << error;
    ASSERT_EQ(kafka_->CreateTopic("orders", 2), "");
  }

  std::unique_ptr<ChangeSource> Source(std::map<std::string, std::string> options = {}) {
    spec::CdcSpec spec;
    spec.source = "kafka";
    spec.brokers = kafka_->bootstrap();
    spec.topic = "orders";
    spec.options = std::move(options);
    auto source = MakeKafkaSource(spec);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(source).value() : nullptr;
  }

  void Produce(int partition, const std::optional<std::string>& value) {
    ASSERT_EQ(kafka_->Produce("orders", partition, value), "");
  }

  /// Reads until `n` events came (or 10 s passed).
  static std::vector<Json> ReadEvents(ChangeSource* source, size_t n, SourceOffsets* offsets) {
    std::vector<Json> events;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (events.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto batch = source->Read(100, 500ms);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok()) break;
      for (const auto& e : batch->events) events.push_back(Json::parse(e));
      *offsets = batch->offsets;
    }
    return events;
  }

  std::unique_ptr<KafkaMockCluster> kafka_;
};

TEST_F(KafkaSourceTest, ReadsEveryPartitionAndSkipsTombstones) {
  Produce(0, Envelope(1, "c", 1));
  Produce(0, Envelope(2, "c", 2));
  Produce(0, Envelope(1, "u", 3));
  Produce(1, Envelope(3, "c", 4));
  Produce(1, Envelope(3, "d", 5));
  Produce(1, std::nullopt);  // the tombstone after a delete
  // The schema/payload wrapper passes through as it is.
  Produce(1,
          Json{{"schema", Json::object()}, {"payload", Json::parse(Envelope(4, "c", 6))}}.dump());
  ASSERT_EQ(kafka_->Flush(), "");
  auto source = Source();
  ASSERT_TRUE(source->Open({}).ok());
  SourceOffsets offsets;
  auto events = ReadEvents(source.get(), 6, &offsets);
  ASSERT_EQ(events.size(), 6u);
  std::vector<int64_t> p0, p1;
  for (const auto& e : events) {
    const Json& body = e.contains("payload") ? e["payload"] : e;
    (body["source"]["pos"].get<int64_t>() <= 3 ? p0 : p1).push_back(body["source"]["pos"]);
  }
  EXPECT_EQ(p0, (std::vector<int64_t>{1, 2, 3}));  // in order within a partition
  EXPECT_EQ(p1, (std::vector<int64_t>{4, 5, 6}));
  auto quiet = source->Read(100, 200ms);  // nothing more: an empty batch after the wait
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->events.empty());
  offsets = quiet->offsets;
  EXPECT_EQ(offsets, (SourceOffsets{{"orders/0", "3"}, {"orders/1", "4"}}));
}

TEST_F(KafkaSourceTest, ResumesFromCommittedOffsets) {
  for (int i = 1; i <= 4; ++i) Produce(i % 2, Envelope(i, "c", i));
  ASSERT_EQ(kafka_->Flush(), "");
  SourceOffsets offsets;
  {
    auto source = Source();
    ASSERT_TRUE(source->Open({}).ok());
    ASSERT_EQ(ReadEvents(source.get(), 4, &offsets).size(), 4u);
    ASSERT_TRUE(source->Acknowledge(offsets).ok());
  }
  EXPECT_EQ(offsets, (SourceOffsets{{"orders/0", "2"}, {"orders/1", "2"}}));
  {  // From the committed offsets: only what came after.
    Produce(0, Envelope(5, "c", 5));
    ASSERT_EQ(kafka_->Flush(), "");
    auto source = Source();
    ASSERT_TRUE(source->Open(offsets).ok());
    SourceOffsets after;
    auto events = ReadEvents(source.get(), 1, &after);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["after"]["id"], 5);
    auto more = source->Read(100, 300ms);
    ASSERT_TRUE(more.ok());
    EXPECT_TRUE(more->events.empty());
    EXPECT_EQ(more->offsets.at("orders/0"), "3");
  }
  {  // From an older position (a crash before the commit): read again from there.
    auto source = Source();
    ASSERT_TRUE(source->Open({{"orders/0", "1"}}).ok());
    SourceOffsets again;
    auto events = ReadEvents(source.get(), 4, &again);  // 2 of partition 0, all of 1
    EXPECT_EQ(events.size(), 4u);
    EXPECT_EQ(again, (SourceOffsets{{"orders/0", "3"}, {"orders/1", "2"}}));
  }
}

TEST_F(KafkaSourceTest, BatchesRespectTheMaximumAndTheWait) {
  for (int i = 1; i <= 5; ++i) Produce(0, Envelope(i, "c", i));
  ASSERT_EQ(kafka_->Flush(), "");
  auto source = Source();
  ASSERT_TRUE(source->Open({}).ok());
  size_t total = 0;
  for (int i = 0; i < 50 && total < 5; ++i) {
    auto batch = source->Read(2, 500ms);
    ASSERT_TRUE(batch.ok());
    EXPECT_LE(batch->events.size(), 2u);
    total += batch->events.size();
  }
  EXPECT_EQ(total, 5u);
  auto start = std::chrono::steady_clock::now();
  auto empty = source->Read(10, 300ms);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->events.empty());
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(KafkaSourceTest, ANonWaitingReadStillCatchesUpWithWhatIsThere) {
  // `plexus run` reads without waiting until a read comes back empty: messages already in the
  // topic must come even though fetching them takes a round trip.
  for (int i = 1; i <= 3; ++i) Produce(i % 2, Envelope(i, "c", i));
  ASSERT_EQ(kafka_->Flush(), "");
  auto source = Source();
  ASSERT_TRUE(source->Open({}).ok());
  size_t total = 0;
  for (int i = 0; i < 10; ++i) {
    auto batch = source->Read(100, 0ms);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    if (batch->events.empty()) break;
    total += batch->events.size();
  }
  EXPECT_EQ(total, 3u);
  auto start = std::chrono::steady_clock::now();
  auto caught_up = source->Read(100, 0ms);  // caught up: no wait
  ASSERT_TRUE(caught_up.ok());
  EXPECT_TRUE(caught_up->events.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST_F(KafkaSourceTest, ClearErrors) {
  spec::CdcSpec spec;
  spec.source = "kafka";
  spec.topic = "orders";
  EXPECT_EQ(MakeKafkaSource(spec).status().code(), StatusCode::kInvalidArgument);  // no brokers
  auto bad_option = Source({{"no.such.property", "1"}});
  Status status = bad_option->Open({});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("no.such.property"), std::string::npos) << status.message();

  spec.brokers = "127.0.0.1:1";  // nobody listens there
  spec.options = {{"socket.timeout.ms", "1500"}};
  auto unreachable = MakeKafkaSource(spec);
  ASSERT_TRUE(unreachable.ok());
  status = (*unreachable)->Open({});
  EXPECT_EQ(status.code(), StatusCode::kIOError) << status.ToString();
  EXPECT_NE(status.message().find("127.0.0.1:1"), std::string::npos) << status.message();

  auto bad_offset = Source();
  status = bad_offset->Open({{"orders/0", "x"}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plexus::pipeline
