// ChangeStream: one product's CDC inputs (sources and appliers), stepped by `plexus serve`,
// caught up by `plexus run`, and the target of pushed events (HTTP push, `plexus ingest`).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/cdc_lookup.h"
#include "plexus/pipeline/quality_check.h"
#include "plexus/spec/parse.h"

namespace plexus::pipeline {
namespace {

CatchUpProgress& Progress() {
  static CatchUpProgress progress;
  return progress;
}

/// An error of a source, named once: the source's description unless the message has it.
void Add(ApplyReport& total, const ApplyReport& r) {
  total.events += r.events;
  total.upserted += r.upserted;
  total.deleted += r.deleted;
  total.stale += r.stale;
  total.dead_lettered += r.dead_lettered;
  total.compacted += r.compacted;
  total.seconds += r.seconds;
  total.newest_event_ms = std::max(total.newest_event_ms, r.newest_event_ms);
  for (const auto& c : r.new_columns) total.new_columns.push_back(c);
  if (r.paused) {
    total.paused = true;
    total.pause_reason = r.pause_reason;
  }
}

/// The newest major of each output port of a product: the one its pipeline builds.
std::vector<catalog::OutputPortRecord> CurrentPorts(const catalog::ProductRecord& product) {
  std::map<std::string, const catalog::OutputPortRecord*> newest;
  for (const auto& port : product.outputs) {
    auto& slot = newest[port.name];
    if (slot == nullptr || port.major > slot->major) slot = &port;
  }
  std::vector<catalog::OutputPortRecord> out;
  for (const auto& [name, port] : newest) out.push_back(*port);
  return out;
}

class Stream : public ChangeStream {
 public:
  struct Input {
    spec::PipelineInput spec;
    std::unique_ptr<ChangeSource> source;  ///< null for http inputs
    std::unique_ptr<CdcApplier> applier;
    SourceOffsets committed;  ///< as last committed with the data
    std::unique_ptr<CdcReadAhead> reader;  ///< of source into applier; null for http inputs
  };

  Stream(catalog::Catalog* catalog, catalog::ProductRecord product, spec::Schedule schedule,
         std::unique_ptr<engine::Connection> conn)
      : catalog_(catalog), product_(std::move(product)), schedule_(schedule),
        conn_(std::move(conn)) {}

  Status Init(const spec::Pipeline& pipeline) {
    PLEXUS_ASSIGN_OR_RETURN(auto state, catalog_->GetPipelineState(product_.id));
    paused_ = state.paused ? state.reason : "";
    std::vector<catalog::OutputPortRecord> ports = CurrentPorts(product_);
    // Each output's steps, `use` expanded, and what their lookups read (one set of inputs for
    // the product's appliers, on the stream's connection).
    auto feeds = [&](const spec::PipelineInput& in, const spec::PipelineOutput& out) {
      return out.from == in.name ||
             (out.from.empty() && out.sql.empty() && pipeline.inputs.size() == 1);
    };
    std::map<std::string, std::vector<ChainStep>> expanded;
    std::vector<std::string> lookup_names;
    for (const auto& out : pipeline.outputs) {
      bool fed = std::any_of(
          pipeline.inputs.begin(), pipeline.inputs.end(),
          [&](const spec::PipelineInput& in) { return in.cdc.has_value() && feeds(in, out); });
      if (!fed || out.steps.empty()) continue;
      PLEXUS_ASSIGN_OR_RETURN(expanded[out.port], ExpandSteps(out.steps));
      for (auto& name : internal::LookupInputNames(expanded[out.port])) {
        lookup_names.push_back(std::move(name));
      }
    }
    if (!lookup_names.empty()) {
      PLEXUS_ASSIGN_OR_RETURN(lookups_, internal::LookupInputs::Open(*conn_, *catalog_, product_,
                                                                     pipeline, lookup_names));
    }
    for (const auto& in : pipeline.inputs) {
      if (!in.cdc) continue;
      std::vector<catalog::OutputPortRecord> fed;
      CdcSteps steps;
      steps.lookups = lookups_;
      for (const auto& out : pipeline.outputs) {
        if (!feeds(in, out)) continue;
        if (!out.steps.empty()) {
          steps.by_port[out.port] = expanded[out.port];
          if (steps.salt.empty()) {
            PLEXUS_ASSIGN_OR_RETURN(steps.salt, catalog_->MaskSalt());
          }
        }
        bool found = false;
        for (const auto& p : ports) {
          if (p.name == out.port) {
            fed.push_back(p);
            found = true;
          }
        }
        if (!found) return InvalidArgument("pipeline output " + out.port + " is not an output port");
      }
      Input input;
      input.spec = in;
      PLEXUS_ASSIGN_OR_RETURN(input.applier,
                              CdcApplier::Open(conn_.get(), product_.domain, product_.name,
                                               in.name, *in.cdc, fed, std::move(steps)));
      if (in.cdc->source != "http") {
        std::string slot = "plexus_" + product_.domain + "_" + product_.name + "_" + in.name;
        PLEXUS_ASSIGN_OR_RETURN(input.source, MakeChangeSource(*in.cdc, product_.dir, slot));
        PLEXUS_ASSIGN_OR_RETURN(input.committed, input.applier->Committed());
        PLEXUS_RETURN_IF_ERROR(input.source->Open(input.committed));
        size_t max = static_cast<size_t>(std::max<int64_t>(1, schedule_.max_batch_events));
        input.reader =
            std::make_unique<CdcReadAhead>(input.source.get(), input.applier.get(), max);
      }
      inputs_.push_back(std::move(input));
    }
    if (inputs_.empty()) {
      return FailedPrecondition(product_.QualifiedName() + " has no CDC input");
    }
    return Status::OK();
  }

