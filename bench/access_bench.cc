// File: bench/access_bench.cc
//
// plexus_access_bench: what access control costs a consumer (issue #6), over
// the home that scripts/bench.sh prepares from the example mesh. The consumer
// `bench_consumer` has country=NL and a grant on
// marketing.customer_lifetime_value, so it reads customers.customers with email
// hashed and only the NL rows (rowFilter `country =
// principal_attr('country')`).
//
// (a) Per statement: QueryService::Query up to the cursor being returned, plus
// Cursor::Finish
//     (guard or its cache, rewrite, both audit records, DuckDB's prepare of the
//     rewritten SQL), on a LIMIT 1 statement so execution is negligible, for a
//     statement repeated (cache hits: the dashboard case), for distinct
//     statements never seen (a literal varies) and for
//     statements of a shape never seen (the alias varies too: path_novel, the
//     guard's whole path); p50 and p99 (target p50 < 200 us). Interleaved with the parts, timed alone: one audit append, the
//     guard's check uncached, and the rewritten and hand-written SQL on raw
//     DuckDB.
// (b) Per query: the masked and filtered query through the QueryService against
// the same
//     query with the mask and filter written inline by hand on raw DuckDB (same
//     engine options, same files, physical names, masks.cc's hash expression
//     with the home's salt), alternating, medians of N repetitions, answers
//     compared; the ratio per query and their geometric mean (target <= 1.15).
//     A third column runs the service's rewritten SQL on raw DuckDB: what the
//     rewrite's shape costs the engine, without the service's path.
//
//   plexus_access_bench --home HOME --out bench/results [--statements 2000]
//   [--repetitions 15]
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_home.h"
#include "plexus/access/masks.h"
#include "plexus/access/query_service.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/engine/sql_parse.h"

namespace plexus::bench {
namespace {

constexpr const char *kConsumer = "bench_consumer";
constexpr const char *kCountry = "NL";
constexpr const char *kClvProduct = "marketing.customer_lifetime_value";

struct Args {
  std::string home;
  std::string out = "bench/results";
  int statements = 2000;
  int repetitions = 15;
  bool explain = false; ///< print EXPLAIN ANALYZE of each masked query's sides
                        ///< (has the salt)
};

/// What the benchmark reads with: the service, the consumer, and the
/// hand-written side's salt.
struct Setup {
  std::unique_ptr<BenchHome> bench;
  access::Principal consumer;
  std::unique_ptr<access::QueryService> service;
  std::string
      salt_literal; ///< engine::QuoteLiteral(salt), as masks.cc writes it
};

/// masks.cc's hash mask, written by hand: sha256(<salt literal> ||
/// CAST(<column> AS VARCHAR)).
std::string Hash(const Setup &setup, const std::string &column) {
  return "sha256(" + setup.salt_literal + " || CAST(" + column +
         " AS VARCHAR))";
}

std::string CountryFilter(const std::string &alias) {
  return alias + "country = '" + std::string(kCountry) + "'";
}

// ---- (a) the cost of one statement
// -----------------------------------------------------------

/// The dashboard statement: one masked and filtered port, one row. The literal
/// varies in the select list, so every variant does the same work.
std::string PathStatement(int literal) {
  return "SELECT customer_id, email, country, " + std::to_string(literal) +
         " AS variant FROM customers.customers.customers LIMIT 1";
}

/// A statement whose shape is new every time: the alias changes with the literal too (the
/// guard's whole path, as for path_distinct, with a new output column name).
std::string NovelStatement(int literal) {
  return "SELECT customer_id, email, country, " + std::to_string(literal) + " AS novel_" +
         std::to_string(literal) + " FROM customers.customers.customers LIMIT 1";
}

std::string InlineStatement(const Setup &setup, int literal) {
  return Physical("SELECT customer_id, " + Hash(setup, "email") +
                      " AS email, country, " + std::to_string(literal) +
                      " AS variant FROM customers.customers.customers "
                      "WHERE " +
                      CountryFilter("") + " LIMIT 1",
                  setup.bench->ports());
}

/// One statement through the service: microseconds in Query (to the cursor)
/// plus in Finish; `fetch_us` gets the time reading the row (not part of the
/// path), `rewritten` the SQL run.
Result<double> TimePath(Setup &setup, const std::string &sql, double *fetch_us,
                        double *finish_us, std::string *rewritten) {
  access::QueryRequest request = BenchRequest(setup.consumer);
  auto start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto cursor, setup.service->Query(request, sql));
  double query_us = MicrosSince(start);
  auto fetch_start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(int64_t rows, Drain(*cursor->result));
  *fetch_us = MicrosSince(fetch_start);
  if (rows != 1)
    return Internal("expected one row from: " + sql);
  auto finish_start = Clock::now();
  cursor->Finish(rows, Status::OK());
  *finish_us = MicrosSince(finish_start);
  if (rewritten != nullptr)
    *rewritten = cursor->query.sql;
  return query_us + *finish_us;
}

/// One statement on raw DuckDB, prepare to last row, in microseconds.
Result<double> TimeRaw(engine::Connection &raw, const std::string &sql) {
  auto start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto result, raw.Query(sql));
  PLEXUS_RETURN_IF_ERROR(Drain(*result).status());
  return MicrosSince(start);
}

