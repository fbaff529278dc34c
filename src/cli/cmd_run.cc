// run, runs, pipeline and generate: building products, their history and their schedule.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "plexus/common/time.h"
#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/runner.h"
#include "tools/jaffle_generator.h"

namespace plexus::cli {
namespace {

struct RunArgs {
  std::vector<std::string> products;
  bool all = false;
  bool full_refresh = false;
};

/// A CDC product's proposed contract bumps, and its pause.
void PrintCdcNotes(const pipeline::RunReport& r) {
  std::string name = r.product.substr(r.product.find('.') + 1);
  if (r.changes) {
    const auto& c = *r.changes;
    std::cout << "        changes: " << c.events << " events read, " << c.upserted
              << " upserted, " << c.deleted << " deleted, " << c.stale << " stale, "
              << c.dead_lettered << " dead-lettered"
              << (c.compacted > 0 ? ", " + std::to_string(c.compacted) + " deleted rows compacted"
                                  : "")
              << "\n";
  }
  for (const auto& p : r.proposals) {
    std::cout << "        proposed: " << name << "." << p.port << " contract "
              << p.proposed_version << ": new column " << p.column << " " << p.type
              << " (kept in the table; add it to the contract and apply)\n";
  }
  if (!r.paused.empty() && r.status == "succeeded") {
    std::cout << "        paused: " << r.paused << " (plexus pipeline resume " << r.product
              << ")\n";
  } else if (!r.paused.empty()) {
    std::cout << "        paused (plexus pipeline resume " << r.product << " once fixed)\n";
  }
}

/// What plexus run prints, from the local runner or the server's answer.
Status PrintReports(const std::vector<pipeline::RunReport>& reports) {
  if (reports.empty()) return FailedPrecondition("no product with a pipeline: apply a mesh first");
  int failed = 0;
  for (const auto& r : reports) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.2fs", r.seconds);
    if (r.status == "succeeded") {
      std::cout << "ok      " << r.product;
      for (const auto& [port, rows] : r.rows) std::cout << "  " << port << ": " << rows << " rows";
      std::cout << "  (" << seconds << ")\n";
      for (const auto& q : r.quality) {
        if (q.status != "failed") continue;
        std::cout << "        quality " << q.severity << ": " << QualityLine(q) << "\n";
      }
    } else {
      failed++;
      std::cout << (r.status == "skipped" ? "skipped " : "FAILED  ") << r.product << ": "
                << r.reason << "\n";
    }
    PrintCdcNotes(r);
  }
  if (failed > 0) {
    return FailedPrecondition(std::to_string(failed) + " of " + std::to_string(reports.size()) +
                              " products did not publish; their previous data is still served");
  }
  return Status::OK();
}

/// Seconds since the epoch of a catalog time; -1 if not one.
double IsoSeconds(const std::string& iso) { return UtcSeconds(iso).value_or(-1); }

/// plexus run's progress bar: DuckDB's progress of the batch runs' running statement (their
/// connection, RunOptions::on_connection), else the time since the product started against
/// its previous successful run's duration.
class RunProgress {
 public:
  explicit RunProgress(catalog::Catalog* catalog) : catalog_(catalog) {}

  /// on_product, on the running thread.
  void Product(const std::string& product) {
    double previous = -1;
    auto record = catalog_->GetProduct(product);
    auto runs = record.ok() ? catalog_->ListRuns(record->id, 20)
                            : Result<std::vector<catalog::RunRecord>>(record.status());
    for (const auto& r : runs.ok() ? *runs : std::vector<catalog::RunRecord>{}) {
      double took = IsoSeconds(r.finished_at) - IsoSeconds(r.started_at);
      if (r.status == "succeeded" && IsoSeconds(r.started_at) > 0 && took > 0) {
        previous = took;
        break;
      }
    }
    std::lock_guard lock(mu_);
    start_ = Clock::now();
    previous_s_ = previous;
    last_percentage_ = -1;
  }
  /// on_connection, on the running thread: null before the connection closes.
  void Connection(engine::Connection* connection) {
    if (connection != nullptr) (void)connection->EnableProgress();  // else: the estimate only
    std::lock_guard lock(mu_);
    connection_ = connection;
  }
  /// The watcher thread's poll.
  observe::ProgressFigures Figures() {
    std::lock_guard lock(mu_);
    auto now = Clock::now();
    observe::ProgressFigures f;
    engine::QueryProgress p = connection_ ? connection_->Progress() : engine::QueryProgress();
    if (p.percentage >= 0) {
      if (last_percentage_ < 0 || p.percentage + 1 < last_percentage_) statement_start_ = now;
      last_percentage_ = p.percentage;
      f.fraction = p.percentage / 100;
      f.done = static_cast<int64_t>(p.rows_processed);
      f.total = static_cast<int64_t>(p.total_rows);
      f.elapsed_s = std::max(0.001, std::chrono::duration<double>(now - statement_start_).count());
      return f;
    }
    last_percentage_ = -1;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    if (previous_s_ > 0 && elapsed < previous_s_) {  // past it: no honest estimate left
      f.fraction = elapsed / previous_s_;
      f.eta_s = previous_s_ - elapsed;
    }
    return f;
  }

