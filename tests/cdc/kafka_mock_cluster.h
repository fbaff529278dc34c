// File: tests/cdc/kafka_mock_cluster.h
//
// librdkafka's built-in mock cluster for tests: real Kafka brokers' protocol on 127.0.0.1 TCP
// ports, held in this process, and a producer that writes to chosen partitions.
//
//   std::string error;
//   auto kafka = KafkaMockCluster::Start(/*brokers=*/1, &error);
//   kafka->CreateTopic("orders", 2);
//   kafka->Produce("orders", 0, R"({"op":"c",...})");
//   kafka->Flush();
//   // consumers connect to kafka->bootstrap()
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <optional>
#include <string>

namespace plexus::testing {

class KafkaMockCluster {
 public:
  static std::unique_ptr<KafkaMockCluster> Start(int brokers, std::string* error) {
    auto self = std::unique_ptr<KafkaMockCluster>(new KafkaMockCluster());
    char why[512];
    // A handle that owns the mock cluster (its brokers run on the handle's threads).
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", why, sizeof why);  // it has no brokers to name
    self->owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!self->owner_) {
      *error = why;
      return nullptr;
    }
    self->cluster_ = rd_kafka_mock_cluster_new(self->owner_, brokers);
    if (!self->cluster_) {
      *error = "rd_kafka_mock_cluster_new failed";
      return nullptr;
    }
    self->bootstrap_ = rd_kafka_mock_cluster_bootstraps(self->cluster_);
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", self->bootstrap_.c_str(), why, sizeof why) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "0", why, sizeof why) != RD_KAFKA_CONF_OK) {
      *error = why;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaMockCluster::OnDelivery);
    rd_kafka_conf_set_opaque(conf, self.get());
    self->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!self->producer_) {
      *error = why;
      return nullptr;
    }
    return self;
  }

  ~KafkaMockCluster() {
    if (producer_) {
      rd_kafka_flush(producer_, 5000);
      rd_kafka_destroy(producer_);
    }
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (owner_) rd_kafka_destroy(owner_);
  }

  const std::string& bootstrap() const { return bootstrap_; }

  /// "" or why not.
  std::string CreateTopic(const std::string& topic, int partitions) {
    auto err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
    return err ? rd_kafka_err2str(err) : "";
  }

  /// Queues a message; no value is a tombstone. "" or why not.
  std::string Produce(const std::string& topic, int partition,
                      const std::optional<std::string>& value, const std::string& key = "") {
    // The macros cast their arguments unparenthesized: plain variables only.
    void* payload = value ? const_cast<char*>(value->data()) : nullptr;
    size_t payload_len = value ? value->size() : 0;
    void* key_data = key.empty() ? nullptr : const_cast<char*>(key.data());
    size_t key_len = key.size();
    auto err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(payload, payload_len),
        RD_KAFKA_V_KEY(key_data, key_len), RD_KAFKA_V_END);
    return err ? rd_kafka_err2str(err) : "";
  }

  /// Waits until every queued message is delivered. "" or the first failure.
  std::string Flush() {
    rd_kafka_resp_err_t err = rd_kafka_flush(producer_, 10000);
    if (err) return rd_kafka_err2str(err);
    std::string failed = delivery_error_;
    delivery_error_.clear();
    return failed;
  }

 private:
  KafkaMockCluster() = default;

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<KafkaMockCluster*>(opaque);
    if (msg->err && self->delivery_error_.empty()) {
      self->delivery_error_ = rd_kafka_err2str(msg->err);
    }
  }

  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstrap_;
  std::string delivery_error_;
};

}  // namespace plexus::testing
