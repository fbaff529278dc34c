#include "tools/jaffle_generator.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "plexus/engine/engine.h"

namespace plexus::tools {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxRows = 1'000'000'000'000;  // keeps (i - 1) * 730 and 3 * orders in range

constexpr std::string_view kFirstNames[] = {
    "Michael",  "Shawn",  "Kathleen", "Jimmy", "Katherine", "Sarah", "Martin",  "Frank",
    "Jennifer", "Henry",  "Fred",     "Amy",   "Kathleen",  "Steve", "Teresa",  "Amanda",
    "Kimberly", "Johnny", "Virginia", "Anna",  "Willie",    "Sean",  "Mildred", "David",
    "Victor",   "Aaron",  "Andrea",   "Ruth",  "Laura",     "Joyce", "Olivia",  "Noah"};
constexpr std::string_view kLastNames[] = {
    "Perez",  "Harris", "Ortiz",  "Gomez",   "Cooper",  "Jones",  "Reyes",   "Mills",
    "Rogers", "Graham", "Lewis",  "Hughes",  "Ward",    "Morris", "Cruz",    "Hart",
    "Bailey", "Ryan",   "Wagner", "Stewart", "Spencer", "Kim",    "Fisher",  "Diaz",
    "Murray", "Ross",   "Nguyen", "Meyer",   "Schulz",  "Dubois", "Janssen", "Tanaka"};
// Repeats weight the draw: most customers are in the US.
constexpr std::string_view kCountries[] = {"US", "US", "US", "US", "GB", "GB",
                                           "DE", "DE", "FR", "NL", "CA", "AU"};

/// A DuckDB list literal: ['a', 'b'].
std::string ListLiteral(std::span<const std::string_view> items) {
  std::string out = "[";
  for (std::string_view item : items) {
    if (out.size() > 1) out += ", ";
    out += engine::QuoteLiteral(item);
  }
  return out + "]";
}

/// A value in [0, modulus) drawn from (seed, key, tag): the same inputs, the same draw.
std::string Draw(const JaffleOptions& options, std::string_view key, std::string_view tag,
                 int64_t modulus) {
  return "CAST(hash(CAST(" + std::to_string(options.seed) + " AS UBIGINT), " + std::string(key) +
         ", " + engine::QuoteLiteral(tag) + ") % " + std::to_string(modulus) + " AS BIGINT)";
}

/// An item of `items` drawn from (seed, key, tag).
std::string Pick(const JaffleOptions& options, std::string_view key, std::string_view tag,
                 std::span<const std::string_view> items) {
  return ListLiteral(items) + "[1 + " +
         Draw(options, key, tag, static_cast<int64_t>(items.size())) + "]";
}

fs::path ProductData(const JaffleOptions& options, std::string_view domain_and_product) {
  return fs::path(options.mesh_dir) / "domains" / domain_and_product / "data";
}

/// customers.csv: id, first_name, last_name, email (mixed case), country, signup_date (2017).
std::string CustomersCopySql(const JaffleOptions& options, const fs::path& file) {
  const std::string n = std::to_string(options.customers);
  return "COPY (SELECT id, first_name, last_name, "
         "first_name || '.' || last_name || CAST(id AS VARCHAR) || '@Example.com' AS email, "
         "country, signup_date FROM (SELECT i AS id, " +
         Pick(options, "i", "first_name", kFirstNames) + " AS first_name, " +
         Pick(options, "i", "last_name", kLastNames) + " AS last_name, " +
         Pick(options, "i", "country", kCountries) + " AS country, DATE '2017-01-01' + " +
         Draw(options, "i", "signup_date", 365) + "::INTEGER AS signup_date FROM range(1, " + n +
         " + 1) t(i))) TO " + engine::QuoteLiteral(file.string()) + " (FORMAT csv, HEADER true)";
}

/// orders.ndjson: id, user_id, order_date (spread over 2018-2019 in id order), status. Only the
/// first nine tenths of the customers order. The newest twentieth of the orders is placed or
/// shipped, the last one placed (it has no payment); older ones are completed, some returned.
std::string OrdersCopySql(const JaffleOptions& options, const fs::path& file) {
  const std::string n = std::to_string(options.orders);
  const std::string recent = std::to_string(options.orders - options.orders / 20);
  int64_t ordering = options.customers - std::max<int64_t>(1, options.customers / 10);
  if (ordering < 1) ordering = options.customers;
  return "COPY (SELECT i AS id, 1 + " + Draw(options, "i", "user_id", ordering) +
         " AS user_id, DATE '2018-01-01' + ((i - 1) * 730 // " + n +
         ")::INTEGER AS order_date, CASE WHEN i = " + n + " THEN 'placed' WHEN i > " + recent +
         " THEN CASE WHEN h < 50 THEN 'placed' ELSE 'shipped' END WHEN h < 85 THEN 'completed' "
         "WHEN h < 93 THEN 'returned' ELSE 'return_pending' END AS status FROM (SELECT i, " +
         Draw(options, "i", "status", 100) + " AS h FROM range(1, " + n + " + 1) t(i))) TO " +
         engine::QuoteLiteral(file.string()) + " (FORMAT json)";
}

/// payments.json: id, order_id, payment_method, amount in cents (1.00 to 30.00). Each order has
/// three payment slots; a draw per order keeps 0 (3%), 1 (80%), 2 (14%) or 3 (3%) of them, so
/// the rows come out in order without a sort and ids are numbered by a streaming row_number().
std::string PaymentsCopySql(const JaffleOptions& options, const fs::path& file) {
  const std::string n = std::to_string(options.orders);
  const std::string slots = "SELECT j AS slot, (j - 1) // 3 + 1 AS order_id, (j - 1) % 3 AS k " +
                            ("FROM range(1, 3 * " + n + " + 1) s(j)");
  const std::string drawn =
      "SELECT slot, order_id, k, " + Draw(options, "order_id", "payment_count", 100) + " AS hp, " +
      Draw(options, "slot", "payment_method", 100) + " AS hm FROM (" + slots + ")";
  const std::string kept = "SELECT * FROM (" + drawn + ") WHERE k < CASE WHEN order_id = " + n +
                           " THEN 0 WHEN hp < 3 THEN 0 WHEN hp < 83 THEN 1 WHEN hp < 97 THEN 2 "
                           "ELSE 3 END";
  return "COPY (SELECT row_number() OVER () AS id, order_id, CASE WHEN hm < 55 THEN "
         "'credit_card' WHEN hm < 75 THEN 'bank_transfer' WHEN hm < 90 THEN 'coupon' "
         "ELSE 'gift_card' END AS payment_method, 100 + " +
         Draw(options, "slot", "amount", 2901) + " AS amount FROM (" + kept + ")) TO " +
         engine::QuoteLiteral(file.string()) + " (FORMAT json, ARRAY true)";
}

Status ValidateOptions(const JaffleOptions& options) {
  if (options.mesh_dir.empty()) return InvalidArgument("jaffle generator: mesh_dir is empty");
  if (options.customers < 1 || options.customers > kMaxRows) {
    return InvalidArgument("jaffle generator: customers must be between 1 and " +
                           std::to_string(kMaxRows));
  }
  if (options.orders < 0 || options.orders > kMaxRows) {
    return InvalidArgument("jaffle generator: orders must be between 0 and " +
                           std::to_string(kMaxRows));
  }
  return Status::OK();
}

Status MakeFolder(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return IOError("cannot create " + dir.string() + ": " + error.message());
  return Status::OK();
}

}  // namespace

Status GenerateJaffleSeeds(const JaffleOptions& options) {
  PLEXUS_RETURN_IF_ERROR(ValidateOptions(options));
  const fs::path customers_dir = ProductData(options, "customers/customers");
  const fs::path orders_dir = ProductData(options, "orders/orders");
  const fs::path payments_dir = ProductData(options, "payments/payments");
  for (const fs::path& dir : {customers_dir, orders_dir, payments_dir}) {
    PLEXUS_RETURN_IF_ERROR(MakeFolder(dir));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open({}));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
  const std::string statements[] = {
      CustomersCopySql(options, customers_dir / "customers.csv"),
      OrdersCopySql(options, orders_dir / "orders.ndjson"),
      PaymentsCopySql(options, payments_dir / "payments.json"),
  };
  for (const std::string& sql : statements) {
    Status status = conn->Execute(sql);
    if (!status.ok()) return status.WithPrefix("jaffle generator");
  }
  return Status::OK();
}

}  // namespace plexus::tools
