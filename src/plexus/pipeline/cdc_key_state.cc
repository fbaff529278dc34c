// The fast path's in-memory key state (cdc_key_state.h).
#include "plexus/pipeline/cdc_key_state.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace plexus::pipeline::internal {
namespace {

std::mutex writes_mu;
std::map<std::string, uint64_t>& Writes() {
  static std::map<std::string, uint64_t> writes;
  return writes;
}

/// The first index at or after `from` whose key is >= `key` (galloping: the keys looked up are
/// ascending, so each search starts where the last ended and touches few cache lines).
size_t Seek(const std::vector<int64_t>& keys, size_t from, int64_t key) {
  size_t step = 1, lo = from, hi = from;
  while (hi < keys.size() && keys[hi] < key) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = std::min(hi, keys.size());
  return static_cast<size_t>(std::lower_bound(keys.begin() + lo, keys.begin() + hi, key) -
                             keys.begin());
}

}  // namespace

uint64_t KeyStateWrites(const std::string& keys_table) {
  std::lock_guard lock(writes_mu);
  return Writes()[keys_table];
}

uint64_t BumpKeyStateWrites(const std::string& keys_table) {
  std::lock_guard lock(writes_mu);
  return ++Writes()[keys_table];
}

Result<std::unique_ptr<IntKeyState>> IntKeyState::Load(engine::Connection& conn,
                                                       const std::string& keys_table,
                                                       const std::string& key) {
  PLEXUS_ASSIGN_OR_RETURN(auto count, conn.QueryScalar("SELECT count(*) FROM " + keys_table));
  if (std::stoull(count) > kMaxKeys) return std::unique_ptr<IntKeyState>();
  auto state = std::make_unique<IntKeyState>();
  // By key, then position: should a key be there twice, its latest state is kept.
  PLEXUS_ASSIGN_OR_RETURN(auto result,
                          conn.Query("SELECT " + key + ", _cdc_pos, _cdc_deleted FROM " +
                                     keys_table + " ORDER BY 1, 2"));
  Run& run = state->base_;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    // VectorRef reads BIGINTs exactly (DataChunk::GetInt64 goes through a double).
    engine::VectorRef keys = chunk->Column(0), positions = chunk->Column(1);
    engine::VectorRef deleted = chunk->Column(2);
    for (size_t r = 0; r < chunk->size(); r++) {
      int64_t k = keys.Int64(r);
      if (run.size() > 0 && run.keys.back() == k) {
        run.keys.pop_back();
        run.positions.pop_back();
        run.deleted.pop_back();
      }
      run.keys.push_back(k);
      run.positions.push_back(positions.Int64(r));
      run.deleted.push_back(deleted.Bool(r));
    }
  }
  return state;
}

std::vector<KeyLookup> IntKeyState::Find(const std::vector<int64_t>& keys) const {
  std::vector<KeyLookup> found(keys.size());
  const Run* runs[2] = {&base_, &recent_};
  for (uint8_t r = 0; r < 2; r++) {
    const Run& run = *runs[r];
    size_t at = 0;
    for (size_t i = 0; i < keys.size() && at < run.size(); i++) {
      at = Seek(run.keys, at, keys[i]);
      if (at < run.size() && run.keys[at] == keys[i]) {
        found[i] = {true, run.deleted[at] != 0, run.positions[at], static_cast<uint8_t>(r + 1),
                    at};
      }
    }
  }
  return found;
}

void IntKeyState::Set(const std::vector<int64_t>& keys, const std::vector<KeyLookup>& found,
                      const std::vector<int64_t>& positions, const std::vector<uint8_t>& deleted,
                      const std::vector<uint8_t>& skip) {
  Run fresh;
  for (size_t i = 0; i < keys.size(); i++) {
    if (skip[i]) continue;
    if (found[i].known) {
      Run& run = found[i].run == 1 ? base_ : recent_;
      run.positions[found[i].at] = positions[i];
      run.deleted[found[i].at] = deleted[i];
      continue;
    }
    fresh.keys.push_back(keys[i]);
    fresh.positions.push_back(positions[i]);
    fresh.deleted.push_back(deleted[i]);
  }
  MergeInto(recent_, fresh);
  if (recent_.size() > std::max<size_t>(base_.size() / 8, 4096)) {
    MergeInto(base_, recent_);
    recent_ = Run();
  }
}

void IntKeyState::MergeInto(Run& into, const Run& from) {
  if (from.size() == 0) return;
  size_t i = into.size(), j = from.size(), k = i + j;
  // Room for what is coming and some more, so most merges move entries in place.
  if (into.keys.capacity() < k) {
    size_t room = k + k / 2;
    into.keys.reserve(room);
    into.positions.reserve(room);
    into.deleted.reserve(room);
  }
  into.keys.resize(k);
  into.positions.resize(k);
  into.deleted.resize(k);
  while (j > 0) {
    k--;
    if (i > 0 && into.keys[i - 1] > from.keys[j - 1]) {
      i--;
      into.keys[k] = into.keys[i];
      into.positions[k] = into.positions[i];
      into.deleted[k] = into.deleted[i];
    } else {
      j--;
      into.keys[k] = from.keys[j];
      into.positions[k] = from.positions[j];
      into.deleted[k] = from.deleted[j];
    }
  }
}

}  // namespace plexus::pipeline::internal
