// File: plexus/pipeline/cdc_key_state.h (pipeline-internal)
//
// The key state of a CDC port (<table>__cdc_keys: key -> last position, deleted) held in memory
// by the applier's fast path (cdc_parse.h) when the port's key is one integer column, so that a
// batch looks its winners up without scanning the key state table.
//
// The table stays the durable truth: each batch writes it in its own transaction, and the
// memory is updated only after that commit succeeded. Any failure, or a write by anything else
// (the SQL path, a reset, another applier of the same table in this process: see
// KeyStateWrites), drops the memory, which is loaded from the table again when next needed.
// A kill -9 therefore loses nothing: a new process loads the committed table.
//
// Usage:
//   PLEXUS_ASSIGN_OR_RETURN(auto state, IntKeyState::Load(conn, keys_table, "id"));
//   std::vector<KeyLookup> found = state->Find(sorted_keys);
//   ... commit the batch ...
//   state->Set(sorted_keys, found, positions, deleted, skip);
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

namespace plexus::pipeline::internal {

/// A key's state as IntKeyState::Find saw it.
struct KeyLookup {
  bool known = false;    ///< the key state has the key
  bool deleted = false;  ///< its last event was a delete
  int64_t position = 0;  ///< its last position
  uint8_t run = 0;       ///< where it is held (IntKeyState's run; 0 when not known)
  size_t at = 0;         ///< its index in that run
};

/// key -> (position, deleted) for a one-integer-column key, in two sorted runs (a large one and
/// a recent one merged into it when it passes an eighth of its size): 17 bytes per key.
class IntKeyState {
 public:
  /// The most keys held in memory (about 290 MB, twice that while a merge grows the large
  /// run): a larger key state stays in its table only, read by a join (the memory of a
  /// DuckDB table is managed; this is not).
  static constexpr size_t kMaxKeys = size_t{1} << 24;

  /// Reads `keys_table` (qualified; `key` its quoted key column, _cdc_pos, _cdc_deleted);
  /// nullptr when it holds more than kMaxKeys keys.
  static Result<std::unique_ptr<IntKeyState>> Load(engine::Connection& conn,
                                                   const std::string& keys_table,
                                                   const std::string& key);
  IntKeyState() = default;

  /// The state of each of `keys` (ascending, distinct).
  std::vector<KeyLookup> Find(const std::vector<int64_t>& keys) const;
  /// Records the committed state of `keys` (ascending, distinct; `found` as Find gave it just
  /// before): position and deleted of each, except where `skip` is set (stale winners).
  void Set(const std::vector<int64_t>& keys, const std::vector<KeyLookup>& found,
           const std::vector<int64_t>& positions, const std::vector<uint8_t>& deleted,
           const std::vector<uint8_t>& skip);
  size_t size() const { return base_.keys.size() + recent_.keys.size(); }

 private:
  struct Run {
    std::vector<int64_t> keys, positions;
    std::vector<uint8_t> deleted;
    size_t size() const { return keys.size(); }
  };
  /// Merges `from`'s entries (ascending, keys `into` lacks) into `into`, from the back, in
  /// place when its capacity allows.
  static void MergeInto(Run& into, const Run& from);

  Run base_, recent_;
};

/// How many times the key state table `keys_table` (qualified) was written in this process: each
/// transaction that writes it bumps this after it ends (BumpKeyStateWrites), so an in-memory
/// state loaded or kept at another count is stale. Different tables of one name in different
/// databases share a count (a needless reload, never a missed one).
uint64_t KeyStateWrites(const std::string& keys_table);
uint64_t BumpKeyStateWrites(const std::string& keys_table);

}  // namespace plexus::pipeline::internal
