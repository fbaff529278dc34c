// CdcReadAhead (cdc_apply.h): a catch-up reads and parses the next batch on another thread
// while the caller's applies the current one.
#include <future>

#include "plexus/pipeline/cdc_apply.h"

namespace plexus::pipeline {

struct CdcReadAhead::Ahead {
  Result<ChangeBatch> batch = ChangeBatch{};
  std::unique_ptr<CdcParseAhead> parsed;
  std::future<void> done;  ///< the reading thread (its result is in batch and parsed)
};

CdcReadAhead::CdcReadAhead(ChangeSource* source, CdcApplier* applier, size_t max_events)
    : source_(source), applier_(applier), max_events_(max_events) {}

CdcReadAhead::~CdcReadAhead() { Settle(); }

void CdcReadAhead::Settle() {
  if (ahead_ != nullptr && ahead_->done.valid()) ahead_->done.get();
}

Result<ChangeBatch> CdcReadAhead::Next(std::chrono::milliseconds wait, bool catch_up) {
  parsed_.reset();
  ChangeBatch batch;
  if (ahead_ != nullptr) {
    Settle();
    auto taken = std::move(ahead_);
    PLEXUS_RETURN_IF_ERROR(taken->batch.status());
    batch = std::move(*taken->batch);
    parsed_ = std::move(taken->parsed);
  } else {
    PLEXUS_ASSIGN_OR_RETURN(batch, source_->Read(max_events_, wait));
  }
  if (!batch.events.empty() && (catch_up || batch.events.size() >= max_events_)) {
    ahead_ = std::make_unique<Ahead>();
    ahead_->parsed = applier_->ParseAhead();  // the table's columns as they are now
    Ahead* next = ahead_.get();
    ahead_->done = std::async(std::launch::async, [this, next] {
      next->batch = source_->Read(max_events_, std::chrono::milliseconds(0));
      if (next->batch.ok() && next->parsed != nullptr) next->parsed->Run(next->batch->events);
    });
  }
  return batch;
}

Result<ApplyReport> CdcReadAhead::Apply(const ChangeBatch& batch) {
  return applier_->Apply(batch.events, batch.offsets, std::move(parsed_));
}

Status CdcReadAhead::Rewind(const SourceOffsets& committed) {
  Settle();
  ahead_.reset();
  parsed_.reset();
  return source_->Open(committed);
}

}  // namespace plexus::pipeline
