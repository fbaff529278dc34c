// File: plexus/observe/slo_test_util.h
//
// What the SLO and trust tests share: the catalog tests' shop mesh with slaProperties on its
// `orders` port, applied to a catalog in a scratch home, and real runs and publications. Runs
// are stamped with the clock (Catalog::StartRun), so the tests choose `now` after them: At(s)
// is the time `s` seconds after the test's start.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "plexus/catalog/catalog_test_util.h"
#include "plexus/observe/slo.h"

namespace plexus::observe::testing {

inline spec::SlaProperty Sla(const std::string& property, const std::string& value,
                             const std::string& unit = "", const std::string& element = "") {
  spec::SlaProperty sla;
  sla.property = property;
  sla.value = value;
  sla.unit = unit;
  sla.element = element;
  return sla;
}

/// The shop mesh with `sla` on sales.orders' `orders` port, whose table has a date column
/// placed_at besides id, email and amount.
inline spec::Mesh SloMesh(const std::vector<spec::SlaProperty>& sla) {
  spec::Mesh mesh = catalog::testing::ShopMesh();
  auto& bundle = mesh.domains[0].products[0];
  auto& contract = bundle.contracts["urn:shop:sales:orders:orders"];
  contract.sla = sla;
  spec::Property placed = catalog::testing::Column("placed_at");
  placed.logical_type = "date";
  contract.schema[0].properties.push_back(placed);
  return mesh;
}

class SloTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_path_ = catalog::testing::ScratchHome();
    auto home = catalog::Home::Prepare(home_path_);
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_.emplace(*home);
    auto opened = catalog::Catalog::Open(*home_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    catalog_ = std::move(opened).value();
    start_ = *ParseTime(catalog::NowUtc());
  }

  void Apply(const std::vector<spec::SlaProperty>& sla) {
    auto applied = catalog_->Apply(SloMesh(sla), "ops");
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  catalog::OutputPortRecord Port(const std::string& name = "orders") {
    auto product = catalog_->GetProduct("sales.orders");
    EXPECT_TRUE(product.ok()) << product.status().ToString();
    for (const auto& port : product->outputs) {
      if (port.name == name) return port;
    }
    ADD_FAILURE() << "no port " << name;
    return {};
  }

  /// A successful run that publishes both ports.
  void Publish(int64_t rows = 10) {
    auto run = catalog_->StartRun("urn:shop:sales:orders");
    ASSERT_TRUE(run.ok());
    for (const std::string name : {"orders", "lines"}) {
      ASSERT_TRUE(catalog_->RecordPublication(Port(name), rows, *run).ok());
    }
    ASSERT_TRUE(catalog_->FinishRun(*run, "succeeded", "", rows).ok());
  }

  void Fail() {
    auto run = catalog_->StartRun("urn:shop:sales:orders");
    ASSERT_TRUE(run.ok());
    ASSERT_TRUE(catalog_->FinishRun(*run, "failed", "source unreachable", 0).ok());
  }

  /// The time `seconds` after the test started (ISO 8601, UTC).
  std::string At(double seconds) const { return FormatTime(start_ + seconds); }

  /// Evaluates at `now` and returns the orders port's status of `property` (the first one), or
  /// of the objective written `property` ("30 d on orders.placed_at").
  catalog::SloStatusRecord Evaluate(const std::string& now, const std::string& property,
                                    const SloOptions& options = {}) {
    auto statuses = EvaluateSlos(*catalog_, now, options);
    EXPECT_TRUE(statuses.ok()) << statuses.status().ToString();
    if (!statuses.ok()) return {};
    for (const auto& s : *statuses) {
      if (s.port == "orders" && (s.property == property || s.objective == property)) return s;
    }
    ADD_FAILURE() << "no status of " << property;
    return {};
  }

  std::string home_path_;
  std::optional<catalog::Home> home_;
  std::unique_ptr<catalog::Catalog> catalog_;
  double start_ = 0;
};

}  // namespace plexus::observe::testing
