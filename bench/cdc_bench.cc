// File: bench/cdc_bench.cc
//
// CDC apply at scale (issue 7), side by side in one run:
//   apply   N generated Debezium events (70% inserts, 20% updates, 10% deletes; default
//           10,000,000) written as NDJSON files, read by the files source and applied by
//           CdcApplier (parse, validate, dedupe, merge by key, offsets in the same transaction)
//           into a fresh data file, reading and parsing one batch ahead as `plexus run` does
//           (CdcReadAhead): events/s.
//   raw     N rows of the same columns appended by DuckDB's appender (ChunkAppender) into the
//           same table shape in a fresh data file: rows/s. Ratio apply / raw (target >= 0.5,
//           and apply >= 300,000 events/s).
//   lag     events written at half the measured apply rate, in files every 20 ms, applied by a
//           loop of micro-batches while another connection polls the table: p50/p99 of the time
//           from an event's file written to its row visible in a query (target p99 < 1 s).
//   memory  the process's peak resident set (VmHWM; target < 1 GiB).
//
//   build/plexus_cdc_bench --work build/bench-cdc --out bench/results [--events 10000000]
//       [--batch 500000] [--lag-seconds 10] [--checkpoint-threshold 256MB] [--steps 1]
//       [--max-vacuum-tasks 100] [--compact-at 0.5]
//   (--steps 1: the port's output has processor steps, cast + hash + project, which keep the
//   table's shape: the cost of the CDC steps path, docs/cdc.md "Processor steps".)
//   (--checkpoint-threshold: DuckDB's WAL size that triggers an automatic checkpoint, default
//   16 MiB; the apply time always includes a final CHECKPOINT, see "checkpoint_seconds").
//   (--max-vacuum-tasks: DuckDB's limit of row group merges per table in one checkpoint; 0 as
//   plexus run and serve open their engines, whose CDC applier compacts its tables itself
//   (docs/cdc.md, "Compaction"); 100, DuckDB's default, vacuums at every checkpoint instead.
//   --compact-at: the input's `compactAt`, default 0.5; a lower one shows the rewrites' cost.)
//   PLEXUS_CDC_PROFILE=1 in the environment prints each batch's steps and their times.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plexus/engine/engine.h"
#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/cdc_apply.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace engine = plexus::engine;
namespace pipeline = plexus::pipeline;
namespace catalog = plexus::catalog;

struct Options {
  std::string work = "build/bench-cdc";
  std::string out = "bench/results";
  int64_t events = 10000000;
  int64_t batch = plexus::spec::Schedule{}.max_batch_events;  // a pipeline's default
  double lag_seconds = 10;
  std::string checkpoint_threshold;  ///< empty: DuckDB's default (16 MiB of WAL)
  std::string max_vacuum_tasks;      ///< empty: DuckDB's default (100 per table and checkpoint)
  bool steps = false;                ///< the output has processor steps
  double compact_at = 0.5;           ///< the CDC input's compactAt
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

/// A field of /proc/self/status in KiB (VmHWM: the peak resident set; VmRSS: the current one).
int64_t StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::strlen(field)));
  }
  return 0;
}

int64_t PeakKb() { return StatusKb("VmHWM:"); }

/// Deterministic change events: 70% inserts of new ids, 20% updates and 10% deletes of live ids.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  /// The next event's text; `force_insert` for the lag phase's markers.
  std::string Next(bool force_insert = false) {
    seq_++;
    int roll = static_cast<int>(rng_() % 10);
    std::string op = "c";
    int64_t id;
    if (force_insert || live_.empty() || roll < 7) {
      id = next_id_++;
      live_.push_back(id);
    } else {
      size_t at = rng_() % live_.size();
      id = live_[at];
      if (roll < 9) {
        op = "u";
      } else {
        op = "d";
        live_[at] = live_.back();
        live_.pop_back();
      }
    }
    char row[256];
    std::snprintf(row, sizeof(row),
                  "{\"id\":%lld,\"customer\":\"c%06lld\",\"amount\":%lld.%02lld,\"status\":\"%s\","
                  "\"seq\":%lld}",
                  static_cast<long long>(id), static_cast<long long>(rng_() % 1000000),
                  static_cast<long long>(rng_() % 10000), static_cast<long long>(rng_() % 100),
                  kStatus[rng_() % 4], static_cast<long long>(seq_));
    std::string after = op == "d" ? "null" : row;
    std::string before = op == "c" ? "null" : "{\"id\":" + std::to_string(id) + "}";
    return "{\"op\":\"" + op + "\",\"before\":" + before + ",\"after\":" + after +
           ",\"source\":{\"lsn\":" + std::to_string(seq_) + "},\"ts_ms\":1700000000000}";
  }
  int64_t seq() const { return seq_; }
  size_t live() const { return live_.size(); }

 private:
  static constexpr const char* kStatus[4] = {"open", "paid", "shipped", "returned"};
  std::mt19937_64 rng_;
  std::vector<int64_t> live_;
  int64_t next_id_ = 1;
  int64_t seq_ = 0;
};

