// Usage counted from the audit trail: each record once, the columns a statement names, what is
// not usage (refusals, errors, previews, other actions), rows from query.done, and the product's
// usage by reader, column and day.
#include "plexus/discovery/usage.h"

#include <gtest/gtest.h>

#include <ctime>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::discovery {
namespace {

std::string Today(int plus_days = 0) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(plus_days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

/// The shop mesh with distinct columns in its two ports: orders (id, email, amount) and lines
/// (line_id, quantity).
spec::Mesh Shop() {
  spec::Mesh mesh = catalog::testing::ShopMesh();
  for (auto& [id, contract] : mesh.domains[0].products[0].contracts) {
    if (contract.schema[0].name == "lines") {
      contract.schema[0].properties = {catalog::testing::Column("line_id"),
                                       catalog::testing::Column("quantity")};
    }
  }
  return mesh;
}

class UsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto home = catalog::Home::Prepare(catalog::testing::ScratchHome());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    auto opened = catalog::Catalog::Open(*home);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    catalog_ = std::move(opened).value();
    auto applied = catalog_->Apply(Shop(), "ops");
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    auto counter = UsageCounter::Open(catalog_.get());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    counter_ = std::move(counter).value();
  }

  /// Appends one audit record touching sales.orders (unless `products` says otherwise).
  void Audit(const std::string& principal, const std::string& object,
             const std::string& action = "query", const std::string& decision = "allow",
             const std::string& detail = "cli", int64_t rows = -1,
             std::vector<std::string> products = {"sales.orders"}) {
    catalog::AuditRecord r;
    r.principal = principal;
    r.action = action;
    r.object = object;
    r.products = std::move(products);
    r.decision = decision;
    r.detail = detail;
    r.rows = rows;
    auto appended = catalog_->AppendAudit(r);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }

  int64_t Count() {
    auto counted = counter_->Count();
    EXPECT_TRUE(counted.ok()) << counted.status().ToString();
    return counted.ok() ? *counted : -1;
  }

  catalog::ProductUsage Usage(const std::string& since = "") {
    auto usage = catalog_->GetProductUsage("sales.orders", since);
    EXPECT_TRUE(usage.ok()) << usage.status().ToString();
    return usage.ok() ? *usage : catalog::ProductUsage{};
  }

  /// port.column -> queries.
  std::map<std::string, int64_t> Columns() {
    std::map<std::string, int64_t> out;
    for (const auto& c : Usage().columns) out[c.port + "." + c.column] = c.queries;
    return out;
  }

  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<UsageCounter> counter_;
};

TEST_F(UsageTest, EachAuditRecordIsCountedOnce) {
  Audit("dave", "SELECT id FROM sales.orders.orders");
  Audit("dave", "SELECT id FROM sales.orders.orders");
  EXPECT_GE(Count(), 2);  // the apply records too
  EXPECT_EQ(Count(), 0);
  EXPECT_EQ(Usage().total.queries, 2);
  // Another counter (another process) starts from the same cursor.
  auto other = UsageCounter::Open(catalog_.get());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*(*other)->Count(), 0);
  Audit("dave", "SELECT id FROM sales.orders.orders");
  EXPECT_EQ(*(*other)->Count(), 1);
  EXPECT_EQ(Count(), 0);
  EXPECT_EQ(Usage().total.queries, 3);
  EXPECT_EQ(Columns()["orders.id"], 3);
}

TEST_F(UsageTest, CountsTheColumnsAStatementNames) {
  Audit("dave", "SELECT id, AMOUNT FROM sales.orders.orders");
  Audit("dave", "SELECT o.email FROM sales.orders.orders o WHERE o.amount > 1");
  Audit("dave", "SELECT sum(quantity) FROM sales.orders.lines GROUP BY line_id");
  Count();
  EXPECT_EQ(Columns(), (std::map<std::string, int64_t>{{"orders.id", 1},
                                                       {"orders.amount", 2},
                                                       {"orders.email", 1},
                                                       {"lines.quantity", 1},
                                                       {"lines.line_id", 1}}));
}

TEST_F(UsageTest, AStarReadsEveryColumn) {
  Audit("dave", "SELECT * FROM sales.orders.orders");
  Count();
  auto columns = Columns();
  EXPECT_EQ(columns["orders.id"], 1);
  EXPECT_EQ(columns["orders.email"], 1);
  EXPECT_EQ(columns["orders.amount"], 1);
}

TEST_F(UsageTest, AStatementThatDoesNotParseIsAQueryWithoutColumns) {
  Audit("dave", "SELEKT id FROM");
  Count();
  EXPECT_EQ(Usage().total.queries, 1);
  EXPECT_TRUE(Usage().columns.empty());
}