  /// An output's steps with `use` expanded (the domain's processors, then the mesh's).
  Result<std::vector<ChainStep>> ExpandSteps(const std::vector<spec::ProcessorStep>& steps) {
    std::vector<spec::ProcessorDefinition> domain_processors, mesh_processors;
    if (std::any_of(steps.begin(), steps.end(),
                    [](const spec::ProcessorStep& step) { return step.kind == "use"; })) {
      PLEXUS_ASSIGN_OR_RETURN(domain_processors, catalog_->Processors(product_.domain));
      PLEXUS_ASSIGN_OR_RETURN(mesh_processors, catalog_->Processors("mesh"));
    }
    return ExpandChain(steps, domain_processors, mesh_processors);
  }

  Result<ApplyReport> Step(std::chrono::milliseconds wait) override {
    ApplyReport total;
    bool read = false;
    PLEXUS_RETURN_IF_ERROR(StepOnce(wait, total, &read, false));
    if (read) PLEXUS_RETURN_IF_ERROR(RecordRun(total).status());
    return total;
  }

  Result<ApplyReport> CatchUp() override {
    ApplyReport total;
    int64_t batches = 0;
    while (paused_.empty()) {
      bool read = false;
      Status s = StepOnce(std::chrono::milliseconds(0), total, &read, true);
      if (!s.ok()) {
        if (total.events > 0) (void)RecordRun(total, s.message());
        return s;
      }
      if (!read) break;
      batches++;
      if (Progress()) Progress()(total, batches);
    }
    PLEXUS_ASSIGN_OR_RETURN(int64_t run_id, RecordRun(total));
    if (!paused_.empty()) {
      total.paused = true;
      total.pause_reason = paused_;
      return total;
    }
    PLEXUS_RETURN_IF_ERROR(CheckQuality(run_id, total));
    return total;
  }

  Result<ApplyReport> Push(const std::string& input, std::vector<std::string> events) override {
    if (!paused_.empty()) {
      return FailedPrecondition("the pipeline of " + product_.QualifiedName() +
                                " is paused: " + paused_);
    }
    Input* target = nullptr;
    for (auto& in : inputs_) {
      if (in.spec.name == input) target = &in;
    }
    if (target == nullptr) {
      return NotFound(product_.QualifiedName() + " has no CDC input named " + input);
    }
    if (target->source != nullptr) {
      return FailedPrecondition("the CDC input " + input + " reads its events from " +
                                target->source->Describe() + "; only http inputs take pushes");
    }
    PLEXUS_ASSIGN_OR_RETURN(ApplyReport report, target->applier->Apply(events, {}));
    PLEXUS_RETURN_IF_ERROR(AfterApply(*target, report));
    PLEXUS_RETURN_IF_ERROR(RecordRun(report, "", "push").status());
    return report;
  }

