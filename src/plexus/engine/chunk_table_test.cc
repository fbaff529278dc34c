#include "plexus/engine/chunk_table.h"

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

/// Gives prepared chunks in order; each handed chunk is checked to come back reset before the
/// next is asked for, and then overwritten (as a source reusing it would).
class Chunks : public ChunkSource {
 public:
  explicit Chunks(std::vector<std::unique_ptr<ChunkBuilder>> chunks) : chunks_(std::move(chunks)) {}
  Result<ChunkBuilder*> Next() override {
    if (next_ > 0) {
      ChunkBuilder& read = *chunks_[next_ - 1];
      EXPECT_EQ(read.size(), 0u);  // reset once DuckDB read it
      read.SetInt64(0, -1);        // reused: DuckDB must hold none of it any more
      read.SetText(3, "overwritten, longer than twelve bytes");
      (void)read.EndRow();
    }
    if (fail_at_ >= 0 && next_ == static_cast<size_t>(fail_at_)) {
      return InvalidArgument("the source broke");
    }
    if (next_ == chunks_.size()) return nullptr;
    return chunks_[next_++].get();
  }
  int fail_at_ = -1;

 private:
  std::vector<std::unique_ptr<ChunkBuilder>> chunks_;
  size_t next_ = 0;
};

const std::vector<Type> kTypes = {Type::kBigint, Type::kBoolean, Type::kDouble, Type::kVarchar,
                                  Type::kVarchar};
const std::vector<ChunkColumn> kColumns = {{"i", Type::kBigint},
                                           {"b", Type::kBoolean},
                                           {"d", Type::kDouble},
                                           {"s", Type::kVarchar},
                                           {"r", Type::kVarchar}};
const std::string kKept = "a referenced text, longer than twelve bytes";

/// `rows` rows filled on another thread: numbers, NULLs, texts inline and out of line, copied
/// (the caller's buffer is overwritten right after) or referenced.
std::vector<std::unique_ptr<ChunkBuilder>> Fill(int rows) {
  std::vector<std::unique_ptr<ChunkBuilder>> filled;
  std::thread producer([&] {
    auto chunk = std::make_unique<ChunkBuilder>(kTypes);
    std::string scratch;
    for (int row = 0; row < rows; ++row) {
      chunk->SetInt64(0, row);
      chunk->SetBool(1, row % 2 == 0);
      if (row % 7 == 0) chunk->SetNull(2); else chunk->SetDouble(2, row / 2.0);
      scratch = row % 3 == 0 ? "short" + std::to_string(row % 10)
                             : "a text of row " + std::to_string(row) + ", out of line";
      chunk->SetText(3, scratch);
      scratch.assign(scratch.size(), '#');
      if (row % 5 == 0) chunk->SetNull(4); else chunk->SetTextRef(4, kKept);
      if (chunk->EndRow()) {
        filled.push_back(std::move(chunk));
        chunk = std::make_unique<ChunkBuilder>(kTypes);
      }
    }
    if (chunk->size() > 0) filled.push_back(std::move(chunk));
  });
  producer.join();
  return filled;
}

struct Db {
  std::unique_ptr<Database> db;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<ChunkTables> tables;
};

Db Open() {
  Db d;
  DatabaseOptions options;
  options.hardened = true;
  options.threads = 1;
  auto db = Database::Open(options);
  EXPECT_TRUE(db.ok());
  d.db = std::move(db).value();
  auto conn = d.db->Connect();
  EXPECT_TRUE(conn.ok());
  d.conn = std::move(conn).value();
  auto tables = ChunkTables::Make(*d.conn);
  EXPECT_TRUE(tables.ok()) << tables.status().ToString();
  d.tables = std::move(tables).value();
  return d;
}

// The table holds exactly the rows of the chunks, over several chunks (the source refills each
// after it is read), with the columns' names and types.
TEST(ChunkTablesTest, CreatesTheTableFromTheChunks) {
  Db d = Open();
  constexpr int kRows = 5000;  // two full chunks and part of a third
  Chunks chunks(Fill(kRows));
  ASSERT_TRUE(d.tables->Create("t", kColumns, chunks).ok());
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM t"), "5000");
  EXPECT_EQ(Scalar(*d.conn, "SELECT sum(i) FROM t"), std::to_string(kRows * (kRows - 1) / 2));
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM t WHERE b"), "2500");
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM t WHERE d IS NULL"), "715");
  EXPECT_EQ(Scalar(*d.conn, "SELECT d FROM t WHERE i = 4999"), "2499.5");
  EXPECT_EQ(Scalar(*d.conn, "SELECT s FROM t WHERE i = 4998"), "short8");
  EXPECT_EQ(Scalar(*d.conn, "SELECT s FROM t WHERE i = 4097"), "a text of row 4097, out of line");
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM t WHERE r IS NULL"), "1000");
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(DISTINCT r) FROM t"), "1");
  EXPECT_EQ(Scalar(*d.conn, "SELECT min(r) FROM t"), kKept);
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM t WHERE s LIKE 'overwritten%' OR i < 0"), "0");
  EXPECT_EQ(Scalar(*d.conn, "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY "
                            "ordinal_position) FROM information_schema.columns "
                            "WHERE table_name = 't'"),
            "i BIGINT, b BOOLEAN, d DOUBLE, s VARCHAR, r VARCHAR");
}

// A source with no chunks makes an empty table with the columns; several tables in turn.
TEST(ChunkTablesTest, MakesEmptyTablesAndSeveralInTurn) {
  Db d = Open();
  Chunks none({});
  ASSERT_TRUE(d.tables->Create("empty", kColumns, none).ok());
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM empty"), "0");
  Chunks some(Fill(10));
  ASSERT_TRUE(d.tables->Create("several", kColumns, some).ok());
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM several"), "10");
}

// The source's error is Create's, and no table is left; chunks of other types, an existing
// table, or no columns are refused with the reason.
TEST(ChunkTablesTest, RefusesBadInputWithTheReason) {
  Db d = Open();
  Chunks broken(Fill(5000));
  broken.fail_at_ = 1;
  Status s = d.tables->Create("t", kColumns, broken);
  EXPECT_EQ(s.message(), "the source broke");
  EXPECT_FALSE(d.conn->Execute("SELECT * FROM t").ok());

  Chunks other(Fill(3));
  std::vector<ChunkColumn> wrong = kColumns;
  wrong[2].type = Type::kBigint;
  s = d.tables->Create("t", wrong, other);
  EXPECT_NE(s.message().find("column types are not the table's"), std::string::npos) << s.message();
  EXPECT_FALSE(d.conn->Execute("SELECT * FROM t").ok());

  ASSERT_TRUE(d.conn->Execute("CREATE TABLE taken (x INTEGER)").ok());
  Chunks rows(Fill(3));
  s = d.tables->Create("taken", kColumns, rows);
  EXPECT_NE(s.message().find("already exists"), std::string::npos) << s.message();

  Chunks any(Fill(3));
  s = d.tables->Create("t", {}, any);
  EXPECT_NE(s.message().find("at least one column"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace plexus::engine
