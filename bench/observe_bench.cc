// File: bench/observe_bench.cc
//
// The cost of observability (issue 9): the example mesh at scale (jaffle generator; payments'
// chain given a filter and a dedupe before the example's 1:1 steps) built by PipelineRunner,
// side by side, interleaved (ON then OFF, then OFF then ON, ...), N repetitions each:
//   on   RunOptions::metrics = true (exact per-port and per-step counts recorded) and an
//        ObserveService running on the catalog (OpenLineage file transport, SLO evaluation
//        every sloInterval, trust scores, alerts, metric compaction); the time includes the
//        service's Flush (its events written).
//   off  RunOptions::metrics = false, no service (no run observer).
// Reports the median of each side, the ratio on / off and the overhead (target < 2%).
//
//   build/plexus_observe_bench --mesh examples/jaffle-mesh --work build/bench-observe
//       --out bench/results [--orders 2000000] [--repetitions 7]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/pipeline/column_lineage.h"
#include "plexus/pipeline/runner.h"
#include "plexus/spec/parse.h"
#include "tools/jaffle_generator.h"
#ifdef PLEXUS_BENCH_OBSERVE_SERVICE
#include "plexus/observe/service.h"
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace catalog = plexus::catalog;
namespace pipeline = plexus::pipeline;

struct Options {
  std::string mesh = "examples/jaffle-mesh";
  std::string work = "build/bench-observe";
  std::string out = "bench/results";
  int64_t orders = 2000000;
  int repetitions = 7;
};

constexpr const char* kPayments = R"(apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw_payments
    file: data/payments.json
    format: json
outputs:
  - port: payments
    from: raw_payments
    steps:
      - filter: amount > 0
      - dedupe: {key: [id], latest: amount}
      - rename: {id: payment_id}
      - cast: {payment_id: BIGINT, order_id: BIGINT}
      - use: cents_to_units
        with: {column: amount}
      - project: [payment_id, order_id, payment_method, amount]
)";