  std::string paused() const override { return paused_; }

  Status FullRefresh() override {
    for (auto& in : inputs_) PLEXUS_RETURN_IF_ERROR(in.applier->Reset());
    PLEXUS_RETURN_IF_ERROR(Resume());
    for (auto& in : inputs_) {
      in.committed.clear();
      if (in.reader != nullptr) PLEXUS_RETURN_IF_ERROR(in.reader->Rewind({}));
    }
    return Status::OK();
  }

  Status Resume() override {
    PLEXUS_RETURN_IF_ERROR(catalog_->SetPipelinePaused(product_.id, ""));
    paused_.clear();
    return Status::OK();
  }

  void SetTrigger(std::string trigger) override { trigger_ = std::move(trigger); }

  Status Backfill(const std::string& input, const std::string& from) override {
    Input* target = nullptr;
    for (auto& in : inputs_) {
      if (in.spec.name == input) target = &in;
    }
    if (target == nullptr) {
      return NotFound(product_.QualifiedName() + " has no CDC input named " + input);
    }
    const spec::CdcSpec& cdc = *target->spec.cdc;
    if (from.empty()) return InvalidArgument("--from names where the backfill starts");
    SourceOffsets rewound = target->committed;
    if (cdc.source == "files") {
      if (from.find('/') != std::string::npos || from == "." || from == "..") {
        return InvalidArgument("--from names a file of the input's folder (no path): " + from);
      }
      namespace fs = std::filesystem;
      fs::path folder = fs::path(cdc.folder).is_absolute() ? fs::path(cdc.folder)
                                                           : fs::path(product_.dir) / cdc.folder;
      std::error_code ec;
      if (!fs::is_regular_file(folder / from, ec)) {
        return NotFound("no file " + from + " in " + folder.string() + " (the input " + input +
                        " of " + product_.QualifiedName() + ")");
      }
      rewound["file"] = from + ":0";
    } else if (cdc.source == "kafka") {
      size_t start = 0;
      while (start <= from.size()) {
        size_t comma = from.find(',', start);
        if (comma == std::string::npos) comma = from.size();
        std::string pair = from.substr(start, comma - start);
        size_t colon = pair.find(':');
        auto digits = [](const std::string& t) {
          return !t.empty() && t.find_first_not_of("0123456789") == std::string::npos;
        };
        if (colon == std::string::npos || !digits(pair.substr(0, colon)) ||
            !digits(pair.substr(colon + 1))) {
          return InvalidArgument("--from for a kafka input takes partition:offset pairs "
                                 "separated by commas (e.g. 0:120,1:0), not '" + pair + "'");
        }
        rewound[cdc.topic + "/" + pair.substr(0, colon)] = pair.substr(colon + 1);
        start = comma + 1;
      }
    } else if (cdc.source == "postgres") {
      return FailedPrecondition(
          "the input " + input + " reads PostgreSQL through a replication slot, which cannot "
          "go back: rebuild the product with plexus run --full-refresh " +
          product_.QualifiedName());
    } else {
      return FailedPrecondition("the input " + input + " takes pushed events (cdc.source: " +
                                cdc.source + "): there is nothing to re-read; push them again");
    }
    // The committed offsets, replaced in one transaction (the applier's table, cdc_apply.h).
    std::string table = engine::QuoteIdentifier(catalog::Home::AttachName(product_.domain)) +
                        ".main.plexus_cdc_offsets";
    std::string where = " WHERE product = " + engine::QuoteLiteral(product_.name) +
                        " AND input = " + engine::QuoteLiteral(input);
    std::string sql = "BEGIN TRANSACTION; DELETE FROM " + table + where + ";";
    for (const auto& [partition, position] : rewound) {
      sql += "INSERT INTO " + table + " VALUES (" + engine::QuoteLiteral(product_.name) + ", " +
             engine::QuoteLiteral(input) + ", " + engine::QuoteLiteral(partition) + ", " +
             engine::QuoteLiteral(position) + ");";
    }
    sql += "COMMIT;";
    Status written = conn_->Execute(sql);
    if (!written.ok()) {
      (void)conn_->Execute("ROLLBACK");
      return written;
    }
    target->committed = rewound;
    return target->reader->Rewind(rewound);
  }

