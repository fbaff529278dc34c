// Classify: DECLARE, FETCH / MOVE and CLOSE as psql (FETCH_COUNT) and psycopg2 (named
// cursors) send them, and the forms Plexus refuses (scrolling, bad counts).
#include <gtest/gtest.h>

#include "plexus/server/pg_metadata.h"

namespace plexus::server::pg {
namespace {

TEST(ClassifyCursorTest, DeclareAsClientsSendIt) {
  Statement psql = Classify("DECLARE _psql_cursor NO SCROLL CURSOR FOR\nSELECT * FROM a.b.c");
  EXPECT_EQ(psql.kind, StatementKind::kDeclare);
  EXPECT_EQ(psql.name, "_psql_cursor");
  EXPECT_EQ(psql.sql, "SELECT * FROM a.b.c");
  EXPECT_FALSE(psql.hold);
  EXPECT_FALSE(psql.binary);
  Statement psycopg = Classify("DECLARE \"Named Cur\" CURSOR WITHOUT HOLD FOR SELECT 1");
  EXPECT_EQ(psycopg.kind, StatementKind::kDeclare);
  EXPECT_EQ(psycopg.name, "Named Cur");
  EXPECT_EQ(psycopg.sql, "SELECT 1");
  Statement held = Classify("declare c binary insensitive cursor with hold for values (1)");
  EXPECT_TRUE(held.hold);
  EXPECT_TRUE(held.binary);
  EXPECT_EQ(held.sql, "values (1)");
}

TEST(ClassifyCursorTest, DeclareRefusals) {
  EXPECT_EQ(Classify("DECLARE c SCROLL CURSOR FOR SELECT 1").error.sqlstate, "0A000");
  EXPECT_EQ(Classify("DECLARE c CURSOR SELECT 1").error.sqlstate, "42601");
  EXPECT_EQ(Classify("DECLARE c CURSOR FOR").error.sqlstate, "42601");
  EXPECT_EQ(Classify("DECLARE CURSOR FOR SELECT 1").error.sqlstate, "42601");
  EXPECT_EQ(Classify("DECLARE c FANCY CURSOR FOR SELECT 1").error.sqlstate, "42601");
  EXPECT_EQ(Classify("DECLARE \"\" CURSOR FOR SELECT 1").error.sqlstate, "42601");
}

TEST(ClassifyCursorTest, FetchAndMoveCounts) {
  struct Case {
    const char* sql;
    int64_t count;
    const char* name;
  };
  for (const Case& c : {Case{"FETCH FORWARD 1000 FROM _psql_cursor", 1000, "_psql_cursor"},
                        Case{"FETCH c", 1, "c"}, Case{"fetch next in c", 1, "c"},
                        Case{"FETCH 25 c", 25, "c"}, Case{"FETCH ALL FROM c", -1, "c"},
                        Case{"FETCH FORWARD ALL IN c", -1, "c"},
                        Case{"FETCH FORWARD FROM c", 1, "c"}, Case{"FETCH FROM c", 1, "c"},
                        Case{"FETCH +3 FROM \"My C\"", 3, "My C"},
                        Case{"MOVE FORWARD 10 IN c", 10, "c"}}) {
    Statement st = Classify(c.sql);
    ASSERT_EQ(st.kind, StatementKind::kFetch) << c.sql << ": " << st.error.message;
    EXPECT_EQ(st.count, c.count) << c.sql;
    EXPECT_EQ(st.name, c.name) << c.sql;
  }
  EXPECT_EQ(Classify("MOVE 3 FROM c").tag, "MOVE");
  EXPECT_EQ(Classify("FETCH 3 FROM c").tag, "FETCH");
  EXPECT_EQ(Classify("FETCH next").name, "next");  // a cursor named next
}

TEST(ClassifyCursorTest, FetchRefusals) {
  for (const char* backward : {"FETCH PRIOR FROM c", "FETCH BACKWARD 2 FROM c", "FETCH -1 FROM c",
                               "FETCH ABSOLUTE 1 FROM c", "FETCH FIRST FROM c",
                               "FETCH LAST FROM c", "FETCH FORWARD -5 FROM c", "MOVE RELATIVE 2 IN c"}) {
    EXPECT_EQ(Classify(backward).error.sqlstate, "55000") << backward;
  }
  EXPECT_EQ(Classify("FETCH 0 FROM c").error.sqlstate, "0A000");
  EXPECT_EQ(Classify("FETCH 99999999999999999999 FROM c").error.sqlstate, "42601");
  EXPECT_EQ(Classify("FETCH 10 FROM").error.sqlstate, "42601");
  EXPECT_EQ(Classify("FETCH 10 FROM c extra").error.sqlstate, "42601");
  EXPECT_EQ(Classify("FETCH").error.sqlstate, "42601");
}

TEST(ClassifyCursorTest, Close) {
  Statement one = Classify("CLOSE _psql_cursor");
  EXPECT_EQ(one.kind, StatementKind::kCloseCursor);
  EXPECT_EQ(one.name, "_psql_cursor");
  EXPECT_EQ(one.tag, "CLOSE CURSOR");
  Statement all = Classify("close all");
  EXPECT_EQ(all.kind, StatementKind::kCloseCursor);
  EXPECT_TRUE(all.name.empty());
  EXPECT_EQ(all.tag, "CLOSE CURSOR ALL");
  EXPECT_EQ(Classify("CLOSE \"all\"").name, "all");  // a cursor named all
  EXPECT_EQ(Classify("CLOSE").error.sqlstate, "42601");
}

}  // namespace
}  // namespace plexus::server::pg
