#include "plexus/server/serve.h"

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "plexus/access/query_service.h"
#include "plexus/governance/governance.h"
#include "plexus/observe/log.h"
#include "plexus/observe/metrics.h"
#include "plexus/observe/service.h"
#include "plexus/pipeline/runner.h"
#include "plexus/pipeline/scheduler.h"
#include "plexus/server/server_file.h"

namespace plexus::server {

namespace {

/// One scheduled evaluation of the applied policies: kept in the history, quarantines updated
/// (the query service reloads its policy when the catalog's generation moves). A failure is
/// logged and the server carries on.
void EvaluateGovernance(catalog::Catalog& catalog, access::QueryService& queries) {
  auto evaluation = governance::EvaluateApplied(catalog, "schedule", "plexus serve", nullptr,
                                                governance::ViewStore::kWarm);
  if (!evaluation.ok()) {
    if (evaluation.status().code() != StatusCode::kNotFound) {
      observe::Log(observe::LogLevel::kError, "governance.evaluation_failed",
                   {{"message", evaluation.status().message()}});
    }
    return;
  }
  (void)queries.Refresh();
  std::cout << "plexus: governance: compliance " << static_cast<int>(evaluation->mesh.score + 0.5)
            << "/100, " << evaluation->mesh.block << " block, " << evaluation->mesh.warn
            << " warn (" << static_cast<int>(evaluation->load_ms + evaluation->run_ms) << " ms)"
            << std::endl;
}

/// --log-file and --log-level (a bad level or an unwritable file: the server does not start).
Status ConfigureLog(const ServeOptions& options) {
  auto level = observe::ParseLogLevel(options.log_level);
  if (!level) {
    return InvalidArgument("--log-level must be debug, info, warn or error, not " +
                           options.log_level);
  }
  observe::SetLogLevel(*level);
  if (!options.log_file.empty()) PLEXUS_RETURN_IF_ERROR(observe::SetLogFile(options.log_file));
  return Status::OK();
}

}  // namespace

Status Serve(const catalog::Home& home, const ServeOptions& options) {
  // Every thread started from here inherits the mask: the signals wait for sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  PLEXUS_RETURN_IF_ERROR(ConfigureLog(options));
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  // One engine for the consumers and the pipelines: runs commit while queries read.
  std::vector<std::string> folders;
  std::error_code ec;
  if (!options.mesh_dir.empty() &&
      std::filesystem::exists(std::filesystem::path(options.mesh_dir) / "mesh.yaml", ec)) {
    folders.push_back(options.mesh_dir);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto engine, pipeline::SharedEngine::Open(home, *catalog, folders));
  PLEXUS_ASSIGN_OR_RETURN(auto queries, access::QueryService::OpenShared(home, catalog.get(),
                                                                         engine->database()));
  pipeline::SchedulerOptions scheduling;
  scheduling.max_runs = options.max_runs;
  scheduling.log = [](const std::string& line) {
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::cout << line << std::endl;
    observe::LogSchedulerLine(line);  // the same, as a pipeline.run (or warning) log line
  };
  // Metrics, SLOs, trust scores, OpenLineage and alerts: it hears of every run from here on.
  observe::ObserveOptions observing;
  observing.slo_interval_s = options.slo_interval_s;
  observing.data = engine->database();
  PLEXUS_ASSIGN_OR_RETURN(auto observability,
                          observe::ObserveService::Start(home, catalog.get(), observing));
  observe::SetSinkStatsSource([service = observability.get()] { return service->Sinks(); });
  PLEXUS_ASSIGN_OR_RETURN(auto scheduler, pipeline::Scheduler::Open(home, catalog.get(),
                                                                    engine.get(), scheduling));
  PLEXUS_ASSIGN_OR_RETURN(auto http, HttpServer::Start(home, options.http,
                                                       {catalog.get(), queries.get(),
                                                        scheduler.get()}));
  std::unique_ptr<PgServer> pg;
  std::string pg_url;
  if (options.pg_enabled) {
    auto started = PgServer::Start(home, options.pg, {catalog.get(), queries.get()});
    if (started.ok()) {
      pg = std::move(started).value();
      pg_url = "postgresql://" + options.pg.host + ":" + std::to_string(pg->port()) + "/plexus";
    } else if (started.status().code() == StatusCode::kIOError && !options.pg_port_required) {
      observe::Log(observe::LogLevel::kWarn, "serve.pg_unavailable",
                   {{"message", started.status().message() +
                                    "; serving HTTP only (choose a port with --pg-port)"}});
    } else {
      return started.status();
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto published,
                          PublishedServer::Publish(home, catalog.get(), http->url(), pg_url));
  std::cout << "plexus: serving HTTP on http://" << options.http.host << ":" << http->port()
            << "/api/v1/products  (Ctrl-C stops)" << std::endl;
  if (pg != nullptr) {
    std::cout << "plexus: serving PostgreSQL wire protocol on " << options.pg.host << ":"
              << pg->port() << (pg->tls() ? " (TLS)" : "") << std::endl;
  }
  scheduler->StartPlanning();  // after the listeners' lines: tests read those first
  // The governance schedule runs on this thread, between signals.
  while (true) {
    if (options.governance_interval_s > 0) EvaluateGovernance(*catalog, *queries);
    if (options.governance_interval_s <= 0) {
      int received = 0;
      sigwait(&signals, &received);
      break;
    }
    auto wait = std::chrono::duration<double>(options.governance_interval_s);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait);
    timespec timeout{static_cast<time_t>(seconds.count()),
                     static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           wait - seconds).count())};
    if (sigtimedwait(&signals, nullptr, &timeout) > 0) break;  // else EAGAIN: time to evaluate
  }
  if (pg != nullptr) pg->Stop();
  http->Stop();
  http.reset();
  pg.reset();
  scheduler->Stop();  // the runs going end; then the engine closes after the queries
  scheduler.reset();
  observe::SetSinkStatsSource(nullptr);
  observability.reset();  // after the last run: its events are delivered (for up to 2 s)
  queries.reset();
  engine.reset();
  std::cout << "plexus: stopped" << std::endl;
  return Status::OK();
}

}  // namespace plexus::server
