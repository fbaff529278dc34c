// File: plexus/pipeline/cdc_kafka.cc
//
// The Kafka change source (librdkafka's C API): every partition of one topic, assigned by hand
// from the offsets the applier committed with the data ("topic/partition" -> next offset; a
// partition without one starts at its beginning), so no consumer-group rebalance can move a
// partition under a running stream and the truth of where the stream is lives in the
// product's own transaction. Acknowledge also commits those offsets to the consumer group
// (asynchronously, best effort) so Kafka's tools show the lag.
//
// Message values are Debezium envelopes (JSON, with or without the schema/payload wrapper),
// passed through as they are: the applier parses them and dead-letters the bad ones. A message
// without a value (a tombstone, which follows a delete in Debezium topics) is skipped and its
// offset counted as read. spec.options are librdkafka properties, set after the defaults
// (group.id plexus-cdc, no auto commit) so they may override them.
//
// Partitions added to the topic after Open are picked up at the next Open.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "plexus/pipeline/cdc.h"

namespace plexus::pipeline {
namespace {

constexpr int kMetadataTimeoutMs = 10000;
constexpr std::chrono::milliseconds kCatchUpWait(10000);

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                         decltype(&rd_kafka_topic_partition_list_destroy)>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)>;
using MetadataPtr =
    std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)>;

class KafkaSource final : public ChangeSource {
 public:
  explicit KafkaSource(spec::CdcSpec spec) : spec_(std::move(spec)) {}

  Status Open(const SourceOffsets& committed) override;
  Result<ChangeBatch> Read(size_t max_events, std::chrono::milliseconds wait) override;
  Status Acknowledge(const SourceOffsets& committed) override;
  std::string Describe() const override {
    return "kafka " + spec_.topic + " (" + spec_.brokers + ")";
  }

 private:
  Status CreateConsumer();
  Result<std::vector<int32_t>> Partitions();
  std::string Key(int32_t partition) const { return spec_.topic + "/" + std::to_string(partition); }
  /// How long Open waits for the brokers: 10 s, or less when socket.timeout.ms says so.
  int MetadataTimeoutMs() const {
    auto it = spec_.options.find("socket.timeout.ms");
    int configured = it == spec_.options.end() ? 0 : std::atoi(it->second.c_str());
    return configured > 0 ? std::min(configured, kMetadataTimeoutMs) : kMetadataTimeoutMs;
  }
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  spec::CdcSpec spec_;
  KafkaPtr rk_;
  /// Whether a partition holds messages not read yet (its next offset is below its high
  /// watermark), so a Read should wait for them even when told not to wait.
  bool Behind();

  SourceOffsets positions_;  ///< topic/partition -> the next offset to read
  /// partition -> [low, high) watermarks, from Open's query, then from the fetches.
  std::map<int32_t, std::pair<int64_t, int64_t>> watermarks_;
  /// partition -> a high watermark waited for in vain (transaction markers are not messages):
  /// not waited for again.
  std::map<int32_t, int64_t> stalled_;
  std::string fatal_;  ///< set by OnError (called from inside poll, on this thread)
  std::string last_error_;
};

void KafkaSource::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    self->fatal_ = why;
    return;
  }
  self->last_error_ = reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
}

Status KafkaSource::CreateConsumer() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char why[512];
  auto set = [&](const std::string& key, const std::string& value) -> Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), why, sizeof why) != RD_KAFKA_CONF_OK) {
      return InvalidArgument(Describe() + ": librdkafka property " + key + ": " + why);
    }
    return Status::OK();
  };
  Status status = set("bootstrap.servers", spec_.brokers);
  if (status.ok()) status = set("group.id", "plexus-cdc");
  if (status.ok()) status = set("client.id", "plexus");
  if (status.ok()) status = set("enable.auto.commit", "false");
  if (status.ok()) status = set("enable.auto.offset.store", "false");
  if (status.ok()) status = set("enable.partition.eof", "false");
  for (const auto& [key, value] : spec_.options) {
    if (status.ok()) status = set(key, value);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_error_cb(conf, &KafkaSource::OnError);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!rk) {
    rd_kafka_conf_destroy(conf);  // only freed by rd_kafka_new on success
    return InvalidArgument(Describe() + ": cannot create a Kafka consumer: " + why);
  }
  rk_.reset(rk);
  rd_kafka_poll_set_consumer(rk);
  return Status::OK();
}

Result<std::vector<int32_t>> KafkaSource::Partitions() {
  TopicPtr topic(rd_kafka_topic_new(rk_.get(), spec_.topic.c_str(), nullptr),
                 &rd_kafka_topic_destroy);
  if (!topic) return Internal(Describe() + ": cannot make a topic handle");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(MetadataTimeoutMs());
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (;;) {
    const rd_kafka_metadata_t* raw = nullptr;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    err = rd_kafka_metadata(rk_.get(), 0, topic.get(), &raw,
                            static_cast<int>(std::max<int64_t>(left.count(), 100)));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      MetadataPtr md(raw, &rd_kafka_metadata_destroy);
      if (md->topic_cnt == 1) {
        const auto& t = md->topics[0];
        if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) {
          std::vector<int32_t> partitions;
          for (int i = 0; i < t.partition_cnt; ++i) partitions.push_back(t.partitions[i].id);
          return partitions;
        }
        err = t.err;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
        err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_poll(rk_.get(), 100);
      continue;
    }
    break;
  }
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return NotFound(Describe() + ": the topic " + spec_.topic + " does not exist");
  }
  std::string why = rd_kafka_err2str(err);
  if (!last_error_.empty()) why += " (" + last_error_ + ")";
  return IOError(Describe() + ": cannot read the topic's partitions: " + why);
}

