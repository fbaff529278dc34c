// The CDC half of the Scheduler: each product's one ChangeStream, its continuous micro-batch
// loop, pushes to its http inputs, and pause and resume (scheduler.h).
#include <filesystem>

#include "plexus/pipeline/scheduler.h"
#include "plexus/spec/parse.h"

namespace plexus::pipeline {

Result<int64_t> Scheduler::LastRunId(const std::string& product) {
  PLEXUS_ASSIGN_OR_RETURN(auto record, catalog_->GetProduct(product));
  PLEXUS_ASSIGN_OR_RETURN(auto runs, catalog_->ListRuns(record.id, 1));
  return runs.empty() ? int64_t{0} : runs.front().id;
}

bool Scheduler::Sleep(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  int64_t wakes = wakes_;
  cv_.wait_for(lock, wait, [&] { return stopping_ || wakes_ != wakes; });
  return !stopping_;
}

Status Scheduler::WithStream(const std::string& product,
                             const std::function<Status(ChangeStream&)>& use) {
  std::shared_ptr<StreamSlot> slot;
  int64_t epoch = 0;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] {
      return stopping_ || (!planner_.IsRunning(product) && runs_waiting_[product] == 0);
    });
    if (stopping_) return FailedPrecondition("plexus serve is stopping");
    stream_users_[product]++;
    auto& held = slots_[product];
    if (held == nullptr) held = std::make_shared<StreamSlot>();
    slot = held;
    epoch = epochs_[product];
  }
  Status status;
  {
    std::lock_guard use_lock(slot->mu);
    if (slot->stream == nullptr || slot->epoch != epoch) {
      slot->stream.reset();
      auto record = catalog_->GetProduct(product);
      status = record.ok() ? engine_->ReadableFolder(record->dir) : record.status();
      if (status.ok()) status = engine_->AttachDomain(record->domain);
      for (size_t i = 0; status.ok() && i < record->inputs.size(); i++) {
        const std::string& upstream = record->inputs[i].upstream_domain;
        if (!upstream.empty() && std::filesystem::exists(home_.DomainDataPath(upstream))) {
          status = engine_->AttachDomain(upstream);
        }
      }
      if (status.ok()) {
        auto opened = ChangeStream::Open(home_, catalog_, engine_->database(), product);
        if (opened.ok()) {
          slot->stream = std::move(opened).value();
          slot->epoch = epoch;
        } else {
          status = opened.status();
        }
      }
    }
    if (status.ok()) status = use(*slot->stream);
  }
  {
    std::lock_guard lock(mu_);
    stream_users_[product]--;
  }
  cv_.notify_all();
  return status;
}

Result<ApplyReport> Scheduler::Push(const std::string& product, const std::string& input,
                                    std::vector<std::string> events) {
  PLEXUS_ASSIGN_OR_RETURN(auto record, catalog_->GetProduct(product));
  // What the input is, from the applied pipeline: not one, or not an http one, says so.
  std::vector<spec::Diagnostic> problems;
  auto pipeline = spec::ParsePipelineText(record.pipeline_text, record.pipeline_file, &problems);
  const spec::PipelineInput* found = nullptr;
  if (pipeline.ok()) {
    for (const auto& in : pipeline->inputs) {
      if (in.name == input) found = &in;
    }
  }
  if (found == nullptr) {
    return NotFound(record.QualifiedName() + " has no input named " + input);
  }
  if (!found->cdc.has_value() || found->cdc->source != "http") {
    return InvalidArgument("the input " + input + " of " + record.QualifiedName() +
                           " is not an http CDC input (cdc.source: http): it takes no pushes");
  }
  PLEXUS_ASSIGN_OR_RETURN(auto state, catalog_->GetPipelineState(record.id));
  if (state.paused) {
    return FailedPrecondition("the pipeline of " + record.QualifiedName() +
                              " is paused: " + state.reason +
                              " (plexus pipeline resume " + record.QualifiedName() + ")");
  }
  ApplyReport report;
  PLEXUS_RETURN_IF_ERROR(WithStream(record.QualifiedName(), [&](ChangeStream& stream) {
    PLEXUS_ASSIGN_OR_RETURN(report, stream.Push(input, std::move(events)));
    return Status::OK();
  }));
  return report;
}

Status Scheduler::Pause(const std::string& product, const std::string& reason) {
  PLEXUS_ASSIGN_OR_RETURN(auto record, catalog_->GetProduct(product));
  PLEXUS_RETURN_IF_ERROR(
      catalog_->SetPipelinePaused(record.id, reason.empty() ? "paused" : reason));
  std::lock_guard lock(mu_);
  epochs_[record.QualifiedName()]++;  // an open stream reads its state anew
  return Status::OK();
}

