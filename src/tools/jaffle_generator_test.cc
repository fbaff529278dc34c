#include "tools/jaffle_generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "plexus/engine/engine.h"

namespace plexus::tools {
namespace {

namespace fs = std::filesystem;

/// A fresh folder below the system's temporary folder, removed with its content at scope end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("plexus-jaffle-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* const kSeedFiles[] = {
    "domains/customers/customers/data/customers.csv",
    "domains/orders/orders/data/orders.ndjson",
    "domains/payments/payments/data/payments.json",
    "domains/orders/shipments/changes/0001-snapshot.ndjson",
    "domains/orders/shipments/changes/0002-stream.ndjson",
};

/// Generated seed files read back through DuckDB as views customers, orders and payments.
class JaffleSeedsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GenerateJaffleSeeds({.mesh_dir = dir_.path().string()}).ok());
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    const fs::path& d = dir_.path();
    Exec("CREATE VIEW customers AS SELECT * FROM read_csv(" +
         engine::QuoteLiteral((d / kSeedFiles[0]).string()) + ", header = true)");
    Exec("CREATE VIEW orders AS SELECT * FROM read_json(" +
         engine::QuoteLiteral((d / kSeedFiles[1]).string()) + ", format = 'newline_delimited')");
    Exec("CREATE VIEW payments AS SELECT * FROM read_json(" +
         engine::QuoteLiteral((d / kSeedFiles[2]).string()) + ", format = 'array')");
    Exec("CREATE VIEW events AS SELECT *, filename LIKE '%snapshot%' AS in_snapshot FROM "
         "read_json([" + engine::QuoteLiteral((d / kSeedFiles[3]).string()) + ", " +
         engine::QuoteLiteral((d / kSeedFiles[4]).string()) +
         "], format = 'newline_delimited', filename = true)");
  }

  void Exec(const std::string& sql) {
    Status status = conn_->Execute(sql);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  int64_t Count(const std::string& sql) {
    auto value = conn_->QueryScalar(sql);
    EXPECT_TRUE(value.ok()) << value.status().ToString() << "\n" << sql;
    return value.ok() ? std::stoll(*value) : -1;
  }

  TempDir dir_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

TEST(JaffleGeneratorTest, SameOptionsGiveByteIdenticalFiles) {
  TempDir a, b, c;
  ASSERT_TRUE(GenerateJaffleSeeds({.mesh_dir = a.path().string()}).ok());
  ASSERT_TRUE(GenerateJaffleSeeds({.mesh_dir = b.path().string()}).ok());
  ASSERT_TRUE(GenerateJaffleSeeds({.mesh_dir = c.path().string(), .seed = 7}).ok());
  for (const char* file : kSeedFiles) {
    std::string first = ReadFile(a.path() / file);
    ASSERT_FALSE(first.empty()) << file;
    EXPECT_EQ(first, ReadFile(b.path() / file)) << file;
    EXPECT_NE(first, ReadFile(c.path() / file)) << file;
  }
}

TEST(JaffleGeneratorTest, CommittedExampleSeedsAreTheGeneratorsOutput) {
  TempDir dir;
  ASSERT_TRUE(GenerateJaffleSeeds({.mesh_dir = dir.path().string()}).ok());
  const fs::path example = fs::path(PLEXUS_SOURCE_DIR) / "examples" / "jaffle-mesh";
  for (const char* file : kSeedFiles) {
    EXPECT_EQ(ReadFile(dir.path() / file), ReadFile(example / file))
        << file << " differs: regenerate with `plexus --mesh examples/jaffle-mesh generate`";
  }
}

TEST(JaffleGeneratorTest, RefusesBadOptions) {
  EXPECT_EQ(GenerateJaffleSeeds({}).code(), StatusCode::kInvalidArgument);
  TempDir dir;
  EXPECT_EQ(GenerateJaffleSeeds({.mesh_dir = dir.path().string(), .customers = 0}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateJaffleSeeds({.mesh_dir = dir.path().string(), .orders = -1}).code(),
            StatusCode::kInvalidArgument);
}

TEST(JaffleGeneratorTest, HandlesTinySizes) {
  TempDir dir;
  EXPECT_TRUE(
      GenerateJaffleSeeds({.mesh_dir = dir.path().string(), .customers = 1, .orders = 0}).ok());
  EXPECT_TRUE(
      GenerateJaffleSeeds({.mesh_dir = dir.path().string(), .customers = 1, .orders = 1}).ok());
  EXPECT_NE(ReadFile(dir.path() / kSeedFiles[1]).find("\"status\":\"placed\""), std::string::npos);
}

TEST_F(JaffleSeedsTest, RowCountsAndKeys) {
  EXPECT_EQ(Count("SELECT count(*) FROM customers"), 100);
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM customers"), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM orders"), 600);
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM orders"), 600);
  int64_t payments = Count("SELECT count(*) FROM payments");
  EXPECT_GT(payments, 600 * 105 / 100);  // about 1.15 payments per order
  EXPECT_LT(payments, 600 * 125 / 100);
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM payments"), payments);
  EXPECT_EQ(Count("SELECT max(id) FROM payments"), payments);  // numbered 1..n
  EXPECT_EQ(ReadFile(dir_.path() / kSeedFiles[2]).front(), '[');
}