/// DuckDB's prepare (parse, bind, optimize) alone, in microseconds.
Result<double> TimePrepare(engine::Connection &raw, const std::string &sql) {
  auto start = Clock::now();
  PLEXUS_RETURN_IF_ERROR(raw.Prepare(sql).status());
  return MicrosSince(start);
}

/// One call of the guard's in-process parser (engine::SerializeSql, what
/// json_serialize_sql gives, or engine::DeserializeSql), in microseconds;
/// `value` gets its answer when set.
Result<double> TimeParserCall(bool serialize, const std::string &argument,
                              std::string *value) {
  auto start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(std::string answer,
                          serialize ? engine::SerializeSql(argument)
                                    : engine::DeserializeSql(argument));
  double us = MicrosSince(start);
  if (value != nullptr)
    *value = std::move(answer);
  return us;
}

/// The audit record the service writes before answering, appended alone.
Result<double> TimeAuditAppend(catalog::Catalog &catalog,
                               const std::string &sql) {
  catalog::AuditRecord record;
  record.principal = kConsumer;
  record.action = "query";
  record.object = sql;
  record.products = {"customers.customers"};
  record.decision = "allow";
  record.detail = "bench (audit append alone)";
  auto start = Clock::now();
  PLEXUS_RETURN_IF_ERROR(catalog.AppendAudit(std::move(record)).status());
  return MicrosSince(start);
}

struct Series {
  std::string name;
  std::string what;
  std::vector<double> us;
};

nlohmann::json SeriesJson(const Series &s) {
  return {{"name", s.name},
          {"what", s.what},
          {"samples", s.us.size()},
          {"p50_us", Quantile(s.us, 0.5)},
          {"p90_us", Quantile(s.us, 0.9)},
          {"p99_us", Quantile(s.us, 0.99)},
          {"max_us", Quantile(s.us, 1.0)}};
}

