// ChunkPrefetcher (pg_prefetch.h): one thread per streaming portal, a bounded queue of chunks.
#include "plexus/server/pg_prefetch.h"

namespace plexus::server::pg {

ChunkPrefetcher::ChunkPrefetcher(engine::QueryResult* result, size_t depth)
    : result_(result), depth_(depth > 0 ? depth : 1), thread_([this] { Run(); }) {}

ChunkPrefetcher::~ChunkPrefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  thread_.join();
}

void ChunkPrefetcher::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      room_.wait(lock, [&] { return stop_ || chunks_.size() < depth_; });
      if (stop_) return;
    }
    auto chunk = result_->Fetch();  // outside the lock: this is the work done ahead
    bool last = !chunk.ok() || *chunk == nullptr;
    {
      std::lock_guard lock(mu_);
      if (!chunk.ok()) error_ = chunk.status();
      if (last) {
        ended_ = true;
      } else {
        chunks_.push_back(std::move(chunk).value());
      }
    }
    ready_.notify_one();
    if (last) return;
  }
}

Result<std::unique_ptr<engine::DataChunk>> ChunkPrefetcher::Next() {
  std::unique_lock lock(mu_);
  ready_.wait(lock, [&] { return !chunks_.empty() || ended_; });
  if (chunks_.empty()) {
    if (!error_.ok()) return error_;
    return std::unique_ptr<engine::DataChunk>();
  }
  auto chunk = std::move(chunks_.front());
  chunks_.pop_front();
  lock.unlock();
  room_.notify_one();
  return chunk;
}

}  // namespace plexus::server::pg