 private:
  /// One micro-batch per source input; `read` tells whether any event was read. `catch_up`:
  /// each input's next batch is read and parsed while this one is applied (CdcReadAhead).
  Status StepOnce(std::chrono::milliseconds wait, ApplyReport& total, bool* read,
                  bool catch_up) {
    if (!paused_.empty()) {
      total.paused = true;
      total.pause_reason = paused_;
      return Status::OK();
    }
    bool first = true;
    for (auto& in : inputs_) {
      if (in.reader == nullptr) continue;
      PLEXUS_ASSIGN_OR_RETURN(
          ChangeBatch batch,
          in.reader->Next(first ? wait : std::chrono::milliseconds(0), catch_up));
      first = false;
      if (batch.events.empty() && batch.offsets == in.committed) continue;
      if (!batch.events.empty()) *read = true;
      auto applied = in.reader->Apply(batch);
      if (!applied.ok() || applied->paused) {
        // Nothing of the batch was applied: the source goes back to the committed offsets (and
        // what was read ahead is dropped), so the batch is read again after a resume (or the
        // next step) instead of being skipped.
        PLEXUS_RETURN_IF_ERROR(in.reader->Rewind(in.committed));
      }
      PLEXUS_RETURN_IF_ERROR(applied.status());
      const ApplyReport& report = *applied;
      Add(total, report);
      PLEXUS_RETURN_IF_ERROR(AfterApply(in, report));
      if (report.paused) break;
      in.committed = batch.offsets;
      in.reader->Settle();  // the source is this thread's again
      PLEXUS_RETURN_IF_ERROR(in.source->Acknowledge(batch.offsets));
    }
    return Status::OK();
  }

  /// Records a pause, or the proposals of the columns the batch added.
  Status AfterApply(Input& in, const ApplyReport& report) {
    if (report.paused) {
      paused_ = report.pause_reason;
      return catalog_->SetPipelinePaused(product_.id, paused_);
    }
    for (const auto& added : in.applier->added_columns()) {
      for (const auto& port : in.applier->ports()) {
        if (port.name != added.port) continue;
        catalog::SchemaProposalRecord proposal;
        proposal.product_id = product_.id;
        proposal.port = port.name;
        proposal.column = added.column;
        proposal.type = added.type;
        proposal.proposed_version = ProposedVersion(port);
        PLEXUS_RETURN_IF_ERROR(catalog_->RecordSchemaProposal(proposal));
      }
    }
    changed_ = changed_ || report.upserted > 0 || report.deleted > 0;
    return Status::OK();
  }

  /// One run in the catalog, and the ports' publications when their data changed.
  /// Records the run (publishing the ports' row counts when they changed); its id.
  Result<int64_t> RecordRun(const ApplyReport& report, const std::string& error = "",
                            const std::string& trigger = "") {
    PLEXUS_ASSIGN_OR_RETURN(int64_t run_id,
                            catalog_->StartRun(product_.id, trigger.empty() ? trigger_ : trigger));
    std::string status = "succeeded", reason;
    if (!error.empty()) {
      status = "failed";
      reason = error;
    } else if (report.paused) {
      status = "failed";
      reason = "paused: " + report.pause_reason;
    }
    if (changed_ || never_published_) {
      for (const auto& in : inputs_) {
        for (const auto& port : in.applier->ports()) {
          auto rows = conn_->QueryScalar(
              "SELECT count(*) FROM " +
              engine::QuoteIdentifier(catalog::Home::AttachName(port.domain)) + ".main." +
              engine::QuoteIdentifier(port.PhysicalTable()));
          if (!rows.ok()) return rows.status();
          PLEXUS_RETURN_IF_ERROR(catalog_->RecordPublication(port, std::stoll(*rows), run_id));
          rows_[port.name] = std::stoll(*rows);
        }
      }
      changed_ = false;
      never_published_ = false;
    }
    PLEXUS_RETURN_IF_ERROR(catalog_->RecordRunMetrics(RunMetrics(report, run_id)));
    PLEXUS_RETURN_IF_ERROR(
        catalog_->FinishRun(run_id, status, reason, report.upserted + report.deleted));
    return run_id;
  }

