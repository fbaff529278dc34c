// File: plexus/pipeline/cdc_apply_fixture.h (the CDC applier tests' fixture, not part of the
// library)
//
// A DuckDB engine with the domain's data file attached as plx_sales (vacuum off, as
// OpenRunEngine opens it), an applier of the (id, name) port sales.orders/orders
// (cdc_test_port.h), and the helpers the tests read it with; `Event` writes one Debezium
// envelope of that port. Used by cdc_apply_test.cc and cdc_steps_test.cc.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/cdc_test_port.h"

namespace plexus::pipeline {

inline std::string Event(const std::string& op, int id, const std::string& name, int64_t lsn,
                  bool wrapped = false) {
  std::string row = "{\"id\": " + std::to_string(id) + ", \"name\": \"" + name + "\"}";
  std::string payload = "{\"op\": \"" + op + "\", \"before\": " + (op == "c" ? "null" : row) +
                        ", \"after\": " + (op == "d" ? "null" : row) +
                        ", \"source\": {\"lsn\": " + std::to_string(lsn) +
                        "}, \"ts_ms\": 1700000000000}";
  if (!wrapped) return payload;
  return "{\"schema\": {\"type\": \"struct\"}, \"payload\": " + payload + "}";
}

class CdcApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cdc_apply_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    applier_.reset();
    conn_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  /// A fresh engine on the same data file (a restart).
  void Reopen() {
    applier_.reset();
    conn_.reset();
    db_.reset();
    engine::DatabaseOptions options;
    options.vacuum = false;  // as OpenRunEngine: the applier compacts
    auto db = engine::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Execute("ATTACH " + engine::QuoteLiteral((dir_ / "sales.duckdb").string()) +
                               " AS plx_sales").ok());
    if (!plain_applier_) return;
    auto port = internal::OrdersPort(
        {{"id", "BIGINT", true, true}, {"name", "VARCHAR", false, required_name_}});
    auto applier = CdcApplier::Open(conn_.get(), "sales", "orders", "changes", spec_, {port});
    ASSERT_TRUE(applier.ok()) << applier.status().ToString();
    applier_ = std::move(applier).value();
  }

  ApplyReport Apply(const std::vector<std::string>& events, const SourceOffsets& offsets = {}) {
    auto report = applier_->Apply(events, offsets);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : ApplyReport{};
  }

  /// The table as "id:name" lines, by id.
  std::string Rows(const std::string& columns = "id || ':' || coalesce(name, 'NULL')") {
    auto result = conn_->Query("SELECT string_agg(" + columns +
                               ", ',' ORDER BY id) FROM plx_sales.main.orders__orders__v1");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    auto chunk = (*result)->Fetch();
    return (*chunk)->Text(0, 0);
  }

  /// The input `changes`' dead letters' reasons, sorted, joined by " | ".
  std::string DeadLetterReasons() {
    return Scalar("SELECT string_agg(reason, ' | ' ORDER BY reason) FROM "
                  "plx_sales.main.orders__changes__dead_letters");
  }

  std::string Scalar(const std::string& sql) {
    auto v = conn_->QueryScalar(sql);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : "";
  }

  std::filesystem::path dir_;
  spec::CdcSpec spec_;
  bool required_name_ = false;
  bool plain_applier_ = true;  ///< Reopen opens the applier of the (id, name) port
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<CdcApplier> applier_;
};

}  // namespace plexus::pipeline
