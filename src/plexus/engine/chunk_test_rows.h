// File: plexus/engine/chunk_test_rows.h (tests of the engine module only)
//
// The rows chunk_builder_test and chunk_table_test store and read back: filled on another
// thread, with numbers, NULLs, texts inline (<= 12 bytes) and out of line, copied (the caller's
// buffer is overwritten right after) or referenced.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "plexus/engine/chunk_builder.h"
#include "plexus/engine/engine.h"

namespace plexus::engine::test_rows {

inline std::string Scalar(Connection& conn, std::string_view sql) {
  auto value = conn.QueryScalar(sql);
  EXPECT_TRUE(value.ok()) << sql << ": " << value.status().ToString();
  return value.ok() ? *value : "";
}

/// i BIGINT, b BOOLEAN, d DOUBLE, s VARCHAR (copied), r VARCHAR (referenced).
inline const std::vector<ChunkAppender::Type> kRowTypes = {
    ChunkAppender::Type::kBigint, ChunkAppender::Type::kBoolean, ChunkAppender::Type::kDouble,
    ChunkAppender::Type::kVarchar, ChunkAppender::Type::kVarchar};
inline const std::string kReferencedText = "a referenced text, longer than twelve bytes";

/// `rows` rows in full chunks and a last partial one (none when `rows` fills them exactly).
inline std::vector<std::unique_ptr<ChunkBuilder>> FillRowsOnAnotherThread(int rows) {
  std::vector<std::unique_ptr<ChunkBuilder>> filled;
  std::thread producer([&] {
    auto chunk = std::make_unique<ChunkBuilder>(kRowTypes);
    std::string scratch;
    for (int row = 0; row < rows; ++row) {
      chunk->SetInt64(0, row);
      chunk->SetBool(1, row % 2 == 0);
      if (row % 7 == 0) chunk->SetNull(2); else chunk->SetDouble(2, row / 2.0);
      scratch = row % 3 == 0 ? "short" + std::to_string(row % 10)
                             : "a text of row " + std::to_string(row) + ", out of line";
      chunk->SetText(3, scratch);
      scratch.assign(scratch.size(), '#');  // the chunk holds its own copy
      if (row % 5 == 0) chunk->SetNull(4); else chunk->SetTextRef(4, kReferencedText);
      if (chunk->EndRow()) {
        filled.push_back(std::move(chunk));
        chunk = std::make_unique<ChunkBuilder>(kRowTypes);
      }
    }
    if (chunk->size() > 0) filled.push_back(std::move(chunk));
  });
  producer.join();
  return filled;
}

/// Table `t` holds exactly FillRowsOnAnotherThread(5000)'s rows.
inline void ExpectTheFiveThousandRows(Connection& c) {
  constexpr int kRows = 5000;
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t"), "5000");
  EXPECT_EQ(Scalar(c, "SELECT sum(i) FROM t"), std::to_string(kRows * (kRows - 1) / 2));
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE b"), "2500");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE d IS NULL"), "715");
  EXPECT_EQ(Scalar(c, "SELECT d FROM t WHERE i = 4999"), "2499.5");
  // Inline texts compare equal to the same literal (zero padding), out-of-line ones too.
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE s = 'short3'"), "167");
  EXPECT_EQ(Scalar(c, "SELECT s FROM t WHERE i = 4998"), "short8");
  EXPECT_EQ(Scalar(c, "SELECT s FROM t WHERE i = 4097"), "a text of row 4097, out of line");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE s LIKE '%#%'"), "0");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE r = '" + kReferencedText + "'"), "4000");
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM t WHERE r IS NULL"), "1000");
}

}  // namespace plexus::engine::test_rows
