// kafka_mock_tool: holds a librdkafka mock cluster for end-to-end tests and produces what it is
// told. Usage: kafka_mock_tool --topic NAME [--partitions N]
//
// Prints "bootstrap HOST:PORT[,...]" once the cluster listens (on 127.0.0.1), then reads stdin
// one line at a time:
//   {"partition": 0, "key": "k", "value": {...}}   queues a message (value: a JSON value is
//                                                    written as JSON text, a string as is, null
//                                                    or absent is a tombstone)
//   flush                                           waits for delivery; prints "flushed N" or
//                                                    "error WHY"
// The cluster lives until stdin closes.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "kafka_mock_cluster.h"

int main(int argc, char** argv) {
  std::string topic;
  int partitions = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--topic")
      topic = argv[i + 1];
    else if (flag == "--partitions")
      partitions = std::stoi(argv[i + 1]);
  }
  if (topic.empty() || partitions < 1) {
    std::cerr << "usage: kafka_mock_tool --topic NAME [--partitions N]\n";
    return 2;
  }
  std::string error;
  auto kafka = plexus::testing::KafkaMockCluster::Start(1, &error);
  if (!kafka) {
    std::cerr << "kafka_mock_tool: " << error << "\n";
    return 1;
  }
  if (error = kafka->CreateTopic(topic, partitions); !error.empty()) {
    std::cerr << "kafka_mock_tool: create topic: " << error << "\n";
    return 1;
  }
  std::cout << "bootstrap " << kafka->bootstrap() << std::endl;
  std::string line;
  long queued = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    if (line == "flush") {
      std::string failed = kafka->Flush();
      if (failed.empty()) {
        std::cout << "flushed " << queued << std::endl;
      } else {
        std::cout << "error " << failed << std::endl;
      }
      queued = 0;
      continue;
    }
    nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_discarded() || !message.is_object()) {
      std::cout << "error not a JSON object: " << line.substr(0, 80) << std::endl;
      continue;
    }
    std::optional<std::string> value;
    if (message.contains("value") && !message["value"].is_null()) {
      value = message["value"].is_string() ? message["value"].get<std::string>()
                                           : message["value"].dump();
    }
    std::string failed =
        kafka->Produce(topic, message.value("partition", 0), value, message.value("key", ""));
    if (!failed.empty()) std::cout << "error " << failed << std::endl;
    ++queued;
  }
  return 0;
}