Result<std::vector<Series>> MeasureStatements(Setup &setup, int count) {
  std::vector<Series> s = {
      {"path_repeated",
       "Query + Finish, the same statement (guard cache hit)",
       {}},
      {"path_distinct",
       "Query + Finish, a statement never seen (literal varies)",
       {}},
      {"path_novel",
       "Query + Finish, a statement of a shape never seen (literal and alias vary)",
       {}},
      {"audit_append",
       "catalog->AppendAudit of one query record, alone (the path writes 2)",
       {}},
      {"guard_uncached",
       "SqlGuard::Check + PrincipalResolver, alone, uncached",
       {}},
      {"raw_rewritten",
       "the guard's rewritten SQL on raw DuckDB (prepare + run + fetch)",
       {}},
      {"raw_inline",
       "the hand-written inline SQL on raw DuckDB (prepare + run + fetch)",
       {}},
      {"fetch",
       "reading the one row from the service's cursor (not in path_*)",
       {}},
      {"finish",
       "Cursor::Finish (the query.done audit record), part of path_distinct",
       {}},
      {"prepare_rewritten",
       "DuckDB prepare alone (parse, bind, optimize): rewritten SQL",
       {}},
      {"prepare_inline",
       "DuckDB prepare alone: the hand-written inline SQL",
       {}},
      {"raw_select_1",
       "SELECT 1 on raw DuckDB: the engine's floor per statement",
       {}},
      {"parse_user",
       "engine::SerializeSql of the user's statement alone (parse to JSON, the guard's first step)",
       {}},
      {"render_rewritten",
       "engine::DeserializeSql of the whole rewritten statement's JSON alone (the guard renders "
       "only the user's part per statement, the derived table once per reader)",
       {}},
      {"overhead_repeated", "path_repeated - raw_inline, paired per round", {}},
      {"overhead_distinct",
       "path_distinct - raw_inline, paired per round",
       {}},
      {"overhead_novel", "path_novel - raw_inline, paired per round", {}}};
  PLEXUS_ASSIGN_OR_RETURN(auto guard_conn,
                          setup.bench->raw_database().Connect());
  access::SqlGuard guard;
  std::string repeated = PathStatement(0);
  std::string rewritten;
  double fetch_us = 0, finish_us = 0, ignored = 0;
  for (int i = -50; i < count; i++) { // the first 50 warm everything up
    int literal = i < 0 ? 1000000 + i : 1 + i; // never 0, never twice
    std::string distinct = PathStatement(literal);
    PLEXUS_ASSIGN_OR_RETURN(
        double rep, TimePath(setup, repeated, &ignored, &ignored, nullptr));
    PLEXUS_ASSIGN_OR_RETURN(double dis, TimePath(setup, distinct, &fetch_us,
                                                 &finish_us, nullptr));
    PLEXUS_ASSIGN_OR_RETURN(double novel, TimePath(setup, NovelStatement(literal),
                                                   &ignored, &ignored, nullptr));
    PLEXUS_ASSIGN_OR_RETURN(double audit,
                            TimeAuditAppend(setup.bench->catalog(), distinct));
    auto start = Clock::now();
    access::PrincipalResolver resolver(setup.service->policy(), setup.consumer,
                                       catalog::NowUtc());
    PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery checked, guard.Check(distinct, resolver));
    double check = MicrosSince(start);
    // The parts below time the guard's rewrite: what DuckDB prepares for a statement never seen.
    rewritten = checked.sql;
    PLEXUS_ASSIGN_OR_RETURN(double raw_rw,
                            TimeRaw(setup.bench->raw(), rewritten));
    std::string inline_sql = InlineStatement(setup, literal);
    PLEXUS_ASSIGN_OR_RETURN(double raw_in,
                            TimeRaw(setup.bench->raw(), inline_sql));
    PLEXUS_ASSIGN_OR_RETURN(double prep_rw,
                            TimePrepare(setup.bench->raw(), rewritten));
    PLEXUS_ASSIGN_OR_RETURN(double prep_in,
                            TimePrepare(setup.bench->raw(), inline_sql));
    PLEXUS_ASSIGN_OR_RETURN(double floor,
                            TimeRaw(setup.bench->raw(), "SELECT 1"));
    std::string rewritten_json;
    PLEXUS_ASSIGN_OR_RETURN(double parse,
                            TimeParserCall(true, distinct, nullptr));
    PLEXUS_RETURN_IF_ERROR(
        TimeParserCall(true, rewritten, &rewritten_json).status());
    PLEXUS_ASSIGN_OR_RETURN(double render,
                            TimeParserCall(false, rewritten_json, nullptr));
    if (i < 0)
      continue;
    const double us[] = {rep,      dis,     novel,   audit,        check,
                         raw_rw,   raw_in,  fetch_us, finish_us,   prep_rw,
                         prep_in,  floor,   parse,    render,      rep - raw_in,
                         dis - raw_in, novel - raw_in};
    for (size_t k = 0; k < s.size(); k++)
      s[k].us.push_back(us[k]);
  }
  return s;
}

// ---- (b) masked and filtered queries against the same written by hand
// -------------------------

/// A consumer's query; `{customers}` stands for the customers port, always
/// aliased `c`.
struct MaskedQuery {
  std::string name;
  std::string text; ///< with {customers}
  std::string
      inline_sql; ///< mask and filter by hand; logical names, made physical
  bool ordered;   ///< the answer's order is defined (else compared sorted)
};

std::string WithCustomers(const std::string &text,
                          const std::string &customers) {
  std::string out = text;
  size_t at = out.find("{customers}");
  if (at != std::string::npos)
    out.replace(at, std::string_view("{customers}").size(), customers);
  return out;
}