void Die(const std::string& what, const plexus::Status& status) {
  std::cerr << "observe_bench: " << what << ": " << status.message() << "\n";
  std::exit(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The mesh copy with generated data, the payments chain and the observability settings.
plexus::Result<plexus::spec::Mesh> Prepare(const Options& o) {
  fs::path mesh_dir = fs::path(o.work) / "mesh";
  fs::remove_all(o.work);
  fs::create_directories(o.work);
  fs::copy(o.mesh, mesh_dir, fs::copy_options::recursive);
  fs::remove_all(mesh_dir / ".plexus");
  PLEXUS_RETURN_IF_ERROR(plexus::tools::GenerateJaffleSeeds(
      {.mesh_dir = mesh_dir.string(), .customers = o.orders / 6, .orders = o.orders}));
  std::ofstream(mesh_dir / "domains/payments/payments/pipeline.yaml") << kPayments;
  std::vector<plexus::spec::Diagnostic> problems;
  PLEXUS_ASSIGN_OR_RETURN(plexus::spec::Mesh mesh,
                          plexus::spec::LoadMesh(mesh_dir.string(), &problems));
  // ON's observability: SLOs evaluated every 2 s, OpenLineage to a file in the home.
  mesh.observability.enabled = true;
  mesh.observability.slo_interval_s = 2;
  mesh.observability.openlineage_file = "lineage.ndjson";
  return mesh;
}

/// Builds every product once; seconds.
double RunAll(const catalog::Home& home, catalog::Catalog* c, bool metrics) {
  pipeline::RunOptions options;
  options.metrics = metrics;
  pipeline::PipelineRunner runner(home, c, options);
  auto start = Clock::now();
  auto reports = runner.Run({});
  if (!reports.ok()) Die("run", reports.status());
  for (const auto& r : *reports) {
    if (r.status != "succeeded") Die(r.product, plexus::Internal(r.reason));
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--mesh") o.mesh = v;
    else if (a == "--work") o.work = v;
    else if (a == "--out") o.out = v;
    else if (a == "--orders") o.orders = std::stoll(v);
    else if (a == "--repetitions") o.repetitions = std::stoi(v);
    else {
      std::cerr << "observe_bench: unknown option " << a << "\n";
      return 2;
    }
  }
  auto mesh = Prepare(o);
  if (!mesh.ok()) Die("prepare", mesh.status());
  auto home = catalog::Home::Prepare((fs::path(o.work) / "home").string());
  if (!home.ok()) Die("home", home.status());
  // Two catalog connections on one home: the ON side's carries the service's run observer.
  auto on_catalog = catalog::Catalog::Open(*home);
  auto off_catalog = catalog::Catalog::Open(*home);
  if (!on_catalog.ok() || !off_catalog.ok()) Die("catalog", on_catalog.status());
  auto applied = (*on_catalog)->Apply(*mesh);
  if (!applied.ok()) Die("apply", applied.status());
  auto edges = pipeline::MeshColumnLineage(*mesh);
  if (!edges.ok()) Die("lineage", edges.status());
  std::vector<std::string> products;
  for (const auto& d : mesh->domains) {
    for (const auto& b : d.products) products.push_back(d.name + "." + b.product.name);
  }
  if (auto s = (*on_catalog)->ReplaceColumnLineage(products, *edges); !s.ok()) Die("lineage", s);
  bool service = false;
#ifdef PLEXUS_BENCH_OBSERVE_SERVICE
  auto observe = plexus::observe::ObserveService::Start(*home, on_catalog->get(), {});
  if (!observe.ok()) Die("observe service", observe.status());
  service = (*observe)->enabled();
#endif
  auto on_side = [&]() {
    auto start = Clock::now();
    RunAll(*home, on_catalog->get(), true);
#ifdef PLEXUS_BENCH_OBSERVE_SERVICE
    (*observe)->Flush(30);
#endif
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  RunAll(*home, off_catalog->get(), false);  // warm-up: files cached, tables exist
  on_side();
  // A third side, interleaved too: run metrics alone (no service), what the runner adds.
  std::vector<double> on, off, metrics_only;
  for (int i = 0; i < o.repetitions; ++i) {
    if (i % 2 == 0) {
      on.push_back(on_side());
      off.push_back(RunAll(*home, off_catalog->get(), false));
      metrics_only.push_back(RunAll(*home, off_catalog->get(), true));
    } else {
      metrics_only.push_back(RunAll(*home, off_catalog->get(), true));
      off.push_back(RunAll(*home, off_catalog->get(), false));
      on.push_back(on_side());
    }
    std::fprintf(stderr, "observe_bench: repetition %d: on %.3f s, off %.3f s, metrics only %.3f s\n",
                 i + 1, on.back(), off.back(), metrics_only.back());
  }
  double metrics_median = Median(metrics_only);
  double on_median = Median(on), off_median = Median(off);
  double ratio = on_median / off_median;
  auto totals = (*on_catalog)->MetricTotals();
  int64_t step_series = 0;
  if (totals.ok()) {
    for (const auto& m : *totals) step_series += m.position >= 0 ? 1 : 0;
  }
  std::error_code ec;
  auto lineage_bytes = fs::file_size(fs::path(home->root()) / "lineage.ndjson", ec);
  nlohmann::json report = {
      {"orders", o.orders},
      {"repetitions", o.repetitions},
      {"products", products.size()},
      {"observe_service", service},
      {"on_seconds", on},
      {"off_seconds", off},
      {"on_median_seconds", on_median},
      {"off_median_seconds", off_median},
      {"ratio_on_off", ratio},
      {"metrics_only_seconds", metrics_only},
      {"metrics_only_median_seconds", metrics_median},
      {"metrics_only_overhead_percent", (metrics_median / off_median - 1) * 100},
      {"overhead_percent", (ratio - 1) * 100},
      {"target_overhead_percent", 2},
      {"processor_step_series", step_series},
      {"openlineage_file_bytes", ec ? 0 : static_cast<int64_t>(lineage_bytes)}};
  fs::create_directories(o.out);
  std::ofstream(o.out + "/observe.json") << report.dump(2) << "\n";
  std::ostringstream md;
  md << "# Observability overhead (issue 9)\n\n"
     << "The example mesh with " << o.orders << " generated orders (" << products.size()
     << " products; payments through filter, dedupe, rename, cast, cents_to_units, project), "
     << "every product built per side, " << o.repetitions
     << " interleaved repetitions. ON: run metrics recorded"
     << (service ? " and the ObserveService running (OpenLineage file transport, SLO "
                   "evaluation every 2 s, trust scores, alerts), its Flush included"
                 : " (no ObserveService in this build: metrics alone)")
     << "; OFF: neither.\n\n"
     << "| side | median | runs (s) |\n|---|---|---|\n";
  auto list = [](const std::vector<double>& v) {
    std::ostringstream s;
    for (size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << std::fixed << std::setprecision(3) << v[i];
    return s.str();
  };
  char line[1024];
  std::snprintf(line, sizeof(line), "| on | %.3f s | %s |\n| off | %.3f s | %s |\n", on_median,
                list(on).c_str(), off_median, list(off).c_str());
  md << line;
  std::snprintf(line, sizeof(line), "| metrics only (no service) | %.3f s | %s |\n\n",
                metrics_median, list(metrics_only).c_str());
  md << line;
  std::snprintf(line, sizeof(line),
                "Ratio on / off: %.4f, overhead %.2f%% (target < 2%%); run metrics alone: "
                "%.2f%%.\n", ratio, (ratio - 1) * 100, (metrics_median / off_median - 1) * 100);
  md << line;
  std::ofstream(o.out + "/observe.md") << md.str();
  std::cout << md.str();
  return 0;
}