catalog::OutputPortRecord Port() {
  catalog::OutputPortRecord port;
  port.domain = "bench";
  port.product = "orders";
  port.name = "orders";
  port.major = 1;
  port.version = "1.0.0";
  auto col = [](const char* name, const char* type, bool key) {
    catalog::ColumnRecord c;
    c.name = name;
    c.engine_type = type;
    c.primary_key = key;
    c.required = key;
    return c;
  };
  port.columns = {col("id", "BIGINT", true), col("customer", "VARCHAR", false),
                  col("amount", "DOUBLE", false), col("status", "VARCHAR", false),
                  col("seq", "BIGINT", false)};
  return port;
}

/// --steps 1: a cast, a hash and a project that keep the table's columns and rows.
pipeline::CdcSteps BenchSteps(bool on) {
  pipeline::CdcSteps steps;
  if (!on) return steps;
  auto text = [](const std::string& t) {
    plexus::spec::StepValue v;
    v.text = t;
    return v;
  };
  auto step = [](const std::string& kind, plexus::spec::StepValue value) {
    plexus::spec::ProcessorStep s;
    s.kind = kind;
    s.value = std::move(value);
    return pipeline::ChainStep{s, ""};
  };
  plexus::spec::StepValue cast, hash, project;
  cast.kind = plexus::spec::StepValue::Kind::kMap;
  cast.fields.emplace_back("amount", text("DOUBLE"));
  hash.kind = project.kind = plexus::spec::StepValue::Kind::kList;
  hash.items = {text("customer")};
  for (const char* c : {"id", "customer", "amount", "status", "seq"}) {
    project.items.push_back(text(c));
  }
  steps.by_port["orders"] = {step("cast", cast), step("hash", hash), step("project", project)};
  steps.salt = "bench-salt";
  return steps;
}

struct Engine {
  std::unique_ptr<engine::Database> db;
  std::unique_ptr<engine::Connection> conn;
};

Engine OpenApplyEngine(const fs::path& file, const std::string& checkpoint_threshold,
                       const std::string& max_vacuum_tasks) {
  fs::remove(file);
  fs::remove(file.string() + ".wal");
  Engine e;
  engine::DatabaseOptions options;
  options.vacuum = false;  // as plexus run and serve open theirs (OpenRunEngine)
  e.db = std::move(engine::Database::Open(options).value());
  e.conn = std::move(e.db->Connect().value());
  auto s = e.conn->Execute("ATTACH " + engine::QuoteLiteral(file.string()) + " AS plx_bench");
  if (s.ok() && !max_vacuum_tasks.empty()) {
    s = e.conn->Execute("SET max_vacuum_tasks = " + max_vacuum_tasks);
  }
  if (s.ok() && !checkpoint_threshold.empty()) {
    s = e.conn->Execute("SET checkpoint_threshold = " + engine::QuoteLiteral(checkpoint_threshold));
  }
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    std::exit(1);
  }
  return e;
}