std::vector<MaskedQuery> MaskedQueries(const Setup &setup) {
  const std::string customers = "customers.customers.customers c";
  const std::string nl = " WHERE " + CountryFilter("c.");
  return {
      {"aggregate_masked_column",
       "SELECT c.country, count(*) AS customers, count(DISTINCT c.email) AS "
       "emails "
       "FROM {customers} GROUP BY 1 ORDER BY 1",
       "SELECT c.country, count(*) AS customers, count(DISTINCT " +
           Hash(setup, "c.email") + ") AS emails FROM " + customers + nl +
           " GROUP BY 1 ORDER BY 1",
       true},
      {"join_orders_filtered",
       "SELECT date_trunc('month', o.order_date) AS month, count(*) AS orders, "
       "count(DISTINCT o.customer_id) AS buyers FROM orders.orders.orders o "
       "JOIN {customers} USING (customer_id) GROUP BY 1 ORDER BY 1",
       "SELECT date_trunc('month', o.order_date) AS month, count(*) AS orders, "
       "count(DISTINCT o.customer_id) AS buyers FROM orders.orders.orders o "
       "JOIN " +
           customers + " USING (customer_id)" + nl + " GROUP BY 1 ORDER BY 1",
       true},
      {"join_clv_filtered",
       "SELECT c.country, count(*) AS customers, sum(l.lifetime_value) AS ltv, "
       "max(l.number_of_orders) AS most_orders "
       "FROM marketing.customer_lifetime_value.customer_lifetime_value l "
       "JOIN {customers} USING (customer_id) GROUP BY 1 ORDER BY 1",
       // lifetime_value is confidential: the mesh's mask sql(round({column}, -1)).
       "SELECT c.country, count(*) AS customers, sum(round(l.lifetime_value, -1)) AS ltv, "
       "max(l.number_of_orders) AS most_orders "
       "FROM marketing.customer_lifetime_value.customer_lifetime_value l "
       "JOIN " +
           customers + " USING (customer_id)" + nl + " GROUP BY 1 ORDER BY 1",
       true},
      {"scan_rows",
       "SELECT c.customer_id, c.first_name, c.last_name, c.email, "
       "c.signup_date "
       "FROM {customers} WHERE c.signup_date >= DATE '2017-07-01'",
       "SELECT c.customer_id, c.first_name, c.last_name, " +
           Hash(setup, "c.email") + " AS email, c.signup_date FROM " +
           customers + nl + " AND c.signup_date >= DATE '2017-07-01'",
       false},
      {"id_range_lookup",
       "SELECT c.customer_id, c.email, c.signup_date FROM {customers} "
       "WHERE c.customer_id BETWEEN 1000 AND 1999 ORDER BY 1",
       "SELECT c.customer_id, " + Hash(setup, "c.email") +
           " AS email, c.signup_date FROM " + customers + nl +
           " AND c.customer_id BETWEEN 1000 AND 1999 ORDER BY 1",
       true},
  };
}

/// The consumer's view of customers as masks.cc writes it, but without the
/// per-column CASE WHEN (filter): what the rewrite would cost the engine
/// without that guard. A diagnostic only: the CASE WHEN is what keeps a
/// pushed-down predicate from meeting a hidden row
/// (docs/adr/0006-access-control.md).
Result<std::string> CustomersWithoutCase(const Setup &setup,
                                         const std::string &salt) {
  for (const auto &port : setup.bench->ports()) {
    if (port.SqlName() != "customers.customers.customers")
      continue;
    std::string select;
    for (const auto &column : port.columns) {
      std::string value = engine::QuoteIdentifier(column.name);
      if (!column.mask.empty() &&
          !setup.consumer.HasAnyRole(column.mask_clear_for)) {
        PLEXUS_ASSIGN_OR_RETURN(
            value, access::MaskExpression(column.mask, column.name,
                                          column.engine_type, salt));
      }
      select += (select.empty() ? "" : ", ") + value + " AS " +
                engine::QuoteIdentifier(column.name);
    }
    std::string filter = port.row_filter;
    const std::string attr = "principal_attr('country')";
    if (filter.find(attr) == std::string::npos) {
      return FailedPrecondition(
          "customers' row filter is not the example mesh's: " + filter);
    }
    filter.replace(filter.find(attr), attr.size(),
                   "'" + std::string(kCountry) + "'");
    return "(SELECT " + select + " FROM " +
           catalog::Home::AttachName(port.domain) + ".main." +
           port.PhysicalTable() + " WHERE (" + filter + ")) c";
  }
  return NotFound("no port customers.customers.customers");
}

