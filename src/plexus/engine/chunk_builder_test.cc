#include "plexus/engine/chunk_builder.h"

#include <gtest/gtest.h>

#include <string>

#include "plexus/engine/chunk_test_rows.h"

namespace plexus::engine {
namespace {

using Type = ChunkAppender::Type;
using test_rows::Scalar;

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
  auto appender = (*conn)->MakeChunkAppender("t", test_rows::kRowTypes);
  ASSERT_TRUE(appender.ok()) << appender.status().ToString();
  auto filled = test_rows::FillRowsOnAnotherThread(5000);  // two full chunks and part of a third
  ASSERT_EQ(filled.size(), 3u);
  EXPECT_EQ(filled[0]->size(), filled[0]->capacity());
  for (auto& chunk : filled) {
    ASSERT_TRUE((*appender)->Append(*chunk).ok());
    EXPECT_EQ(chunk->size(), 0u);  // reset for reuse
  }
  ASSERT_TRUE((*appender)->Close().ok());
  test_rows::ExpectTheFiveThousandRows(**conn);
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
