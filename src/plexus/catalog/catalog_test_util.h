// File: plexus/catalog/catalog_test_util.h
//
// Test-only helpers for the catalog's tests: a fresh catalog in a scratch home, a small mesh
// built in C++, and a raw SQLite connection to the catalog file (to play the attacker who
// edits it behind the catalog's back).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "plexus/catalog/catalog.h"

namespace plexus::catalog::testing {

/// A fresh, empty home folder for the current test.
inline std::string ScratchHome() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "plexus_catalog_test" /
                              (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// A property built field by field.
inline spec::Property Column(const std::string& name, const std::string& classification = "",
                             const std::string& mask = "") {
  spec::Property p;
  p.name = name;
  p.logical_type = "string";
  p.classification = classification;
  p.mask = mask;
  return p;
}

/// The mesh "shop": domain sales (owners Carol, members carol and dave) with product orders,
/// whose ports `orders` (public, row filter, pii masked by the mesh's rule, amount nulled by
/// its own mask) and `lines` (no visibility: the mesh default, private).
inline spec::Mesh ShopMesh() {
  spec::Mesh mesh;
  mesh.name = "shop";
  mesh.access.default_visibility = "private";
  spec::MaskRule pii;
  pii.mask = "hash";
  pii.clear_for = {"finance"};
  mesh.access.masks["pii"] = pii;
  spec::Domain sales;
  sales.name = "sales";
  sales.owners = {"Carol"};
  sales.members = {"carol", "dave"};
  spec::ProductBundle bundle;
  bundle.product.id = "urn:shop:sales:orders";
  bundle.product.name = "orders";
  bundle.product.version = "1.0.0";
  bundle.product.status = "active";
  for (const std::string port : {"orders", "lines"}) {
    spec::OutputPort out;
    out.name = port;
    out.version = "1.0.0";
    out.contract_id = "urn:shop:sales:orders:" + port;
    bundle.product.output_ports.push_back(out);
    spec::Contract contract;
    contract.id = out.contract_id;
    contract.version = "1.0.0";
    contract.status = "active";
    spec::SchemaObject table;
    table.name = port;
    table.properties = {Column("id"), Column("email", "PII"), Column("amount", "pii", "null")};
    contract.schema.push_back(table);
    if (port == "orders") {
      contract.visibility = "public";
      contract.row_filter = "region = principal_attr('region')";
      contract.row_filter_exempt = {"admin", "auditors"};
    }
    bundle.contracts[contract.id] = contract;
  }
  sales.products.push_back(bundle);
  mesh.domains.push_back(sales);
  return mesh;
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using RawDb = std::unique_ptr<sqlite3, SqliteCloser>;

/// A connection of its own to the catalog file, outside the Catalog.
inline RawDb OpenRaw(const std::string& home) {
  sqlite3* db = nullptr;
  sqlite3_open((home + "/catalog.db").c_str(), &db);
  sqlite3_busy_timeout(db, 5000);
  return RawDb(db);
}

/// Runs SQL on a raw connection; the SQLite error message, or empty on success.
inline std::string Exec(const RawDb& db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
  std::string message = error ? error : "error";
  sqlite3_free(error);
  return message;
}

/// The first column of the first row of a query, as an integer (-1 when no row).
inline int64_t QueryInt(const RawDb& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return -2;
  int64_t out = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return out;
}

/// A test fixture with a fresh catalog in a scratch home, and the shop mesh applied.
class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = ScratchHome();
    auto home = Home::Prepare(home_);
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    auto catalog = Catalog::Open(*home);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
    auto applied = catalog_->Apply(ShopMesh(), "ops");
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  /// Creates a user (asserting it works).
  void CreateUser(const std::string& name) {
    PrincipalRecord p;
    p.name = name;
    p.kind = "user";
    Status created = catalog_->CreatePrincipal(p, "admin");
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  std::string home_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace plexus::catalog::testing
