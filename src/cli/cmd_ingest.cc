// ingest: Debezium change events from an NDJSON file (or stdin) into a product's http CDC
// input, applied locally or through the running server that holds the home (docs/cdc.md).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/runner.h"

namespace plexus::cli {
namespace {

struct IngestArgs {
  std::string product;
  std::string input;
  std::string file;
};

/// Reads the events; a terminal sees a bar of the bytes read, events/s and an ETA.
Result<std::vector<std::string>> ReadEvents(const std::string& file) {
  std::ifstream in;
  std::istream* src = &std::cin;
  std::error_code ec;
  int64_t size = -1;
  if (file != "-") {
    in.open(file, std::ios::binary);
    if (!in) return NotFound("cannot read " + file);
    src = &in;
    auto bytes = std::filesystem::file_size(file, ec);
    if (!ec) size = static_cast<int64_t>(bytes);
  }
  std::atomic<int64_t> read{0}, count{0};
  ProgressLine progress;
  progress.Begin("reading " + (file == "-" ? std::string("stdin") : file));
  progress.Track([&read, &count, size] {
    observe::ProgressFigures f;
    f.unit = "events";
    f.done = count.load();
    if (size > 0) f.fraction = static_cast<double>(read.load()) / static_cast<double>(size);
    return f;
  });
  std::vector<std::string> events;
  std::string line;
  while (std::getline(*src, line)) {
    read.fetch_add(static_cast<int64_t>(line.size()) + 1, std::memory_order_relaxed);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    events.push_back(std::move(line));
    count.store(static_cast<int64_t>(events.size()), std::memory_order_relaxed);
  }
  progress.Track(nullptr);
  return events;
}

void PrintReport(const std::string& product, const std::string& input, int64_t events,
                 int64_t upserted, int64_t deleted, int64_t stale, int64_t dead,
                 const std::vector<std::string>& new_columns) {
  std::cout << "ingested " << events << " events into " << product << " (input " << input
            << "): " << upserted << " upserted, " << deleted << " deleted, " << stale
            << " stale, " << dead << " dead-lettered\n";
  for (const auto& c : new_columns) {
    std::cout << "new column at the source: " << c
              << " (kept; a minor contract bump is proposed: plexus show " << product << ")\n";
  }
}

Status Ingest(const Context& ctx, const IngestArgs& args) {
  PLEXUS_ASSIGN_OR_RETURN(auto events, ReadEvents(args.file));
  if (events.empty()) return InvalidArgument("no events in " + args.file);
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {  // a running server holds the home's files: push to it
    server::RemoteIngestReport r;
    {
      std::atomic<int64_t> pushed{0};
      auto all = static_cast<int64_t>(events.size());
      ProgressLine progress;  // a terminal sees each push's running total, a bar and an ETA
      progress.Begin("ingesting into " + args.product);
      progress.Track([&pushed, all] {
        observe::ProgressFigures f;
        f.unit = "events";
        f.done = pushed.load();
        f.total = all;
        f.fraction = static_cast<double>(f.done) / static_cast<double>(all);
        return f;
      });
      PLEXUS_ASSIGN_OR_RETURN(
          r, server::RemoteIngest(*remote, args.product, args.input, events,
                                  [&pushed](const server::RemoteIngestReport& total) {
                                    pushed.store(total.events);
                                  }));
      progress.Track(nullptr);
    }
    PrintReport(args.product, args.input, r.events, r.upserted, r.deleted, r.stale,
                r.dead_lettered, r.new_columns);
    if (r.paused) return FailedPrecondition("the pipeline paused: " + r.pause_reason);
    return Status::OK();
  }
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(auto observability, ObserveLocalRuns(home, catalog.get()));
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto product, catalog->GetProduct(args.product));
  bool role = actor.admin || actor.InDomain(product.domain);
  if (!role) {
    return PermissionDenied("ingesting into " + product.QualifiedName() +
                            " needs a mesh admin or an owner, member or the service principal "
                            "of domain " + product.domain);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto db, pipeline::OpenRunEngine(home, {&product}));
  PLEXUS_ASSIGN_OR_RETURN(auto stream,
                          pipeline::ChangeStream::Open(home, catalog.get(), db.get(), product.id));
  pipeline::ApplyReport r;
  {
    ProgressLine progress;  // one all-or-nothing batch: the time it takes
    progress.Begin("ingesting " + std::to_string(events.size()) + " events into " +
                   product.QualifiedName());
    PLEXUS_ASSIGN_OR_RETURN(r, stream->Push(args.input, std::move(events)));
  }
  PrintReport(product.QualifiedName(), args.input, r.events, r.upserted, r.deleted, r.stale,
              r.dead_lettered, r.new_columns);
  if (r.paused) {
    return FailedPrecondition("the pipeline paused (nothing of these events was applied; the "
                              "last good data is still served): " + r.pause_reason);
  }
  return Status::OK();
}

}  // namespace

void SetupIngest(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<IngestArgs>();
  sub.add_option("product", args->product, "The product (domain.product or id)")->required();
  sub.add_option("--input", args->input, "Its http CDC input")->required();
  sub.add_option("file", args->file, "NDJSON change events (- for stdin)")->required();
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Ingest(ctx, *args); }; });
}

}  // namespace plexus::cli
