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
constexpr std::string_view kCarriers[] = {"UPS", "DHL", "PostNL"};
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

/// The orders (id, user_id, order_date spread over 2018-2019 in id order, status). Only the first
/// nine tenths of the customers order. The newest twentieth of the orders is placed or shipped,
/// the last one placed (it has no payment); older ones are completed, some returned.
std::string OrdersSelect(const JaffleOptions& options) {
  const std::string n = std::to_string(options.orders);
  const std::string recent = std::to_string(options.orders - options.orders / 20);
  int64_t ordering = options.customers - std::max<int64_t>(1, options.customers / 10);
  if (ordering < 1) ordering = options.customers;
  return "SELECT i AS id, 1 + " + Draw(options, "i", "user_id", ordering) +
         " AS user_id, DATE '2018-01-01' + ((i - 1) * 730 // " + n +
         ")::INTEGER AS order_date, CASE WHEN i = " + n + " THEN 'placed' WHEN i > " + recent +
         " THEN CASE WHEN h < 50 THEN 'placed' ELSE 'shipped' END WHEN h < 85 THEN 'completed' "
         "WHEN h < 93 THEN 'returned' ELSE 'return_pending' END AS status FROM (SELECT i, " +
         Draw(options, "i", "status", 100) + " AS h FROM range(1, " + n + " + 1) t(i))";
}

/// orders.ndjson: the orders.
std::string OrdersCopySql(const JaffleOptions& options, const fs::path& file) {
  return "COPY (" + OrdersSelect(options) + ") TO " + engine::QuoteLiteral(file.string()) +
         " (FORMAT json)";
}