  /// Each output port's contract quality rules on its table as the catch-up left it, recorded
  /// with run `run_id` and added to `report`. A failed rule does not undo the changes (they are
  /// the source's state): the run shows it, and so do plexus quality, alerts and trust.
  Status CheckQuality(int64_t run_id, ApplyReport& report) {
    access::SqlGuard guard;
    std::set<std::string> checked;  // two inputs may feed one port
    std::vector<catalog::QualityResultRecord> results;
    for (const auto& in : inputs_) {
      for (const auto& port : in.applier->ports()) {
        if (!checked.insert(port.PhysicalTable()).second) continue;
        PLEXUS_ASSIGN_OR_RETURN(auto port_results, EvaluatePortQuality(*conn_, guard, *catalog_,
                                                                       port, PublishedTable(port)));
        for (auto& result : port_results) result.run_id = run_id;
        results.insert(results.end(), port_results.begin(), port_results.end());
      }
    }
    PLEXUS_RETURN_IF_ERROR(catalog_->RecordQualityResults(results));
    report.quality = std::move(results);
    return Status::OK();
  }

  /// The run's figures (issue 9) for each output port: events in, rows upserted or deleted
  /// out, dead letters rejected (a product's figures, for each of its ports).
  std::vector<catalog::RunMetricRecord> RunMetrics(const ApplyReport& report,
                                                   int64_t run_id) const {
    std::vector<catalog::RunMetricRecord> out;
    for (const auto& in : inputs_) {
      for (const auto& port : in.applier->ports()) {
        catalog::RunMetricRecord m;
        m.run_id = run_id;
        m.product_id = product_.id;
        m.port = port.name;
        m.rows_in = report.events;
        m.rows_out = report.upserted + report.deleted;
        m.rows_rejected = report.dead_lettered;
        m.seconds = report.seconds;
        m.lag_seconds = report.newest_event_ms > 0
                            ? std::max(0.0, NowMillis() / 1000.0 - report.newest_event_ms / 1000.0)
                            : -1;
        out.push_back(std::move(m));
      }
    }
    return out;
  }

  static double NowMillis() {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
  }

 public:
  std::map<std::string, int64_t> rows_;  ///< port -> rows at the last publication
  bool never_published_ = true;

 private:
  catalog::Catalog* catalog_;
  catalog::ProductRecord product_;
  spec::Schedule schedule_;
  std::unique_ptr<engine::Connection> conn_;
  std::shared_ptr<internal::LookupInputs> lookups_;  ///< null: no step is a lookup
  std::vector<Input> inputs_;
  std::string paused_;
  std::string trigger_ = "manual";
  bool changed_ = false;
};

Result<spec::Pipeline> PipelineOf(const catalog::ProductRecord& product) {
  if (product.pipeline_text.empty()) {
    return FailedPrecondition("product " + product.QualifiedName() + " has no pipeline.yaml");
  }
  std::vector<spec::Diagnostic> problems;
  return spec::ParsePipelineText(product.pipeline_text, product.pipeline_file, &problems);
}

Result<std::unique_ptr<Stream>> OpenStream(catalog::Catalog* catalog, engine::Database* db,
                                           const catalog::ProductRecord& product) {
  PLEXUS_ASSIGN_OR_RETURN(spec::Pipeline pipeline, PipelineOf(product));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
  auto stream = std::make_unique<Stream>(catalog, product, pipeline.schedule, std::move(conn));
  PLEXUS_RETURN_IF_ERROR(stream->Init(pipeline));
  return stream;
}

}  // namespace

Result<std::unique_ptr<ChangeStream>> ChangeStream::Open(const catalog::Home& home,
                                                         catalog::Catalog* catalog,
                                                         engine::Database* db,
                                                         const std::string& product) {
  (void)home;
  PLEXUS_ASSIGN_OR_RETURN(auto record, catalog->GetProduct(product));
  PLEXUS_ASSIGN_OR_RETURN(auto stream, OpenStream(catalog, db, record));
  return std::unique_ptr<ChangeStream>(std::move(stream));
}

bool HasCdcInputs(const catalog::ProductRecord& product) {
  auto pipeline = PipelineOf(product);
  if (!pipeline.ok()) return false;
  for (const auto& in : pipeline->inputs) {
    if (in.cdc) return true;
  }
  return false;
}

void SetCatchUpProgress(CatchUpProgress progress) { Progress() = std::move(progress); }

RunReport CatchUpCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                            engine::Database* db, const catalog::ProductRecord& product) {
  return CatchUpCdcProduct(home, catalog, db, product, "manual");
}

