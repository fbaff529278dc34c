// The Arrow IPC stream's framing, read back with flatbuffers' untyped table access. The values
// themselves are checked by a real Arrow reader (npm apache-arrow) in tests/http.
#include "plexus/engine/arrow_ipc.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "plexus/engine/result_writer.h"

namespace plexus::engine {
namespace {

namespace fb = flatbuffers;

constexpr fb::voffset_t Slot(int id) { return static_cast<fb::voffset_t>(4 + 2 * id); }

struct Message {
  uint8_t header_type = 0;
  const fb::Table* header = nullptr;
  int64_t body_length = 0;
};

std::unique_ptr<QueryResult> RunSql(std::string_view sql) {
  static auto db = std::move(Database::Open({})).value();
  static auto conn = std::move(db->Connect()).value();
  auto result = conn->Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(result).value();
}

std::string Stream(std::string_view sql) {
  auto result = RunSql(sql);
  std::ostringstream out;
  auto rows = WriteResult(*result, ResultFormat::kArrow, out);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return out.str();
}

/// Reads the messages of `stream`, checking the framing; the schema's field count and the
/// record batches' row counts go to the out-parameters.
void ReadStream(const std::string& stream, size_t& fields, std::vector<int64_t>& batches) {
  size_t pos = 0;
  bool schema = false;
  while (true) {
    ASSERT_LE(pos + 8, stream.size());
    uint32_t prefix[2];
    std::memcpy(prefix, stream.data() + pos, 8);
    ASSERT_EQ(prefix[0], 0xFFFFFFFFu);
    pos += 8;
    if (prefix[1] == 0) break;  // end of stream
    ASSERT_EQ(prefix[1] % 8, 0u) << "metadata not padded to 8 bytes";
    const uint8_t* meta = reinterpret_cast<const uint8_t*>(stream.data() + pos);
    fb::Verifier verifier(meta, prefix[1]);
    const auto* message = fb::GetRoot<fb::Table>(meta);
    ASSERT_TRUE(message->VerifyTableStart(verifier));
    ASSERT_TRUE(message->VerifyOffset(verifier, Slot(2)));
    EXPECT_EQ(message->GetField<int16_t>(Slot(0), 0), 4);  // V5
    uint8_t type = message->GetField<uint8_t>(Slot(1), 0);
    const auto* header = message->GetPointer<const fb::Table*>(Slot(2));
    int64_t body = message->GetField<int64_t>(Slot(3), 0);
    ASSERT_NE(header, nullptr);
    ASSERT_TRUE(header->VerifyTableStart(verifier));
    EXPECT_EQ(body % 8, 0);
    pos += prefix[1];
    if (!schema) {
      ASSERT_EQ(type, 1) << "the first message is the schema";
      schema = true;
      fields = header->GetPointer<const fb::Vector<fb::Offset<fb::Table>>*>(Slot(1))->size();
    } else {
      ASSERT_EQ(type, 3) << "then record batches";
      batches.push_back(header->GetField<int64_t>(Slot(0), 0));
      const auto* buffers = header->GetPointer<const fb::Vector<const int64_t*>*>(Slot(2));
      ASSERT_NE(buffers, nullptr);
    }
    pos += static_cast<size_t>(body);
  }
  EXPECT_EQ(pos, stream.size());
}

TEST(ArrowIpcTest, WritesASchemaThenOneBatchPerChunkThenTheEnd) {
  std::string stream = Stream(
      "SELECT i, i % 3 = 0 AS b, CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || i END AS s, "
      "(i / 100)::DECIMAL(18,2) AS d, DATE '2024-01-01' + i::INT AS day, "
      "TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts, NULL AS nothing "
      "FROM range(5000) t(i)");
  size_t fields = 0;
  std::vector<int64_t> batches;
  ReadStream(stream, fields, batches);
  EXPECT_EQ(fields, 7u);
  int64_t rows = 0;
  for (int64_t n : batches) rows += n;
  EXPECT_EQ(rows, 5000);
  EXPECT_GE(batches.size(), 3u) << "5000 rows come in several chunks";
}

TEST(ArrowIpcTest, AnEmptyResultIsASchemaAndTheEnd) {
  std::string stream = Stream("SELECT 1 AS x WHERE false");
  size_t fields = 0;
  std::vector<int64_t> batches;
  ReadStream(stream, fields, batches);
  EXPECT_EQ(fields, 1u);
  EXPECT_TRUE(batches.empty());
}

TEST(ArrowIpcTest, NestedColumnsCarryTheirChildrenDepthFirst) {
  // tags LIST<VARCHAR>, point STRUCT<x INT, labels LIST<INT>>, attrs MAP<VARCHAR, INT>,
  // pair INT[2]: 4 fields; per batch 1 + (1+1) + (1+1+(1+1)) + (1+1+1+1) + (1+1) = 14 nodes.
  std::string stream = Stream(
      "SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE ['a' || i, NULL] END AS tags, "
      "{'x': i::INT, 'labels': [i::INT, i::INT + 1]} AS point, "
      "MAP {'k' || (i % 3): i::INT} AS attrs, [i::INT, NULL]::INT[2] AS pair "
      "FROM range(3000) t(i)");
  size_t fields = 0;
  std::vector<int64_t> batches;
  ReadStream(stream, fields, batches);
  EXPECT_EQ(fields, 5u);
  int64_t rows = 0;
  for (int64_t n : batches) rows += n;
  EXPECT_EQ(rows, 3000);
}

TEST(ArrowIpcTest, RefusesAnEnumNamingItBeforeWriting) {
  auto result = RunSql("SELECT 1 AS ok, 'b'::ENUM('a', 'b') AS mood");
  std::ostringstream out;
  auto rows = WriteResult(*result, ResultFormat::kArrow, out);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("'mood'"), std::string::npos) << rows.status().message();
  EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace plexus::engine