int Fail(const plexus::Status& s) {
  std::cerr << "cdc_bench: " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--work") o.work = v;
    else if (a == "--out") o.out = v;
    else if (a == "--events") o.events = std::stoll(v);
    else if (a == "--batch") o.batch = std::stoll(v);
    else if (a == "--lag-seconds") o.lag_seconds = std::stod(v);
    else if (a == "--checkpoint-threshold") o.checkpoint_threshold = v;
    else if (a == "--max-vacuum-tasks") {
      if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
        std::cerr << "--max-vacuum-tasks takes a whole number (got " << v << ")\n";
        return 2;
      }
      o.max_vacuum_tasks = v;
    }
    else if (a == "--steps") o.steps = v == "1";
    else if (a == "--compact-at") o.compact_at = std::stod(v);
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  // Absolute: the files source reads a relative folder from the product's folder (o.work).
  o.work = fs::absolute(o.work).string();
  fs::create_directories(o.work);
  fs::create_directories(o.out);
  fs::path changes = fs::path(o.work) / "changes";

  // ---- generate ------------------------------------------------------------------------
  auto gen_start = Clock::now();
  fs::remove_all(changes);
  fs::create_directories(changes);
  // The generator's ids are freed before the apply: they are not the applier's memory.
  auto gen = std::make_unique<Generator>(42);
  const int64_t per_file = 100000;
  int64_t bytes = 0;
  for (int64_t f = 0; f * per_file < o.events; f++) {
    char name[64];
    std::snprintf(name, sizeof(name), "%08lld.ndjson", static_cast<long long>(f));
    std::string text;
    for (int64_t i = f * per_file; i < std::min(o.events, (f + 1) * per_file); i++) {
      text += gen->Next();
      text += '\n';
    }
    bytes += static_cast<int64_t>(text.size());
    std::ofstream(changes / name, std::ios::binary) << text;
  }
  double gen_seconds = Seconds(gen_start);
  const auto expected_rows = static_cast<int64_t>(gen->live());
  gen.reset();
  std::cerr << "generated " << o.events << " events (" << bytes / 1048576 << " MiB) in "
            << gen_seconds << " s\n";

  // ---- apply ---------------------------------------------------------------------------
  plexus::spec::CdcSpec spec;
  spec.source = "files";
  spec.folder = changes.string();
  spec.compact_at = o.compact_at;
  // All of it; inside CdcApplier::Apply; the final CHECKPOINT.
  double apply_seconds = 0, applier_seconds = 0, checkpoint_seconds = 0;
  int64_t applied = 0, rows_after = 0, compacted = 0;
  {
    Engine e = OpenApplyEngine(fs::path(o.work) / "apply.duckdb", o.checkpoint_threshold,
                               o.max_vacuum_tasks);
    auto applier = pipeline::CdcApplier::Open(e.conn.get(), "bench", "orders", "changes", spec,
                                              {Port()}, BenchSteps(o.steps));
    if (!applier.ok()) return Fail(applier.status());
    auto source = pipeline::MakeFileSource(spec, o.work);
    if (!source.ok()) return Fail(source.status());
    if (auto s = (*source)->Open({}); !s.ok()) return Fail(s);
    auto start = Clock::now();
    {
      // As `plexus run` catches up (ChangeStream): the next batch is read and parsed while
      // this one is applied.
      pipeline::CdcReadAhead reader(source->get(), applier->get(), static_cast<size_t>(o.batch));
      while (true) {
        auto batch = reader.Next(std::chrono::milliseconds(0), true);
        if (!batch.ok()) return Fail(batch.status());
        if (batch->events.empty()) break;
        auto report = reader.Apply(*batch);
        if (!report.ok()) return Fail(report.status());
        applied += report->events;
        compacted += report->compacted;
        applier_seconds += report->seconds;
        reader.Settle();
        (void)(*source)->Acknowledge(batch->offsets);
        if (std::getenv("PLEXUS_CDC_PROFILE") != nullptr) {
          auto duck = e.conn->QueryScalar(
              "SELECT (sum(memory_usage_bytes) // 1048576)::VARCHAR || ' MiB (' || "
              "string_agg(tag || ' ' || (memory_usage_bytes // 1048576), ', ' ORDER BY "
              "memory_usage_bytes DESC) FILTER (WHERE memory_usage_bytes >= 1048576) || ')' "
              "FROM duckdb_memory()");
          std::cerr << "memory: rss " << StatusKb("VmRSS:") / 1024 << " MiB, peak "
                    << PeakKb() / 1024 << " MiB, duckdb " << (duck.ok() ? *duck : duck.status().ToString()) << "\n";
        }
      }
    }
    // The last batches' changes written into the data file too (a raised checkpoint threshold
    // only defers that work): counted in the apply time.
    auto checkpoint_start = Clock::now();
    if (auto s = e.conn->Execute("CHECKPOINT plx_bench"); !s.ok()) return Fail(s);
    checkpoint_seconds = Seconds(checkpoint_start);
    apply_seconds = Seconds(start);
    rows_after = std::stoll(
        e.conn->QueryScalar("SELECT count(*) FROM plx_bench.main.orders__orders__v1").value());
  }
  // Deleted rows a checkpoint did not vacuum stay in the file (--max-vacuum-tasks).
  double apply_file_mib = fs::file_size(fs::path(o.work) / "apply.duckdb") / 1048576.0;
  double apply_rate = applied / apply_seconds;
  std::cerr << "apply: " << applied << " events in " << apply_seconds << " s = " << apply_rate
            << " events/s (" << applier_seconds << " s in the applier, " << checkpoint_seconds
            << " s in the final checkpoint); rows "
            << rows_after << " (expected " << expected_rows << ")\n";
  int64_t peak_after_apply = PeakKb();

  // ---- raw appender ----------------------------------------------------------------------
  double raw_seconds = 0;
  {
    fs::path file = fs::path(o.work) / "raw.duckdb";
    fs::remove(file);
    fs::remove(file.string() + ".wal");
    engine::DatabaseOptions options;
    options.path = file.string();
    auto db = engine::Database::Open(options);
    if (!db.ok()) return Fail(db.status());
    auto conn = (*db)->Connect().value();
    (void)conn->Execute(
        "CREATE TABLE orders (id BIGINT, customer VARCHAR, amount DOUBLE, status VARCHAR, seq "
        "BIGINT)");
    using T = engine::ChunkAppender::Type;
    std::mt19937_64 rng(7);
    static const char* kStatus[4] = {"open", "paid", "shipped", "returned"};
    auto start = Clock::now();
    auto appender =
        conn->MakeChunkAppender("orders", {T::kBigint, T::kVarchar, T::kDouble, T::kVarchar, T::kBigint});
    if (!appender.ok()) return Fail(appender.status());
    char customer[16];
    for (int64_t i = 0; i < o.events; i++) {
      std::snprintf(customer, sizeof(customer), "c%06lld", static_cast<long long>(rng() % 1000000));
      (*appender)->SetInt64(0, i + 1);
      (*appender)->SetText(1, customer);
      (*appender)->SetDouble(2, static_cast<double>(rng() % 1000000) / 100);
      (*appender)->SetText(3, kStatus[rng() % 4]);
      (*appender)->SetInt64(4, i + 1);
      if (auto s = (*appender)->EndRow(); !s.ok()) return Fail(s);
    }
    if (auto s = (*appender)->Close(); !s.ok()) return Fail(s);
    raw_seconds = Seconds(start);
  }
  double raw_rate = o.events / raw_seconds;
  std::cerr << "raw appender: " << raw_rate << " rows/s\n";

  // ---- lag at half the apply rate ---------------------------------------------------------
  double target_rate = apply_rate / 2;
  std::vector<double> lags;
  {
    fs::path lag_dir = fs::path(o.work) / "lag";
    fs::remove_all(lag_dir);
    fs::create_directories(lag_dir);
    Engine e = OpenApplyEngine(fs::path(o.work) / "lag.duckdb", o.checkpoint_threshold,
                               o.max_vacuum_tasks);
    plexus::spec::CdcSpec lag_spec = spec;
    lag_spec.folder = lag_dir.string();
    auto applier = pipeline::CdcApplier::Open(e.conn.get(), "bench", "orders", "changes",
                                              lag_spec, {Port()}, BenchSteps(o.steps));
    if (!applier.ok()) return Fail(applier.status());
    auto source = pipeline::MakeFileSource(lag_spec, o.work).value();
    (void)source->Open({});
    auto reader = e.db->Connect().value();
    std::mutex mu;
    std::vector<std::pair<int64_t, Clock::time_point>> marks;  // seq -> written at
    std::atomic<bool> writing{true}, stop{false};
    Generator lag_gen(43);
    std::thread writer([&] {
      auto start = Clock::now();
      int64_t written = 0;
      for (int file = 0; Seconds(start) < o.lag_seconds; file++) {
        double due = Seconds(start) * target_rate;
        std::string text;
        int64_t n = static_cast<int64_t>(due) - written;
        for (int64_t i = 0; i < n; i++) {
          text += lag_gen.Next(i == n - 1);  // the file's last event is an insert: its marker
          text += '\n';
        }
        written += std::max<int64_t>(n, 0);
        if (!text.empty()) {
          char name[64];
          std::snprintf(name, sizeof(name), "%08d.ndjson", file);
          std::string tmp = (lag_dir / (std::string(name) + ".tmp")).string();
          std::ofstream(tmp, std::ios::binary) << text;
          fs::rename(tmp, lag_dir / name);
          std::lock_guard lock(mu);
          marks.emplace_back(lag_gen.seq(), Clock::now());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      writing = false;
    });
    std::thread poller([&] {
      size_t next = 0;
      while (!stop) {
        auto v = reader->QueryScalar("SELECT coalesce(max(seq), 0) FROM plx_bench.main.orders__orders__v1");
        auto now = Clock::now();
        if (v.ok()) {
          int64_t visible = std::stoll(*v);
          std::lock_guard lock(mu);
          while (next < marks.size() && marks[next].first <= visible) {
            lags.push_back(std::chrono::duration<double>(now - marks[next].second).count());
            next++;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    // As `plexus serve` steps a continuous stream.
    pipeline::CdcReadAhead stepper(source.get(), applier->get(), static_cast<size_t>(o.batch));
    while (true) {
      auto batch = stepper.Next(std::chrono::milliseconds(10), false);
      if (!batch.ok()) return Fail(batch.status());
      if (batch->events.empty()) {
        if (!writing) break;
        continue;
      }
      auto report = stepper.Apply(*batch);
      if (!report.ok()) return Fail(report.status());
    }
    writer.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
    poller.join();
  }
  std::sort(lags.begin(), lags.end());
  auto pct = [&](double p) {
    if (lags.empty()) return 0.0;
    return lags[std::min(lags.size() - 1, static_cast<size_t>(p * lags.size()))];
  };
  int64_t peak_kb = PeakKb();

  nlohmann::json report = {
      {"events", o.events},
      {"batch", o.batch},
      {"steps", o.steps ? "cast, hash, project" : "none"},
      {"checkpoint_threshold",
       o.checkpoint_threshold.empty() ? "16MiB (default)" : o.checkpoint_threshold},
      {"max_vacuum_tasks", o.max_vacuum_tasks.empty() ? "0 (as plexus run)" : o.max_vacuum_tasks},
      {"compact_at", o.compact_at},
      {"ndjson_mib", bytes / 1048576.0},
      {"generate_seconds", gen_seconds},
      {"apply", {{"seconds", apply_seconds}, {"applier_seconds", applier_seconds},
                 {"checkpoint_seconds", checkpoint_seconds},
                 {"events_per_s", apply_rate},
                 {"rows_after", rows_after}, {"rows_expected", expected_rows},
                 {"file_mib", apply_file_mib}, {"compacted_rows", compacted}}},
      {"raw_appender", {{"seconds", raw_seconds}, {"rows_per_s", raw_rate}}},
      {"ratio_apply_to_raw", apply_rate / raw_rate},
      {"lag", {{"rate_events_per_s", target_rate}, {"seconds", o.lag_seconds},
               {"samples", lags.size()}, {"p50_s", pct(0.5)}, {"p99_s", pct(0.99)},
               {"max_s", lags.empty() ? 0.0 : lags.back()}}},
      {"peak_rss_mib_after_apply", peak_after_apply / 1024.0},
      {"peak_rss_mib", peak_kb / 1024.0},
      {"targets", {{"ratio", 0.5}, {"events_per_s", 300000}, {"p99_lag_s", 1.0},
                   {"peak_rss_mib", 1024}}},
  };
  std::ofstream(o.out + "/cdc.json") << report.dump(2) << "\n";
  std::ostringstream md;
  md.setf(std::ios::fixed);
  md.precision(2);
  md << "# CDC apply (issue 7)\n\n"
     << o.events << " generated Debezium events (70% inserts, 20% updates, 10% deletes), "
     << bytes / 1048576.0 << " MiB of NDJSON, micro-batches of " << o.batch << " events"
     << (o.steps ? ", through processor steps (cast, hash, project)" : "") << ".\n\n"
     << "| measure | value | target |\n|---|---|---|\n"
     << "| applied through the files source | " << static_cast<int64_t>(apply_rate)
     << " events/s | >= 300000 |\n"
     << "| raw DuckDB appender, same table | " << static_cast<int64_t>(raw_rate)
     << " rows/s | |\n"
     << "| ratio apply / raw | " << apply_rate / raw_rate << " | >= 0.5 |\n"
     << "| freshness lag p50 at " << static_cast<int64_t>(target_rate) << " events/s | "
     << pct(0.5) << " s | |\n"
     << "| freshness lag p99 | " << pct(0.99) << " s | < 1 s |\n"
     << "| peak memory (VmHWM) | " << peak_kb / 1024.0 << " MiB | < 1024 MiB |\n\n"
     << "Rows after apply: " << rows_after << " (expected " << expected_rows << "); data file "
     << apply_file_mib << " MiB; deleted rows compacted: " << compacted << " (compactAt "
     << o.compact_at << ", DuckDB's vacuum "
     << (o.max_vacuum_tasks.empty() || o.max_vacuum_tasks == "0" ? "off" : "on") << ").\n";
  std::ofstream(o.out + "/cdc.md") << md.str();
  std::cout << md.str();
  return rows_after == static_cast<int64_t>(expected_rows) ? 0 : 1;
}
