// File: plexus/access/guard_test_fixture.h (tests of the access module only)
//
// What the guard's tests share: a real in-memory DuckDB with the test's tables, a connection
// to run guarded SQL on, and a guard on its own parser connection.
//
//   class MyTest : public GuardFixture {
//     void SetUp() override { OpenEngine("ATTACH ':memory:' AS plx_x; CREATE TABLE ..."); }
//   };
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string_view>

#include "plexus/access/sql_guard.h"
#include "plexus/engine/engine.h"

namespace plexus::access {

class GuardFixture : public ::testing::Test {
 protected:
  /// Opens the engine, runs `setup_sql` on conn_ and makes guard_. Fails the
  /// test when any step fails.
  void OpenEngine(std::string_view setup_sql) {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    Status setup = conn_->Execute(setup_sql);
    ASSERT_TRUE(setup.ok()) << setup.ToString();
    guard_ = std::make_unique<SqlGuard>();
  }

  /// The guard and the connections go before the database.
  void TearDown() override {
    guard_.reset();
    conn_.reset();
    db_.reset();
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<SqlGuard> guard_;
};

}  // namespace plexus::access