/// The warehouse system's shipments as Debezium change events (temp table shipment_events:
/// snapshot, lsn, op, before, after, source, ts_ms). Every order but the placed ones has one
/// shipment (shipment_id 10 * order id), shipped the day after the order at 09:00 and ending
/// in_transit (shipped orders), returned, or delivered three days later. The snapshot (op r,
/// taken 2019-11-20 06:00) holds the orders of before 2019-11-19, those of its last three days
/// still in transit; the stream after it takes those to their end, and takes each later order from label_created through
/// in_transit to its end (c, then u with the previous image in `before`). The first order of
/// the stream gets a second label half an hour after its first, deleted (op d, `before` holding
/// the key only, as Debezium's default replica identity gives) an hour later. Positions
/// (source.lsn) follow the snapshot in id order, then the stream in time order.
std::string ShipmentEventsSql(const JaffleOptions& options) {
  const std::string image =
      "{'shipment_id': sid, 'order_id': id, 'carrier': " + ListLiteral(kCarriers) +
      "[1 + id % " + std::to_string(std::size(kCarriers)) + "], ";
  return "CREATE TEMP TABLE shipment_events AS "
         "WITH s AS (SELECT id, 10 * id AS sid, order_date AS d, "
         "CAST(order_date AS TIMESTAMP) + INTERVAL 33 HOUR AS shipped, "
         "CASE status WHEN 'shipped' THEN 'in_transit' WHEN 'returned' THEN 'returned' "
         "ELSE 'delivered' END AS f FROM (" +
         OrdersSelect(options) +
         ") WHERE status <> 'placed'), "
         "streamed AS (SELECT * FROM s WHERE d >= DATE '2019-11-19'), "
         "duplicate AS (SELECT * FROM streamed ORDER BY id LIMIT 1), "
         "steps AS ("
         "SELECT id, sid, 0 AS step, true AS snapshot, 'r' AS op, "
         "CASE WHEN d < DATE '2019-11-16' THEN f ELSE 'in_transit' END AS status, "
         "CASE WHEN d < DATE '2019-11-16' AND f <> 'in_transit' THEN shipped + INTERVAL 3 DAY "
         "ELSE shipped END AS changed, NULL::VARCHAR AS was, NULL::TIMESTAMP AS was_at "
         "FROM s WHERE d < DATE '2019-11-19' "
         "UNION ALL SELECT id, sid, 1, false, 'u', f, shipped + INTERVAL 3 DAY, 'in_transit', "
         "shipped FROM s WHERE d >= DATE '2019-11-16' AND d < DATE '2019-11-19' "
         "AND f <> 'in_transit' "
         "UNION ALL SELECT id, sid, 1, false, 'c', 'label_created', shipped, NULL, NULL "
         "FROM streamed "
         "UNION ALL SELECT id, sid, 2, false, 'u', 'in_transit', shipped + INTERVAL 6 HOUR, "
         "'label_created', shipped FROM streamed "
         "UNION ALL SELECT id, sid, 3, false, 'u', f, shipped + INTERVAL 54 HOUR, 'in_transit', "
         "shipped + INTERVAL 6 HOUR FROM streamed WHERE f <> 'in_transit' "
         "UNION ALL SELECT id, sid + 1, 1, false, 'c', 'label_created', "
         "shipped + INTERVAL 30 MINUTE, NULL, NULL FROM duplicate "
         "UNION ALL SELECT id, sid + 1, 2, false, 'd', NULL, shipped + INTERVAL 90 MINUTE, "
         "'label_created', shipped + INTERVAL 30 MINUTE FROM duplicate), "
         "ordered AS (SELECT *, 1000 + 8 * row_number() OVER (ORDER BY snapshot DESC, "
         "CASE WHEN snapshot THEN id END, changed, id, sid, step) AS lsn FROM steps) "
         "SELECT snapshot, lsn, op, "
         "CASE WHEN op = 'd' THEN {'shipment_id': sid, 'order_id': NULL::BIGINT, "
         "'carrier': NULL::VARCHAR, 'status': NULL::VARCHAR, 'updated_at': NULL::VARCHAR} "
         "WHEN was IS NOT NULL THEN " +
         image +
         "'status': was, 'updated_at': strftime(was_at, '%Y-%m-%dT%H:%M:%S')} END AS before, "
         "CASE WHEN op <> 'd' THEN " +
         image +
         "'status': status, 'updated_at': strftime(changed, '%Y-%m-%dT%H:%M:%S')} END AS after, "
         "{'connector': 'postgresql', 'db': 'warehouse', 'table': 'shipments', 'lsn': lsn} "
         "AS source, epoch_ms(CASE WHEN snapshot THEN TIMESTAMP '2019-11-20 06:00:00' "
         "ELSE changed END) AS ts_ms FROM ordered";
}

/// One file of shipment_events: the snapshot's or the stream's, in position order.
std::string ShipmentEventsCopySql(bool snapshot, const fs::path& file) {
  return std::string("COPY (SELECT op, before, after, source, ts_ms FROM shipment_events WHERE ") +
         (snapshot ? "" : "NOT ") + "snapshot ORDER BY lsn) TO " +
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
  const fs::path changes_dir = fs::path(options.mesh_dir) / "domains/orders/shipments/changes";
  for (const fs::path& dir : {customers_dir, orders_dir, payments_dir, changes_dir}) {
    PLEXUS_RETURN_IF_ERROR(MakeFolder(dir));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open({}));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
  const std::string statements[] = {
      CustomersCopySql(options, customers_dir / "customers.csv"),
      OrdersCopySql(options, orders_dir / "orders.ndjson"),
      PaymentsCopySql(options, payments_dir / "payments.json"),
      ShipmentEventsSql(options),
      ShipmentEventsCopySql(true, changes_dir / "0001-snapshot.ndjson"),
      ShipmentEventsCopySql(false, changes_dir / "0002-stream.ndjson"),
  };
  for (const std::string& sql : statements) {
    Status status = conn->Execute(sql);
    if (!status.ok()) return status.WithPrefix("jaffle generator");
  }
  return Status::OK();
}

}  // namespace plexus::tools
