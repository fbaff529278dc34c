// File: plexus/server/pg_prefetch.h (server-internal)
//
// Reads a streaming result's chunks on a thread of its own, a few chunks ahead of the
// connection thread, so that DuckDB's side of a big answer (its scan and the copies into the
// streaming buffer) runs while the connection thread encodes DataRows, encrypts and sends.
//
//   ChunkPrefetcher ahead(result, 4);
//   while (auto chunk = ahead.Next(); chunk.ok() && *chunk) ... ;
//
// Thread safety: Next() is called by one thread (the connection's); the result must not be
// touched by anyone else until the prefetcher is destroyed (the destructor stops and joins
// the thread; a fetch in progress finishes first, or ends early when the query is interrupted).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::server::pg {

class ChunkPrefetcher {
 public:
  /// Starts fetching from `result` (which must outlive this) at once, keeping at most
  /// `depth` chunks waiting.
  ChunkPrefetcher(engine::QueryResult* result, size_t depth);
  ~ChunkPrefetcher();
  ChunkPrefetcher(const ChunkPrefetcher&) = delete;
  ChunkPrefetcher& operator=(const ChunkPrefetcher&) = delete;

  /// The next chunk in order, nullptr at the end, or the error the fetch met: what
  /// QueryResult::Fetch would have answered. Waits for the chunk when none is ready.
  Result<std::unique_ptr<engine::DataChunk>> Next();

 private:
  void Run();

  engine::QueryResult* result_;
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable ready_;  // a chunk, the end or an error arrived
  std::condition_variable room_;   // a chunk was taken, or stop
  std::deque<std::unique_ptr<engine::DataChunk>> chunks_;
  Status error_;
  bool ended_ = false;  // no more chunks after chunks_ (the end, or error_)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace plexus::server::pg
