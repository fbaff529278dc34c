// plexus_bench: analytical queries over the generated example mesh, each run
// through the platform's query path (QueryService: SqlGuard + rewrite + audit
// trail + hardened engine) and on raw DuckDB over the same tables, side by side
// in one process, interleaved, so machine noise hits both alike. The guarded
// side reads as the home's mesh admin, made a member of the clearFor groups and
// exempt from the row filters, so both sides read the same rows in the clear:
// this measures the platform's path, not masking (access_bench.cc does that).
// Reports the median time of each side per query, the ratio guarded/raw, and
// the geometric mean of the ratios, as JSON and Markdown.
//
//   plexus_bench --home HOME --out bench/results [--repetitions 5]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_home.h"
#include "plexus/access/query_service.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"

namespace {

using plexus::Result;
using plexus::Status;
using plexus::bench::Drain;
using plexus::bench::Median;
using plexus::bench::Physical;

struct BenchQuery {
  const char *name;
  const char *sql; // over logical names; the raw side gets the physical names
};

const BenchQuery kQueries[] = {
    {"count_orders", "SELECT count(*) FROM orders.orders.orders"},
    {"orders_by_status",
     "SELECT status, count(*) AS n FROM orders.orders.orders GROUP BY status "
     "ORDER BY n DESC"},
    {"monthly_orders",
     "SELECT date_trunc('month', order_date) AS month, status, count(*) AS n "
     "FROM orders.orders.orders GROUP BY ALL ORDER BY ALL"},
    {"revenue_by_method", "SELECT payment_method, count(*) AS n, sum(amount) "
                          "AS total, avg(amount) AS mean "
                          "FROM payments.payments.payments GROUP BY "
                          "payment_method ORDER BY total DESC"},
    {"revenue_by_status_join",
     "SELECT o.status, sum(p.amount) AS total FROM orders.orders.orders o "
     "JOIN payments.payments.payments p ON p.order_id = o.order_id GROUP BY "
     "o.status ORDER BY 2"},
    {"top_customers",
     "SELECT c.customer_id, c.first_name, c.last_name, l.lifetime_value "
     "FROM marketing.customer_lifetime_value.customer_lifetime_value l "
     "JOIN customers.customers.customers c USING (customer_id) "
     "ORDER BY l.lifetime_value DESC, c.customer_id LIMIT 20"},
    {"clv_by_country",
     "SELECT c.country, count(*) AS customers, avg(l.lifetime_value) AS "
     "avg_ltv "
     "FROM marketing.customer_lifetime_value.customer_lifetime_value l "
     "JOIN customers.customers.customers c USING (customer_id) GROUP BY "
     "c.country ORDER BY 1"},
    {"distinct_customers_per_month",
     "SELECT date_trunc('month', order_date) AS month, count(DISTINCT "
     "customer_id) AS buyers "
     "FROM orders.orders.orders GROUP BY 1 ORDER BY 1"},
    {"payments_per_order_histogram",
     "SELECT n, count(*) AS orders FROM (SELECT order_id, count(*) AS n "
     "FROM payments.payments.payments GROUP BY order_id) GROUP BY n ORDER BY "
     "n"},
    {"orders_without_payment",
     "SELECT count(*) FROM orders.orders.orders o WHERE NOT EXISTS "
     "(SELECT 1 FROM payments.payments.payments p WHERE p.order_id = "
     "o.order_id)"},
    {"amount_quantiles",
     "SELECT payment_method, quantile_cont(amount, 0.5) AS p50, "
     "quantile_cont(amount, 0.9) AS p90 "
     "FROM payments.payments.payments GROUP BY 1 ORDER BY 1"},
    {"monthly_revenue_growth",
     "WITH monthly AS (SELECT date_trunc('month', o.order_date) AS month, "
     "sum(p.amount) AS revenue "
     "FROM orders.orders.orders o JOIN payments.payments.payments p USING "
     "(order_id) GROUP BY 1) "
     "SELECT month, revenue, revenue - lag(revenue) OVER (ORDER BY month) AS "
     "growth "
     "FROM monthly ORDER BY month"},
};

struct Args {
  std::string home;
  std::string out = "bench/results";
  int repetitions = 5;
};

Status RunBench(const Args &args) {
  PLEXUS_ASSIGN_OR_RETURN(auto bench,
                          plexus::bench::BenchHome::Open(args.home));
  // The mesh admin in every clearFor group, exempt from every row filter: it
  // reads what the raw side reads (same rows, clear values), so the two sides
  // do the same work.
  PLEXUS_ASSIGN_OR_RETURN(plexus::access::Principal admin,
                          bench->ClearReader());
  PLEXUS_ASSIGN_OR_RETURN(auto service, bench->OpenService());
  const auto &ports = bench->ports();
  plexus::engine::Connection &raw = bench->raw();
  plexus::access::QueryRequest request = plexus::bench::BenchRequest(admin);

  // The guard alone, uncached: what a statement costs the first time it is
  // seen.
  PLEXUS_ASSIGN_OR_RETURN(auto guard_conn, bench->raw_database().Connect());
  plexus::access::SqlGuard cold_guard;
  plexus::access::PrincipalResolver resolver(service->policy(), admin,
                                             plexus::catalog::NowUtc());

  nlohmann::json report = {{"benchmark", "guarded_vs_raw_queries"},
                           {"repetitions", args.repetitions},
                           {"queries", nlohmann::json::array()}};
  double log_sum = 0;
  std::string md = "| query | rows | raw median ms | guarded median ms | ratio "
                   "| guard check, uncached, us |\n"
                   "|---|---:|---:|---:|---:|---:|\n";
  for (const auto &q : kQueries) {
    std::string raw_sql = Physical(q.sql, ports);
    std::vector<double> guarded_ms, raw_ms;
    int64_t rows = 0;
    for (int rep = -1; rep < args.repetitions; rep++) { // rep -1 warms both up
      PLEXUS_ASSIGN_OR_RETURN(
          double g, plexus::bench::TimeMillis([&]() -> Status {
            PLEXUS_ASSIGN_OR_RETURN(auto cursor,
                                    service->Query(request, q.sql));
            PLEXUS_ASSIGN_OR_RETURN(rows, Drain(*cursor->result));
            cursor->Finish(rows, Status::OK());
            return Status::OK();
          }));
      PLEXUS_ASSIGN_OR_RETURN(
          double r, plexus::bench::TimeMillis([&]() -> Status {
            PLEXUS_ASSIGN_OR_RETURN(auto result, raw.Query(raw_sql));
            return Drain(*result).status();
          }));
      if (rep >= 0) {
        guarded_ms.push_back(g);
        raw_ms.push_back(r);
      }
    }
    std::vector<double> check_us;
    for (int rep = 0; rep < 50; rep++) {
      PLEXUS_ASSIGN_OR_RETURN(
          double ms, plexus::bench::TimeMillis([&]() -> Status {
            return cold_guard.Check(q.sql, resolver).status();
          }));
      check_us.push_back(ms * 1000);
    }
    double cu = Median(check_us);
    double gm = Median(guarded_ms), rm = Median(raw_ms), ratio = gm / rm;
    log_sum += std::log(ratio);
    report["queries"].push_back({{"name", q.name},
                                 {"rows", rows},
                                 {"raw_median_ms", rm},
                                 {"guarded_median_ms", gm},
                                 {"ratio", ratio},
                                 {"guard_check_uncached_us", cu}});
    char line[256];
    std::snprintf(line, sizeof(line),
                  "| %s | %lld | %.2f | %.2f | %.3f | %.0f |\n", q.name,
                  static_cast<long long>(rows), rm, gm, ratio, cu);
    md += line;
    std::cout << line << std::flush;
  }
  double geomean = std::exp(log_sum / static_cast<double>(std::size(kQueries)));
  report["geometric_mean_ratio"] = geomean;
  report["target"] = "geometric mean ratio <= 1.05";
  report["met"] = geomean <= 1.05;
  char summary[160];
  std::snprintf(summary, sizeof(summary),
                "\nGeometric mean guarded/raw: **%.3f** (target <= 1.05: %s)\n",
                geomean, geomean <= 1.05 ? "met" : "NOT met");
  md = "# Guarded vs raw DuckDB queries\n\n"
       "Each query runs through the platform's query path as the mesh admin, "
       "who reads every\n"
       "port in the clear (pooled session, SqlGuard with its cache of accepted "
       "statements,\n"
       "two audit records, hardened engine) and on raw DuckDB over the same "
       "tables,\n"
       "interleaved; medians of the repetitions after one warm-up. The last "
       "column is the\n"
       "guard's own cost for a statement it has not seen (parse, check, "
       "rewrite), uncached.\n\n" +
       md + summary;
  report["guard_cache_hits"] = service->guard_cache_hits();
  std::cout << summary;
  std::ofstream(args.out + "/guard_bench.json") << report.dump(2) << "\n";
  std::ofstream(args.out + "/guard_bench.md") << md;
  return Status::OK();
}

} // namespace

int main(int argc, char **argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--home")
      args.home = argv[i + 1];
    else if (key == "--out")
      args.out = argv[i + 1];
    else if (key == "--repetitions")
      args.repetitions = std::atoi(argv[i + 1]);
  }
  if (args.home.empty()) {
    std::cerr
        << "usage: plexus_bench --home HOME [--out DIR] [--repetitions N]\n";
    return 2;
  }
  Status status = RunBench(args);
  if (!status.ok()) {
    std::cerr << "plexus_bench: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