/// The sides of one masked query. Guarded runs through the service; the others
/// on raw DuckDB.
enum Side { kGuarded, kInline, kRewritten, kWithoutCase, kSides };

struct SideBySide {
  std::string sql[kSides]; ///< [kGuarded]: the consumer's text; [kRewritten]:
                           ///< the service's
  std::vector<double> ms[kSides];
  int64_t rows = 0;
  bool same_answer = false;
};

/// Runs one side once: milliseconds from the statement to its last row.
Result<double> RunSide(Setup &setup, SideBySide &q, Side side) {
  if (side != kGuarded) {
    return TimeMillis([&]() -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto result,
                              setup.bench->raw().Query(q.sql[side]));
      return Drain(*result).status();
    });
  }
  access::QueryRequest request = BenchRequest(setup.consumer);
  return TimeMillis([&]() -> Status {
    PLEXUS_ASSIGN_OR_RETURN(auto cursor,
                            setup.service->Query(request, q.sql[kGuarded]));
    PLEXUS_ASSIGN_OR_RETURN(q.rows, Drain(*cursor->result));
    cursor->Finish(q.rows, Status::OK());
    q.sql[kRewritten] = cursor->query.sql;
    return Status::OK();
  });
}

/// One warm-up, then `repetitions` rounds of every side, the order reversed
/// every other round.
Status RunSideBySide(Setup &setup, SideBySide &q, int repetitions) {
  for (int rep = -1; rep < repetitions; rep++) {
    for (int k = 0; k < kSides; k++) {
      // The guarded side first in the warm-up: it writes the rewritten SQL the
      // others read.
      auto side =
          static_cast<Side>(rep % 2 == 0 || rep < 0 ? k : kSides - 1 - k);
      PLEXUS_ASSIGN_OR_RETURN(double ms, RunSide(setup, q, side));
      if (rep >= 0)
        q.ms[side].push_back(ms);
    }
  }
  return Status::OK();
}

/// The answers of the guarded and the inline side, compared once, outside the
/// timings.
Result<bool> SameAnswer(Setup &setup, const SideBySide &q, bool ordered) {
  access::QueryRequest request = BenchRequest(setup.consumer);
  PLEXUS_ASSIGN_OR_RETURN(auto cursor,
                          setup.service->Query(request, q.sql[kGuarded]));
  PLEXUS_ASSIGN_OR_RETURN(auto guarded, Rows(*cursor->result, !ordered));
  cursor->Finish(static_cast<int64_t>(guarded.size()), Status::OK());
  PLEXUS_ASSIGN_OR_RETURN(auto result,
                          setup.bench->raw().Query(q.sql[kInline]));
  PLEXUS_ASSIGN_OR_RETURN(auto by_hand, Rows(*result, !ordered));
  return guarded == by_hand && !guarded.empty();
}

/// Prints the plans of the raw sides, with their timings (stdout only: they
/// hold the salt).
Status Explain(Setup &setup, const std::string &name, const SideBySide &q) {
  const char *labels[kSides] = {"guarded", "inline", "rewritten",
                                "without CASE"};
  for (Side k : {kInline, kRewritten, kWithoutCase}) {
    PLEXUS_ASSIGN_OR_RETURN(
        auto result, setup.bench->raw().Query("EXPLAIN ANALYZE " + q.sql[k]));
    PLEXUS_ASSIGN_OR_RETURN(auto rows, Rows(*result, false));
    std::cout << "==== " << name << ": " << labels[k] << "\n";
    for (const auto &row : rows)
      std::cout << row.substr(row.find('\t') + 1) << "\n";
  }
  return Status::OK();
}

// ---- reports
// ---------------------------------------------------------------------------------

std::string Fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

std::string StatementTable(const std::vector<Series> &series) {
  std::string md = "| measure | p50 us | p90 us | p99 us | what "
                   "|\n|---|---:|---:|---:|---|\n";
  for (const auto &s : series) {
    md += "| " + s.name + " | " + Fixed(Quantile(s.us, 0.5), 0) + " | " +
          Fixed(Quantile(s.us, 0.9), 0) + " | " +
          Fixed(Quantile(s.us, 0.99), 0) + " | " + s.what + " |\n";
  }
  return md;
}