TEST_F(UsageTest, RefusalsErrorsPreviewsAndOtherActionsAreNotUsage) {
  Audit("olga", "SELECT id FROM sales.orders.orders", "query", "deny", "cli: not allowed");
  Audit("dave", "SELECT id FROM sales.orders.orders", "query", "error", "http");
  Audit("dave", "SELECT id FROM sales.orders.orders", "query", "allow", "cli, previewed by ops");
  Audit("dave", "sales.orders", "grant.create");
  Audit("dave", "SELECT 1", "query", "allow", "cli", -1, {});
  Count();
  auto usage = Usage();
  EXPECT_EQ(usage.total.queries, 0);
  EXPECT_TRUE(usage.readers.empty());
  EXPECT_TRUE(usage.columns.empty());
  auto all = catalog_->ListUsage("");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(UsageTest, QueryDoneAddsItsRows) {
  Audit("dave", "SELECT id FROM sales.orders.orders");
  Audit("dave", "", "query.done", "allow", "cli", 42);
  Audit("dave", "", "query.done", "error", "cli", 7);  // a failed stream: not counted
  Count();
  auto usage = Usage();
  EXPECT_EQ(usage.total.queries, 1);
  EXPECT_EQ(usage.total.rows, 42);
  ASSERT_EQ(usage.readers.size(), 1u);
  EXPECT_EQ(usage.readers[0].rows, 42);
}

TEST_F(UsageTest, ReadersColumnsAndDays) {
  Audit("carol", "SELECT amount FROM sales.orders.orders");
  for (int i = 0; i < 3; i++) Audit("dave", "SELECT id, email FROM sales.orders.orders");
  Count();
  auto usage = Usage(Today(-30));
  EXPECT_EQ(usage.product, "sales.orders");
  EXPECT_EQ(usage.total.queries, 4);
  EXPECT_EQ(usage.total.readers, 2);
  ASSERT_EQ(usage.readers.size(), 2u);
  EXPECT_EQ(usage.readers[0].principal, "dave");  // most queries first
  EXPECT_EQ(usage.readers[0].queries, 3);
  EXPECT_EQ(usage.readers[1].principal, "carol");
  EXPECT_FALSE(usage.total.last_at.empty());
  ASSERT_EQ(usage.columns.size(), 3u);
  EXPECT_EQ(usage.columns[0].column, "email");  // most read first, then by name
  EXPECT_EQ(usage.columns[0].queries, 3);
  EXPECT_EQ(usage.columns[2].column, "amount");
  EXPECT_EQ(usage.days, (std::vector<std::pair<std::string, int64_t>>{{Today(), 4}}));
  // A window after today: no reader, no day; the columns are counted since ever.
  auto later = Usage(Today(1));
  EXPECT_EQ(later.total.queries, 0);
  EXPECT_TRUE(later.readers.empty());
  EXPECT_TRUE(later.days.empty());
  EXPECT_EQ(later.columns.size(), 3u);
  auto listed = catalog_->ListUsage(Today());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)["sales.orders"].queries, 4);
  EXPECT_EQ((*listed)["sales.orders"].readers, 2);
}

TEST_F(UsageTest, AColumnReadIsCountedOnceWhenThePortHasTwoMajors) {
  spec::Mesh mesh = Shop();
  auto& bundle = mesh.domains[0].products[0];
  for (auto& port : bundle.product.output_ports) {
    if (port.name == "orders") port.version = "2.0.0";
  }
  for (auto& [id, contract] : bundle.contracts) {
    if (contract.schema[0].name == "orders") contract.version = "2.0.0";
  }
  auto applied = catalog_->Apply(mesh, "ops");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto product = catalog_->GetProduct("sales.orders");
  ASSERT_TRUE(product.ok());
  int orders_majors = 0;
  for (const auto& port : product->outputs) orders_majors += port.name == "orders";
  ASSERT_EQ(orders_majors, 2);
  Audit("dave", "SELECT id FROM sales.orders.orders");
  Count();
  EXPECT_EQ(Columns()["orders.id"], 1);
}

TEST(ColumnsNamedTest, ReadsColumnRefsAndStars) {
  using S = std::set<std::string>;
  EXPECT_EQ(ColumnsNamed(R"({"error": false, "statements": [{"node": {"select_list": [
              {"class": "COLUMN_REF", "column_names": ["t", "Amount"]},
              {"class": "STAR"},
              {"class": "FUNCTION", "children": [{"class": "COLUMN_REF", "column_names": ["id"]}]}
            ]}}]})"),
            (S{"amount", "*", "id"}));
  EXPECT_TRUE(ColumnsNamed(R"({"error": true, "error_message": "syntax"})").empty());
  EXPECT_TRUE(ColumnsNamed("not json").empty());
  EXPECT_TRUE(ColumnsNamed("").empty());
  EXPECT_TRUE(
      ColumnsNamed(R"({"statements": [{"class": "COLUMN_REF", "column_names": []}]})").empty());
}

}  // namespace
}  // namespace plexus::discovery
