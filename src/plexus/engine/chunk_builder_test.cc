#include "plexus/engine/chunk_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace plexus::engine {
namespace {

using Type = ChunkAppender::Type;

std::string Scalar(Connection& conn, std::string_view sql) {
  auto value = conn.QueryScalar(sql);
  EXPECT_TRUE(value.ok()) << sql << ": " << value.status().ToString();
  return value.ok() ? *value : "";
}

// Chunks filled on another thread and appended whole hold exactly the values set: numbers,
// NULLs, texts stored inline (<= 12 bytes) and out of line, copied (the caller's buffer is
// overwritten right after) or referenced; more rows than one chunk holds.
TEST(ChunkBuilderTest, AppendsChunksFilledOnAnotherThread) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("CREATE TABLE t (i BIGINT, b BOOLEAN, d DOUBLE, s VARCHAR, "
                               "r VARCHAR)").ok());
  std::vector<Type> types = {Type::kBigint, Type::kBoolean, Type::kDouble, Type::kVarchar,
                             Type::kVarchar};
  auto appender = (*conn)->MakeChunkAppender("t", types);
  ASSERT_TRUE(appender.ok()) << appender.status().ToString();

  const std::string kept = "a referenced text, longer than twelve bytes";
  constexpr int kRows = 5000;  // two full chunks and part of a third
  std::vector<std::unique_ptr<ChunkBuilder>> filled;
  std::thread producer([&] {
    auto chunk = std::make_unique<ChunkBuilder>(types);
    std::string scratch;
    for (int row = 0; row < kRows; ++row) {
      chunk->SetInt64(0, row);
      chunk->SetBool(1, row % 2 == 0);
      if (row % 7 == 0) chunk->SetNull(2); else chunk->SetDouble(2, row / 2.0);
      scratch = row % 3 == 0 ? "short" + std::to_string(row % 10)
                             : "a text of row " + std::to_string(row) + ", out of line";
      chunk->SetText(3, scratch);
      scratch.assign(scratch.size(), '#');  // the chunk holds its own copy
      if (row % 5 == 0) chunk->SetNull(4); else chunk->SetTextRef(4, kept);
      if (chunk->EndRow()) {
        filled.push_back(std::move(chunk));
        chunk = std::make_unique<ChunkBuilder>(types);
      }
    }
    filled.push_back(std::move(chunk));
  });
  producer.join();
  ASSERT_EQ(filled.size(), 3u);
  EXPECT_EQ(filled[0]->size(), filled[0]->capacity());
  for (auto& chunk : filled) {
    ASSERT_TRUE((*appender)->Append(*chunk).ok());
    EXPECT_EQ(chunk->size(), 0u);  // reset for reuse
  }
  ASSERT_TRUE((*appender)->Close().ok());

  Connection& c = **conn;
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t"), "5000");
  EXPECT_EQ(Scalar(c, "SELECT sum(i) FROM t"), std::to_string(kRows * (kRows - 1) / 2));
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE b"), "2500");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE d IS NULL"), "715");
  EXPECT_EQ(Scalar(c, "SELECT d FROM t WHERE i = 4999"), "2499.5");
  // Inline texts compare equal to the same literal (zero padding), out-of-line ones too.
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE s = 'short3'"), "167");
  EXPECT_EQ(Scalar(c, "SELECT s FROM t WHERE i = 4097"), "a text of row 4097, out of line");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE s LIKE '%#%'"), "0");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE r = '" + kept + "'"), "4000");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE r IS NULL"), "1000");
}

// A reused chunk starts with every row valid again and no rows.
TEST(ChunkBuilderTest, ResetEmptiesTheChunk) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("CREATE TABLE t (s VARCHAR)").ok());
  auto appender = (*conn)->MakeChunkAppender("t", {Type::kVarchar});
  ASSERT_TRUE(appender.ok());
  ChunkBuilder chunk({Type::kVarchar});
  chunk.SetNull(0);
  chunk.EndRow();
  ASSERT_TRUE((*appender)->Append(chunk).ok());
  chunk.SetText(0, "after the reset, a long text");
  chunk.EndRow();
  ASSERT_TRUE((*appender)->Append(chunk).ok());
  ASSERT_TRUE((*appender)->Close().ok());
  EXPECT_EQ(Scalar(**conn, "SELECT count(*) FROM t WHERE s IS NULL"), "1");
  EXPECT_EQ(Scalar(**conn, "SELECT max(s) FROM t"), "after the reset, a long text");
}

// Narrow integer columns get their own widths (a BIGINT write into an INTEGER vector would
// spill into the next row).
TEST(ChunkBuilderTest, NarrowIntegerColumnsHoldTheirValues) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("CREATE TABLE t (a INTEGER, b SMALLINT, c TINYINT)").ok());
  std::vector<Type> types = {Type::kInteger, Type::kSmallint, Type::kTinyint};
  auto appender = (*conn)->MakeChunkAppender("t", types);
  ASSERT_TRUE(appender.ok());
  ChunkBuilder chunk(types);
  for (int row = 0; row < 100; ++row) {
    chunk.SetInt64(0, -2000000000 + row);
    chunk.SetInt64(1, -30000 + row);
    chunk.SetInt64(2, row - 100);
    chunk.EndRow();
  }
  ASSERT_TRUE((*appender)->Append(chunk).ok());
  ASSERT_TRUE((*appender)->Close().ok());
  EXPECT_EQ(Scalar(**conn, "SELECT min(a) || ' ' || max(a) FROM t"), "-2000000000 -1999999901");
  EXPECT_EQ(Scalar(**conn, "SELECT min(b) || ' ' || max(b) FROM t"), "-30000 -29901");
  EXPECT_EQ(Scalar(**conn, "SELECT min(c) || ' ' || max(c) FROM t"), "-100 -1");
}

}  // namespace
}  // namespace plexus::engine
