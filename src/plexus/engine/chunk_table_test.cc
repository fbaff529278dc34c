#include "plexus/engine/chunk_table.h"

#include <gtest/gtest.h>

#include <string>

#include "plexus/engine/chunk_test_rows.h"

namespace plexus::engine {
namespace {

using Type = ChunkAppender::Type;
using test_rows::Scalar;

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

const std::vector<ChunkColumn> kColumns = {{"i", Type::kBigint},
                                           {"b", Type::kBoolean},
                                           {"d", Type::kDouble},
                                           {"s", Type::kVarchar},
                                           {"r", Type::kVarchar}};

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
  Chunks chunks(test_rows::FillRowsOnAnotherThread(kRows));
  ASSERT_TRUE(d.tables->Create("t", kColumns, chunks).ok());
  test_rows::ExpectTheFiveThousandRows(*d.conn);
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(DISTINCT r) FROM t"), "1");
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
  Chunks some(test_rows::FillRowsOnAnotherThread(10));
  ASSERT_TRUE(d.tables->Create("several", kColumns, some).ok());
  EXPECT_EQ(Scalar(*d.conn, "SELECT count(*) FROM several"), "10");
}

// The source's error is Create's, and no table is left; chunks of other types, an existing
// table, or no columns are refused with the reason.
TEST(ChunkTablesTest, RefusesBadInputWithTheReason) {
  Db d = Open();
  Chunks broken(test_rows::FillRowsOnAnotherThread(5000));
  broken.fail_at_ = 1;
  Status s = d.tables->Create("t", kColumns, broken);
  EXPECT_EQ(s.message(), "the source broke");
  EXPECT_FALSE(d.conn->Execute("SELECT * FROM t").ok());

  Chunks other(test_rows::FillRowsOnAnotherThread(3));
  std::vector<ChunkColumn> wrong = kColumns;
  wrong[2].type = Type::kBigint;
  s = d.tables->Create("t", wrong, other);
  EXPECT_NE(s.message().find("column types are not the table's"), std::string::npos) << s.message();
  EXPECT_FALSE(d.conn->Execute("SELECT * FROM t").ok());

  ASSERT_TRUE(d.conn->Execute("CREATE TABLE taken (x INTEGER)").ok());
  Chunks rows(test_rows::FillRowsOnAnotherThread(3));
  s = d.tables->Create("taken", kColumns, rows);
  EXPECT_NE(s.message().find("already exists"), std::string::npos) << s.message();

  Chunks any(test_rows::FillRowsOnAnotherThread(3));
  s = d.tables->Create("t", {}, any);
  EXPECT_NE(s.message().find("at least one column"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace plexus::engine