 private:
  using Clock = std::chrono::steady_clock;
  catalog::Catalog* catalog_;
  std::mutex mu_;
  engine::Connection* connection_ = nullptr;  // guarded by mu_
  Clock::time_point start_ = Clock::now();
  Clock::time_point statement_start_ = Clock::now();
  double previous_s_ = -1;
  double last_percentage_ = -1;
};

Status Run(const Context& ctx, const RunArgs& args) {
  if (args.products.empty() && !args.all) {
    return InvalidArgument("name the products to run (domain.product), or --all");
  }
  if (!args.products.empty() && args.all) {
    return InvalidArgument("name the products to run or give --all, not both");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {  // the server holds the data files: it runs them on its engine
    std::vector<pipeline::RunReport> reports;
    {
      ProgressLine progress;
      progress.Begin("running on the server " + remote->url);
      PLEXUS_ASSIGN_OR_RETURN(
          reports, server::RemoteRun(*remote, args.products, args.all, args.full_refresh));
    }
    return PrintReports(reports);
  }
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(auto observability, ObserveLocalRuns(home, catalog.get()));
  std::vector<pipeline::RunReport> reports;
  {
    // A terminal shows which product runs, its progress bar, and a CDC catch-up's events.
    RunProgress figures(catalog.get());
    ProgressLine progress;
    pipeline::RunOptions options;
    options.full_refresh = args.full_refresh;
    if (progress.active()) {
      options.on_product = [&progress, &figures](const std::string& product) {
        figures.Product(product);
        progress.Begin("running " + product);
      };
      options.on_connection = [&figures](engine::Connection* c) { figures.Connection(c); };
      progress.Track([&figures] { return figures.Figures(); });
      pipeline::SetCatchUpProgress([&progress](const pipeline::ApplyReport& total,
                                               int64_t batches) {
        progress.ShowEvents(total.events, batches);
      });
    }
    pipeline::PipelineRunner runner(home, catalog.get(), options);
    auto ran = runner.Run(args.all ? std::vector<std::string>{} : args.products);
    pipeline::SetCatchUpProgress(nullptr);
    PLEXUS_ASSIGN_OR_RETURN(reports, std::move(ran));
  }
  return PrintReports(reports);
}

// ---- plexus backfill: re-read a CDC input from a position ----------------------------------

struct BackfillArgs {
  std::string product;
  std::string input;
  std::string from;
};

Status Backfill(const Context& ctx, const BackfillArgs& args) {
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {  // the server holds the data files and the stream
    pipeline::RunReport report;
    {
      ProgressLine progress;
      progress.Begin("backfilling " + args.product + " on the server " + remote->url);
      PLEXUS_ASSIGN_OR_RETURN(report,
                              server::RemoteBackfill(*remote, args.product, args.input, args.from));
    }
    return PrintReports({report});
  }
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto product, catalog->GetProduct(args.product));
  if (!actor.admin && !actor.InDomain(product.domain)) {
    return PermissionDenied("backfilling " + product.QualifiedName() +
                            " needs a mesh admin or an owner or member of domain " +
                            product.domain);
  }
  if (!pipeline::HasCdcInputs(product)) {
    return FailedPrecondition(product.QualifiedName() +
                              " has no CDC input: plexus run rebuilds a batch product whole");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto observability, ObserveLocalRuns(home, catalog.get()));
  PLEXUS_ASSIGN_OR_RETURN(auto db, pipeline::OpenRunEngine(home, {&product}));
  pipeline::RunReport report;
  {
    ProgressLine progress;
    progress.Begin("backfilling " + product.QualifiedName());
    if (progress.active()) {
      pipeline::SetCatchUpProgress([&progress](const pipeline::ApplyReport& total,
                                               int64_t batches) {
        progress.ShowEvents(total.events, batches);
      });
    }
    report = pipeline::BackfillCdcProduct(home, catalog.get(), db.get(), product, args.input,
                                          args.from);
    pipeline::SetCatchUpProgress(nullptr);
  }
  return PrintReports({report});
}

// ---- plexus runs: the run history ----------------------------------------------------------

struct RunsArgs {
  std::string product;
  int limit = 20;
  std::string format = "table";
};

std::string RunsJson(const std::vector<catalog::RunRecord>& runs) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : runs) {
    list.push_back({{"id", r.id},           {"product", r.product},
                    {"trigger", r.trigger}, {"attempt", r.attempt},
                    {"status", r.status},   {"started_at", r.started_at},
                    {"finished_at", r.finished_at}, {"rows", r.rows},
                    {"reason", r.reason}});
  }
  return list.dump(2);
}