TEST_F(JaffleSeedsTest, ValuesAreInTheirDomains) {
  EXPECT_EQ(Count("SELECT count(*) FROM orders WHERE user_id NOT BETWEEN 1 AND 100"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM payments WHERE order_id NOT IN (SELECT id FROM orders)"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM orders WHERE status NOT IN "
                  "('placed', 'shipped', 'completed', 'return_pending', 'returned')"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM payments WHERE payment_method NOT IN "
                  "('credit_card', 'coupon', 'bank_transfer', 'gift_card')"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM payments WHERE amount NOT BETWEEN 100 AND 3000"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM customers WHERE email NOT LIKE '%@%'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM orders WHERE order_date NOT BETWEEN '2018-01-01' AND "
                  "'2019-12-31'"),
            0);
}

TEST_F(JaffleSeedsTest, HoldsTheEdgeCases) {
  EXPECT_GE(Count("SELECT count(*) FROM customers c WHERE NOT EXISTS "
                  "(SELECT 1 FROM orders o WHERE o.user_id = c.id)"),
            10);  // the last tenth never orders
  EXPECT_GE(Count("SELECT count(*) FROM orders o WHERE NOT EXISTS "
                  "(SELECT 1 FROM payments p WHERE p.order_id = o.id)"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM payments WHERE order_id = 600"), 0);
  EXPECT_GE(Count("SELECT count(*) FROM (SELECT order_id FROM payments GROUP BY order_id "
                  "HAVING count(*) >= 2)"),
            1);
  EXPECT_GE(Count("SELECT count(*) FROM orders WHERE status = 'returned'"), 1);
  EXPECT_GE(Count("SELECT count(*) FROM orders WHERE status = 'return_pending'"), 1);
}

TEST_F(JaffleSeedsTest, ShipmentEventsEndInOneShipmentPerOrderShipped) {
  // The snapshot holds only reads, the stream only changes, at later positions and times.
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE in_snapshot <> (op = 'r')"), 0);
  EXPECT_EQ(Count("SELECT count(DISTINCT source.lsn) FROM events"),
            Count("SELECT count(*) FROM events"));
  EXPECT_EQ(Count("SELECT count(*) FROM events s, events c WHERE s.in_snapshot AND "
                  "NOT c.in_snapshot AND (s.source.lsn >= c.source.lsn OR s.ts_ms > c.ts_ms)"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT *, lag(ts_ms) OVER (ORDER BY source.lsn) AS p "
                  "FROM events WHERE NOT in_snapshot) WHERE ts_ms < p"),
            0);
  for (const char* op : {"c", "u", "d"}) {
    EXPECT_GE(Count(std::string("SELECT count(*) FROM events WHERE op = '") + op + "'"), 1) << op;
  }
  // Applied by key in position order: one shipment per order that is not placed, in the state
  // its order says (shipped: in transit; returned: returned; else delivered).
  Exec("CREATE VIEW shipments AS SELECT last.* FROM (SELECT arg_max(op, source.lsn) AS op, "
       "arg_max(after, source.lsn) AS last FROM events "
       "GROUP BY coalesce(after.shipment_id, before.shipment_id)) WHERE op <> 'd'");
  EXPECT_EQ(Count("SELECT count(*) FROM shipments"),
            Count("SELECT count(*) FROM orders WHERE status <> 'placed'"));
  EXPECT_EQ(Count("SELECT count(DISTINCT order_id) FROM shipments"),
            Count("SELECT count(*) FROM shipments"));
  EXPECT_EQ(Count("SELECT count(*) FROM shipments s JOIN orders o ON o.id = s.order_id WHERE "
                  "s.status <> CASE o.status WHEN 'shipped' THEN 'in_transit' WHEN 'returned' "
                  "THEN 'returned' ELSE 'delivered' END"),
            0);
  // An update's `before` is the image it replaces.
  EXPECT_EQ(Count("SELECT count(*) FROM events u WHERE op = 'u' AND before <> (SELECT "
                  "arg_max(e.after, e.source.lsn) FROM events e WHERE e.after.shipment_id = "
                  "u.after.shipment_id AND e.source.lsn < u.source.lsn)"),
            0);
}

}  // namespace
}  // namespace plexus::tools