Status Scheduler::Resume(const std::string& product) {
  PLEXUS_ASSIGN_OR_RETURN(auto record, catalog_->GetProduct(product));
  std::shared_ptr<StreamSlot> slot;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(record.QualifiedName());
    if (it != slots_.end()) slot = it->second;
  }
  bool resumed = false;
  if (slot != nullptr) {
    // An open stream clears its pause itself and keeps its sources: its loop steps at once.
    std::lock_guard use_lock(slot->mu);
    int64_t epoch = 0;
    {
      std::lock_guard lock(mu_);
      epoch = epochs_[record.QualifiedName()];
    }
    if (slot->stream != nullptr && slot->epoch == epoch) {
      PLEXUS_RETURN_IF_ERROR(slot->stream->Resume());
      resumed = true;
    }
  }
  if (!resumed) PLEXUS_RETURN_IF_ERROR(catalog_->SetPipelinePaused(record.id, ""));
  {
    std::lock_guard lock(mu_);
    wakes_++;
  }
  cv_.notify_all();
  return Status::OK();
}

Result<RunReport> Scheduler::Backfill(const std::string& product, const std::string& input,
                                      const std::string& from) {
  PLEXUS_ASSIGN_OR_RETURN(auto record, catalog_->GetProduct(product));
  RunReport report;
  report.product = record.QualifiedName();
  auto start = std::chrono::steady_clock::now();
  Status status = WithStream(record.QualifiedName(), [&](ChangeStream& stream) {
    PLEXUS_RETURN_IF_ERROR(stream.Backfill(input, from));
    stream.SetTrigger("backfill");
    auto applied = stream.CatchUp();
    stream.SetTrigger(TriggerName(RunTrigger::kManual));
    if (!applied.ok()) return applied.status();
    report.quality = applied->quality;
    if (applied->paused) {
      report.status = "failed";
      report.reason = "paused (the last good data is still served): " + applied->pause_reason;
    }
    return Status::OK();
  });
  if (!status.ok()) return status;
  if (report.status.empty()) report.status = "succeeded";
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PLEXUS_ASSIGN_OR_RETURN(report.run_id, LastRunId(record.QualifiedName()));
  PLEXUS_ASSIGN_OR_RETURN(auto state, catalog_->GetPipelineState(record.id));
  if (state.paused) report.paused = state.reason;
  PLEXUS_ASSIGN_OR_RETURN(report.proposals, catalog_->ListSchemaProposals(record.id));
  PLEXUS_ASSIGN_OR_RETURN(auto fresh, catalog_->GetProduct(product));
  for (const auto& port : fresh.outputs) {
    if (port.rows >= 0) report.rows[port.name] = port.rows;
  }
  return report;
}

void Scheduler::UpdateLoops(const std::map<std::string, double>& continuous) {
  for (auto it = loops_.begin(); it != loops_.end();) {
    if (continuous.count(it->first)) {
      ++it;
      continue;
    }
    it->second.stop->store(true);
    cv_.notify_all();
    if (it->second.thread.joinable()) it->second.thread.join();
    it = loops_.erase(it);
  }
  for (const auto& [product, latency_s] : continuous) {
    if (loops_.count(product)) continue;
    auto latency = std::chrono::milliseconds(
        std::max<int64_t>(10, static_cast<int64_t>(latency_s * 1000)));
    StepThread loop;
    loop.stop = std::make_shared<std::atomic<bool>>(false);
    loop.thread = std::thread([this, product = product, latency, stop = loop.stop] {
      StepLoop(product, latency, stop);
    });
    loops_.emplace(product, std::move(loop));
  }
}

void Scheduler::StepLoop(std::string product, std::chrono::milliseconds max_latency,
                         std::shared_ptr<std::atomic<bool>> stop) {
  std::string said_paused, said_error;
  while (!stop->load()) {
    auto start = std::chrono::steady_clock::now();
    ApplyReport report;
    std::string paused;
    Status status = WithStream(product, [&](ChangeStream& stream) {
      paused = stream.paused();
      if (!paused.empty()) return Status::OK();  // not stepped until resumed
      stream.SetTrigger(TriggerName(RunTrigger::kContinuous));  // the runs Step records
      PLEXUS_ASSIGN_OR_RETURN(report, stream.Step(max_latency));
      if (report.paused) paused = report.pause_reason;
      return Status::OK();
    });
    if (!status.ok()) {
      if (status.message() != said_error) {
        Log("plexus: stream " + product + " (continuous): " + status.message());
        said_error = status.message();
      }
      if (!Sleep(std::chrono::seconds(1))) return;
      continue;
    }
    said_error.clear();
    if (!paused.empty()) {
      if (paused != said_paused) Log("plexus: stream " + product + " paused: " + paused);
      said_paused = paused;
      if (!Sleep(std::chrono::milliseconds(500))) return;
      continue;
    }
    said_paused.clear();
    // A stream with nothing to wait on (http inputs only) returns at once: do not spin.
    auto spent = std::chrono::steady_clock::now() - start;
    if (report.events == 0 && spent < max_latency / 2) {
      if (!Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(max_latency - spent))) {
        return;
      }
    }
  }
}

}  // namespace plexus::pipeline