namespace {

/// A catch-up of `product` (after `prepare`, when given), as plexus run reports it.
RunReport CatchUpReport(catalog::Catalog* catalog, engine::Database* db,
                        const catalog::ProductRecord& product, const std::string& trigger,
                        const std::function<Status(ChangeStream&)>& prepare) {
  RunReport report;
  report.product = product.QualifiedName();
  auto start = std::chrono::steady_clock::now();
  auto finish = [&](const std::string& status, const std::string& reason) {
    report.status = status;
    report.reason = reason;
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto runs = catalog->ListRuns(product.id, 1);
    if (runs.ok() && !runs->empty()) report.run_id = runs->front().id;
    auto state = catalog->GetPipelineState(product.id);
    if (state.ok() && state->paused) report.paused = state->reason;
    auto proposals = catalog->ListSchemaProposals(product.id);
    if (proposals.ok()) report.proposals = std::move(proposals).value();
    return report;
  };
  auto stream = OpenStream(catalog, db, product);
  if (stream.ok() && prepare) {
    Status prepared = prepare(**stream);
    if (!prepared.ok()) return finish("failed", prepared.message());
  }
  if (!stream.ok()) {
    auto run_id = catalog->StartRun(product.id, trigger);
    if (run_id.ok()) (void)catalog->FinishRun(*run_id, "failed", stream.status().message(), 0);
    return finish("failed", stream.status().message());
  }
  (*stream)->SetTrigger(trigger);
  auto applied = (*stream)->CatchUp();
  if (!applied.ok()) return finish("failed", applied.status().message());
  report.changes = RunReport::Changes{.events = applied->events,
                                      .upserted = applied->upserted,
                                      .deleted = applied->deleted,
                                      .stale = applied->stale,
                                      .dead_lettered = applied->dead_lettered,
                                      .compacted = applied->compacted};
  if (applied->paused) {
    return finish("failed", "paused (the last good data is still served): " +
                                applied->pause_reason);
  }
  report.quality = applied->quality;
  // The rows of each port now.
  for (const auto& port : CurrentPorts(product)) {
    auto it = (*stream)->rows_.find(port.name);
    if (it != (*stream)->rows_.end()) {
      report.rows[port.name] = it->second;
    } else if (port.rows >= 0) {
      report.rows[port.name] = port.rows;
    }
  }
  return finish("succeeded", "");
}

}  // namespace

RunReport CatchUpCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                            engine::Database* db, const catalog::ProductRecord& product,
                            const std::string& trigger) {
  (void)home;
  return CatchUpReport(catalog, db, product, trigger, nullptr);
}

RunReport BackfillCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                             engine::Database* db, const catalog::ProductRecord& product,
                             const std::string& input, const std::string& from) {
  (void)home;
  return CatchUpReport(catalog, db, product, "backfill", [&](ChangeStream& stream) {
    return stream.Backfill(input, from);
  });
}

Status FullRefreshCdcProduct(const catalog::Home& home, catalog::Catalog* catalog,
                             engine::Database* db, const catalog::ProductRecord& product) {
  (void)home;
  PLEXUS_ASSIGN_OR_RETURN(auto stream, OpenStream(catalog, db, product));
  return stream->FullRefresh();
}

}  // namespace plexus::pipeline