Status KafkaSource::Open(const SourceOffsets& committed) {
  rk_.reset();
  fatal_.clear();
  last_error_.clear();
  PLEXUS_RETURN_IF_ERROR(CreateConsumer());
  PLEXUS_ASSIGN_OR_RETURN(auto partitions, Partitions());
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())),
                        &rd_kafka_topic_partition_list_destroy);
  positions_.clear();
  for (int32_t p : partitions) {
    auto* tp = rd_kafka_topic_partition_list_add(list.get(), spec_.topic.c_str(), p);
    tp->offset = RD_KAFKA_OFFSET_BEGINNING;
    auto it = committed.find(Key(p));
    if (it == committed.end()) continue;
    char* end = nullptr;
    long long next = std::strtoll(it->second.c_str(), &end, 10);
    if (!end || *end != '\0' || next < 0) {
      return InvalidArgument(Describe() + ": committed offset " + it->first + " = '" + it->second +
                             "' is not an offset");
    }
    tp->offset = next;
    positions_[it->first] = it->second;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return IOError(Describe() + ": cannot assign the partitions: " + rd_kafka_err2str(err));
  }
  // Where the partitions end now: `plexus run` reads up to there before it calls it caught up.
  watermarks_.clear();
  stalled_.clear();
  for (int32_t p : partitions) {
    int64_t low = 0, high = 0;
    err = rd_kafka_query_watermark_offsets(rk_.get(), spec_.topic.c_str(), p, &low, &high,
                                           MetadataTimeoutMs());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return IOError(Describe() + ": cannot read where partition " + std::to_string(p) +
                     " ends: " + rd_kafka_err2str(err));
    }
    watermarks_[p] = {low, high};
  }
  return Status::OK();
}

bool KafkaSource::Behind() {
  bool behind = false;
  for (auto& [p, marks] : watermarks_) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), spec_.topic.c_str(), p, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= marks.second) {
      marks = {low, high};
    }
    auto it = positions_.find(Key(p));
    int64_t next =
        it != positions_.end() ? std::strtoll(it->second.c_str(), nullptr, 10) : marks.first;
    auto stalled = stalled_.find(p);
    if (next < marks.second && (stalled == stalled_.end() || stalled->second < marks.second)) {
      behind = true;
    }
  }
  return behind;
}

Result<ChangeBatch> KafkaSource::Read(size_t max_events, std::chrono::milliseconds wait) {
  if (!rk_) return FailedPrecondition(Describe() + ": read before open");
  if (max_events == 0) max_events = 1;
  ChangeBatch batch;
  // Messages known to be there are waited for (fetching takes a round trip or more).
  bool behind = Behind();
  auto deadline = std::chrono::steady_clock::now() +
                  (behind ? std::max<std::chrono::milliseconds>(wait, kCatchUpWait) : wait);
  bool got_any = false;
  while (batch.events.size() < max_events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // Wait for the first message only: once one came, take what is already there.
    int timeout = got_any ? 0 : static_cast<int>(std::max<int64_t>(left.count(), 0));
    MessagePtr msg(rd_kafka_consumer_poll(rk_.get(), timeout), &rd_kafka_message_destroy);
    if (!fatal_.empty()) return IOError(Describe() + ": " + fatal_);
    if (!msg) {
      if (got_any || std::chrono::steady_clock::now() >= deadline) break;
      continue;
    }
    if (msg->err) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      std::string why = rd_kafka_message_errstr(msg.get());
      if (msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          msg->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
          msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
          msg->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return IOError(Describe() + ": " + why);
      }
      last_error_ = why;  // transient: librdkafka retries
      continue;
    }
    got_any = true;
    positions_[Key(msg->partition)] = std::to_string(msg->offset + 1);
    if (msg->payload == nullptr || msg->len == 0) continue;  // a tombstone
    batch.events.emplace_back(static_cast<const char*>(msg->payload), msg->len);
  }
  if (behind && !got_any) {  // waited in vain: do not wait for these again
    for (const auto& [p, marks] : watermarks_) stalled_[p] = marks.second;
  }
  batch.offsets = positions_;
  return batch;
}

Status KafkaSource::Acknowledge(const SourceOffsets& committed) {
  if (!rk_) return Status::OK();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(committed.size())),
                        &rd_kafka_topic_partition_list_destroy);
  std::string prefix = spec_.topic + "/";
  for (const auto& [key, value] : committed) {
    if (key.rfind(prefix, 0) != 0) continue;
    auto* tp = rd_kafka_topic_partition_list_add(list.get(), spec_.topic.c_str(),
                                                 std::atoi(key.c_str() + prefix.size()));
    tp->offset = std::strtoll(value.c_str(), nullptr, 10);
  }
  if (list->cnt == 0) return Status::OK();
  // Best effort: the offsets the applier committed with the data are the truth.
  rd_kafka_commit(rk_.get(), list.get(), /*async=*/1);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ChangeSource>> MakeKafkaSource(const spec::CdcSpec& spec) {
  std::string where = spec.location.file.empty()
                          ? std::string("kafka cdc input")
                          : spec.location.file + ":" + std::to_string(spec.location.line);
  if (spec.brokers.empty() && !spec.options.count("bootstrap.servers")) {
    return InvalidArgument(where + ": cdc.brokers is required for kafka");
  }
  if (spec.topic.empty()) return InvalidArgument(where + ": cdc.topic is required for kafka");
  return std::unique_ptr<ChangeSource>(std::make_unique<KafkaSource>(spec));
}

}  // namespace plexus::pipeline