void PrintRunsTable(const std::vector<catalog::RunRecord>& runs) {
  std::printf("%-6s %-34s %-10s %-7s %-10s %-24s %8s  %s\n", "ID", "PRODUCT", "TRIGGER",
              "ATTEMPT", "STATUS", "STARTED", "ROWS", "REASON");
  for (const auto& r : runs) {
    std::string reason = r.reason.size() > 80 ? r.reason.substr(0, 77) + "..." : r.reason;
    std::printf("%-6lld %-34s %-10s %-7lld %-10s %-24s %8lld  %s\n",
                static_cast<long long>(r.id), r.product.c_str(), r.trigger.c_str(),
                static_cast<long long>(r.attempt), r.status.c_str(), r.started_at.c_str(),
                static_cast<long long>(r.rows), OrDash(reason).c_str());
  }
}

Status Runs(const Context& ctx, const RunsArgs& args) {
  if (args.format != "table" && args.format != "json") {
    return InvalidArgument("--format must be table or json");
  }
  if (args.limit < 1 || args.limit > 1000) return InvalidArgument("--limit must be 1 to 1000");
  std::vector<catalog::RunRecord> runs;
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {
    PLEXUS_ASSIGN_OR_RETURN(runs, server::RemoteRuns(*remote, args.product, args.limit));
  } else {
    PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
    std::string product_id;
    if (!args.product.empty()) {
      PLEXUS_ASSIGN_OR_RETURN(auto p, VisibleProduct(ctx, *catalog, args.product));
      product_id = p.id;
    }
    catalog::RunQuery query;
    query.products.emplace();
    if (!product_id.empty()) {
      query.products->insert(product_id);
    } else {
      PLEXUS_ASSIGN_OR_RETURN(auto visible, VisibleProducts(ctx, *catalog));
      for (const auto& p : visible) query.products->insert(p.id);
    }
    query.limit = args.limit;
    PLEXUS_ASSIGN_OR_RETURN(runs, catalog->ListRuns(query));
  }
  if (args.format == "json") {
    std::cout << RunsJson(runs) << "\n";
  } else {
    PrintRunsTable(runs);
  }
  return Status::OK();
}

// ---- plexus pipeline status|pause|resume ---------------------------------------------------

struct PipelineArgs {
  std::string product;
  std::string reason;
};

void PrintPipeline(const server::RemotePipelineState& s) {
  std::cout << s.product << ": "
            << (s.paused ? "paused since " + s.paused_since + ": " + s.pause_reason
                         : std::string(s.running ? "running" : "idle"));
  if (s.continuous) std::cout << ", continuous";
  if (!s.next_run.empty()) std::cout << ", next run " << s.next_run;
  std::cout << "\n";
}