Status RunBench(const Args &args) {
  Setup setup;
  PLEXUS_ASSIGN_OR_RETURN(setup.bench, BenchHome::Open(args.home));
  PLEXUS_ASSIGN_OR_RETURN(
      setup.consumer,
      setup.bench->Consumer(kConsumer, kCountry, {kClvProduct}));
  PLEXUS_ASSIGN_OR_RETURN(std::string salt, setup.bench->catalog().MaskSalt());
  setup.salt_literal = engine::QuoteLiteral(salt);
  PLEXUS_ASSIGN_OR_RETURN(setup.service, setup.bench->OpenService());

  // (a)
  PLEXUS_ASSIGN_OR_RETURN(auto series,
                          MeasureStatements(setup, args.statements));
  nlohmann::json report = {
      {"benchmark", "access_control_cost"},
      {"consumer",
       {{"name", kConsumer}, {"country", kCountry}, {"grants", {kClvProduct}}}},
      {"statement", PathStatement(1)},
      {"statements", args.statements},
      {"per_statement", nlohmann::json::array()}};
  for (const auto &s : series)
    report["per_statement"].push_back(SeriesJson(s));
  // The measure: what guard + rewrite + audit add to a statement, i.e. the whole path
  // minus the same statement with the masks written inline, run on raw DuckDB (paired).
  double p50_repeated = Quantile(series[14].us, 0.5),
         p50_distinct = Quantile(series[15].us, 0.5),
         p50_novel = Quantile(series[16].us, 0.5);
  bool repeated_met = p50_repeated < 200, distinct_met = p50_distinct < 200;
  report["per_statement_target"] =
      "p50 of guard + rewrite + audit (path - raw inline) < 200 us";
  report["per_statement_met_repeated"] = repeated_met;
  report["per_statement_met_distinct"] = distinct_met;
  report["per_statement_met_novel"] = p50_novel < 200;
  std::string md_a = StatementTable(series);
  std::cout << md_a << std::flush;

  // (b)
  PLEXUS_ASSIGN_OR_RETURN(std::string without_case,
                          CustomersWithoutCase(setup, salt));
  nlohmann::json queries = nlohmann::json::array();
  std::string md_b =
      "| query | rows | inline raw ms | guarded ms | rewritten SQL on raw ms | "
      "rewrite without CASE on raw ms | guarded/inline | rewritten/inline | "
      "without CASE/inline | same answer |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  double log_sum[kSides] = {0, 0, 0, 0};
  auto masked = MaskedQueries(setup);
  for (const auto &m : masked) {
    SideBySide q;
    q.sql[kGuarded] = WithCustomers(m.text, "customers.customers.customers c");
    q.sql[kInline] = Physical(m.inline_sql, setup.bench->ports());
    q.sql[kWithoutCase] =
        Physical(WithCustomers(m.text, without_case), setup.bench->ports());
    PLEXUS_RETURN_IF_ERROR(RunSideBySide(setup, q, args.repetitions));
    PLEXUS_ASSIGN_OR_RETURN(q.same_answer, SameAnswer(setup, q, m.ordered));
    if (args.explain)
      PLEXUS_RETURN_IF_ERROR(Explain(setup, m.name, q));
    double median[kSides];
    for (int k = 0; k < kSides; k++)
      median[k] = Median(q.ms[k]);
    for (int k = 0; k < kSides; k++)
      log_sum[k] += std::log(median[k] / median[kInline]);
    queries.push_back(
        {{"name", m.name},
         {"rows", q.rows},
         {"sql", q.sql[kGuarded]},
         {"inline_median_ms", median[kInline]},
         {"guarded_median_ms", median[kGuarded]},
         {"rewritten_on_raw_median_ms", median[kRewritten]},
         {"without_case_on_raw_median_ms", median[kWithoutCase]},
         {"ratio", median[kGuarded] / median[kInline]},
         {"ratio_rewritten", median[kRewritten] / median[kInline]},
         {"ratio_without_case", median[kWithoutCase] / median[kInline]},
         {"same_answer", q.same_answer}});
    std::string line = "| " + m.name + " | " + std::to_string(q.rows);
    for (Side k : {kInline, kGuarded, kRewritten, kWithoutCase})
      line += " | " + Fixed(median[k], 2);
    for (Side k : {kGuarded, kRewritten, kWithoutCase}) {
      line += " | " + Fixed(median[k] / median[kInline], 3);
    }
    line += std::string(" | ") + (q.same_answer ? "yes" : "NO") + " |\n";
    md_b += line;
    std::cout << line << std::flush;
  }
  double n = static_cast<double>(masked.size());
  double geomean = std::exp(log_sum[kGuarded] / n);
  double geomean_shape = std::exp(log_sum[kRewritten] / n);
  double geomean_without_case = std::exp(log_sum[kWithoutCase] / n);
  report["masked_queries"] = queries;
  report["repetitions"] = args.repetitions;
  report["geometric_mean_ratio"] = geomean;
  report["geometric_mean_ratio_rewritten"] = geomean_shape;
  report["geometric_mean_ratio_without_case"] = geomean_without_case;
  report["masked_target"] = "geometric mean ratio guarded/inline <= 1.15";
  report["masked_met"] = geomean <= 1.15;

  std::string summary_a =
      "\np50 guard + rewrite + audit per statement (path - raw inline): repeated **" +
      Fixed(p50_repeated, 0) + " us** (" + (repeated_met ? "met" : "NOT met") +
      "), distinct **" + Fixed(p50_distinct, 0) + " us** (" +
      (distinct_met ? "met" : "NOT met") + "), novel shape **" + Fixed(p50_novel, 0) +
      " us** (" + (p50_novel < 200 ? "met" : "NOT met") + "); target < 200 us\n";
  std::string summary_b =
      "\nGeometric mean guarded/inline: **" + Fixed(geomean, 3) +
      "** (target <= 1.15: " + (geomean <= 1.15 ? "met" : "NOT met") +
      "); rewritten SQL on raw / inline: " + Fixed(geomean_shape, 3) +
      "; rewrite without CASE on raw / inline: " +
      Fixed(geomean_without_case, 3) + "\n";
  std::cout << summary_a << summary_b;
  std::string md =
      "# Access control: cost per statement, masked queries vs masks written "
      "by hand\n\n"
      "Consumer `" +
      std::string(kConsumer) + "` (country=" + kCountry + ", grant on " +
      kClvProduct +
      "): customers' email hashed, customers filtered to its country.\n\n"
      "## (a) Per statement (" +
      std::to_string(args.statements) +
      " statements each)\n\n"
      "`" +
      PathStatement(1) +
      "` (distinct: the literal varies). path_* = QueryService::Query "
      "up to the cursor + Cursor::Finish: guard (or its cache), rewrite, two "
      "audit records, "
      "DuckDB's prepare of the rewritten SQL. The other rows are its parts, "
      "timed alone, "
      "interleaved.\n\n" +
      md_a + summary_a +
      "\n## (b) Masked and filtered queries vs the same written inline on raw "
      "DuckDB\n\n"
      "Medians of " +
      std::to_string(args.repetitions) +
      " repetitions after one warm-up, the "
      "sides alternating. Guarded: through the QueryService (guard cache, "
      "audit, rewritten "
      "SQL). Inline: mask (`sha256(salt || CAST(email AS VARCHAR))`) and "
      "filter (`country = "
      "'" +
      kCountry +
      "'`) written by hand, physical names. Rewritten on raw: the service's "
      "rewritten SQL run on the raw engine (the rewrite's shape alone). "
      "Without CASE: the "
      "same derived table with the masks and the WHERE but no per-column CASE "
      "WHEN (a "
      "diagnostic, not a safe rewrite).\n\n" +
      md_b + summary_b;
  std::ofstream(args.out + "/access_bench.json") << report.dump(2) << "\n";
  std::ofstream(args.out + "/access_bench.md") << md;
  return Status::OK();
}

} // namespace
} // namespace plexus::bench

int main(int argc, char **argv) {
  plexus::bench::Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--home")
      args.home = argv[i + 1];
    else if (key == "--out")
      args.out = argv[i + 1];
    else if (key == "--statements")
      args.statements = std::atoi(argv[i + 1]);
    else if (key == "--repetitions")
      args.repetitions = std::atoi(argv[i + 1]);
    else if (key == "--explain")
      args.explain = std::string(argv[i + 1]) == "1";
  }
  if (args.home.empty() || args.statements <= 0 || args.repetitions <= 0) {
    std::cerr << "usage: plexus_access_bench --home HOME [--out DIR] "
                 "[--statements N] "
                 "[--repetitions N]\n";
    return 2;
  }
  plexus::Status status = plexus::bench::RunBench(args);
  if (!status.ok()) {
    std::cerr << "plexus_access_bench: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