/// Status, pause or resume, through the server or on the home's catalog.
Status PipelineCommand(const Context& ctx, const PipelineArgs& args, const std::string& action) {
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {
    PLEXUS_ASSIGN_OR_RETURN(auto state,
                            server::RemotePipeline(*remote, args.product, action, args.reason));
    PrintPipeline(state);
    return Status::OK();
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto p, VisibleProduct(ctx, *catalog, args.product));
  if (!action.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
    auto role = actor.domain_roles.find(p.domain);
    bool may = actor.admin || (role != actor.domain_roles.end() &&
                               (role->second == "owner" || role->second == "member"));
    if (!may) {
      return PermissionDenied("pausing or resuming " + p.QualifiedName() +
                              " needs a mesh admin or an owner or member of domain " + p.domain);
    }
    std::string reason = action == "pause" ? "paused by " + actor.name +
                                                 (args.reason.empty() ? "" : ": " + args.reason)
                                           : "";
    PLEXUS_RETURN_IF_ERROR(catalog->SetPipelinePaused(p.id, reason));
    catalog::AuditRecord record;
    record.principal = actor.name;
    record.action = "pipeline." + action;
    record.object = p.QualifiedName();
    record.products = {p.QualifiedName()};
    record.decision = "allow";
    record.detail = reason;
    PLEXUS_RETURN_IF_ERROR(catalog->AppendAudit(std::move(record)).status());
  }
  PLEXUS_ASSIGN_OR_RETURN(auto state, catalog->GetPipelineState(p.id));
  server::RemotePipelineState shown;
  shown.product = p.QualifiedName();
  shown.paused = state.paused;
  shown.pause_reason = state.reason;
  shown.paused_since = state.since;
  PrintPipeline(shown);
  return Status::OK();
}

}  // namespace

void SetupRun(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<RunArgs>();
  sub.add_option("products", args->products, "Products to run (domain.product or id)");
  sub.add_flag("--all", args->all, "Run every product that has a pipeline");
  sub.add_flag("--full-refresh", args->full_refresh,
               "Rebuild from scratch: CDC products empty their tables and re-read their sources "
               "from the start (batch products always rebuild)");
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Run(ctx, *args); }; });
}

void SetupBackfill(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<BackfillArgs>();
  sub.add_option("product", args->product, "The product (domain.product or id)")->required();
  sub.add_option("--input", args->input, "Its CDC input (cdc.source files or kafka)")->required();
  sub.add_option("--from", args->from,
                 "Where to start again: a file name of the input's folder (re-read from its "
                 "start), or kafka partition:offset pairs (0:120,1:0)")
      ->required();
  sub.footer("Replayed events older than the table's state for their key are skipped as stale, "
             "so a backfill never rolls data back; events never applied (dead-lettered, then "
             "fixed in the files) are applied. PostgreSQL inputs: plexus run --full-refresh.");
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Backfill(ctx, *args); }; });
}

void SetupRuns(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<RunsArgs>();
  sub.add_option("product", args->product, "Only this product's runs (domain.product or id)");
  sub.add_option("--limit", args->limit, "How many runs, newest first")->capture_default_str();
  sub.add_option("--format,-f", args->format, "table or json")->capture_default_str();
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Runs(ctx, *args); }; });
}

void SetupPipeline(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  struct Verb {
    const char* name;
    const char* summary;
    const char* action;
  };
  for (const Verb& verb :
       {Verb{"status", "Show whether the product's pipeline runs, is paused, and its next run", ""},
        Verb{"pause", "Pause the product's pipeline: no scheduled runs, micro-batches or pushes",
             "pause"},
        Verb{"resume", "Resume a paused pipeline (after fixing the source or the contract)",
             "resume"}}) {
    auto* leaf = sub.add_subcommand(verb.name, verb.summary);
    auto args = std::make_shared<PipelineArgs>();
    leaf->add_option("product", args->product, "domain.product or id")->required();
    if (std::string(verb.name) == "pause") {
      leaf->add_option("--reason", args->reason, "Why (kept with the pause and in the audit)");
    }
    std::string action = verb.action;
    leaf->callback([&ctx, args, action] {
      ctx.action = [&ctx, args, action] { return PipelineCommand(ctx, *args, action); };
    });
  }
}

void SetupGenerate(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<tools::JaffleOptions>();
  sub.add_option("--customers", options->customers, "Customers to generate")->capture_default_str();
  sub.add_option("--orders", options->orders, "Orders to generate")->capture_default_str();
  sub.add_option("--seed", options->seed, "Random seed (same seed, same files)")->capture_default_str();
  sub.callback([&ctx, options] {
    ctx.action = [&ctx, options] {
      options->mesh_dir = ctx.global.mesh;
      PLEXUS_RETURN_IF_ERROR(tools::GenerateJaffleSeeds(*options));
      std::cout << "wrote " << options->customers << " customers and " << options->orders
                << " orders (seed " << options->seed << ") into " << ctx.global.mesh << "\n";
      return Status::OK();
    };
  });
}

}  // namespace plexus::cli
