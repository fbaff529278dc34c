// File: plexus/pipeline/cdc_parse.h (pipeline-internal)
//
// The CDC applier's fast path (cdc_apply.h) for an input feeding one output port without
// processor steps: the Debezium envelopes (with or without the {schema, payload} wrapper) are
// parsed in C++ with simdjson's DOM parser (which validates the whole text) straight into
// typed columns in the table's types, the latest event per key is chosen in C++, and only the
// winners reach DuckDB, typed.
//
// It takes a batch only when it can prove every event good and reproduce exactly what the SQL
// path (cdc_apply_sql.h, TypeSql: json_transform, TRY_CAST) would store. Anything else (an
// event the SQL path would dead-letter, a value whose cast it would compute differently, a key
// the table lacks, a duplicate key in an object...) sends the whole batch to the SQL path, so
// every dead-letter reason, schema change and position rule stays the SQL path's.
//
// Usage:
//   EnvelopeParser parser(columns);
//   ParsedChanges batch(columns);
//   for (auto& line : events) if (!parser.Parse(line, batch)) return /* SQL path */;
//   std::vector<uint32_t> winners = LatestPerKey(batch);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/cdc_key_state.h"
#include "plexus/pipeline/cdc_row_steps.h"

namespace plexus::pipeline::internal {

/// How the fast path holds a column (the table's DuckDB type).
enum class FastKind : uint8_t { kInt64, kInt32, kInt16, kInt8, kDouble, kBool, kText };

/// The FastKind of a DuckDB type name ("BIGINT", "VARCHAR"...); nullopt when the fast path
/// does not take the type (the SQL path types it).
std::optional<FastKind> FastKindOf(const std::string& duckdb_type);

/// Strings copied out of the parser, in blocks that never move (views stay valid until the
/// arena is destroyed).
class TextArena {
 public:
  std::string_view Copy(std::string_view text);
  /// Takes `other`'s blocks (their views stay valid), keeping this arena's current block last.
  void Absorb(TextArena&& other);

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, capacity_ = 0;
};

/// One column of a batch, one value per event: `ints` for integers and booleans (0/1),
/// `doubles`, or `texts` (views into the batch's arena); `valid` 0 for NULL.
struct FastColumn {
  FastKind kind = FastKind::kText;
  bool key = false;
  bool required = false;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> texts;
  std::vector<uint8_t> valid;
};

/// A batch's events as parsed, one entry per event in arrival order. For op d only the key
/// columns hold values (the SQL path reads nothing else of a delete).
struct ParsedChanges {
  explicit ParsedChanges(const std::vector<ChangeColumn>& columns);
  std::vector<char> op;           ///< 'c', 'u', 'd' or 'r'
  std::vector<int64_t> position;  ///< source.lsn, else source.pos, else ts_ms (cdc.h)
  int64_t newest_ts_ms = 0;       ///< the largest ts_ms (0: none)
  bool any_ts_ms = false;         ///< whether an event carried a ts_ms
  std::vector<FastColumn> columns;
  TextArena arena;
  size_t size() const { return op.size(); }
  /// Appends `other`'s events (parsed from the texts after this batch's) and takes its texts.
  void Append(ParsedChanges&& other);
};

/// Parses `events` (in up to `threads` slices at once) into `out`; false when the fast path
/// does not take one of them.
bool ParseAll(const std::vector<std::string>& events, const std::vector<ChangeColumn>& columns,
              size_t threads, ParsedChanges& out);

/// Parses envelopes for `columns` (the port's table columns, each of a FastKind type).
/// Thread safety: one thread at a time per parser.
class EnvelopeParser {
 public:
  explicit EnvelopeParser(const std::vector<ChangeColumn>& columns);
  ~EnvelopeParser();
  EnvelopeParser(const EnvelopeParser&) = delete;
  EnvelopeParser& operator=(const EnvelopeParser&) = delete;

  /// Appends the event `line` to `out`; false (and `out` unusable) when the fast path cannot
  /// prove the event good and its values exactly what the SQL path would store.
  bool Parse(std::string_view line, ParsedChanges& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Appends an order-preserving encoding of value `row` of key column `col` to `out`
/// (integers big-endian with the sign flipped; texts with 0x00 escaped and a 0x00 0x00 end).
void EncodeKey(const FastColumn& col, size_t row, std::string& out);

/// The index of the latest event per key (highest position, then latest arrival), sorted by
/// key (integers by value, texts bytewise), as the SQL path's arg_max and ORDER BY choose.
std::vector<uint32_t> LatestPerKey(const ParsedChanges& batch);

/// A batch parsed for the fast path and its latest event per key chosen (ParseBatch): work on
/// the texts alone, which a catch-up does on another thread for the next batch while the
/// current one is written (CdcParseAhead, cdc_apply.h).
struct ParsedBatch {
  explicit ParsedBatch(std::vector<ChangeColumn> cols)
      : columns(std::move(cols)), changes(columns) {}
  std::vector<ChangeColumn> columns;  ///< the table's columns it was parsed for
  const std::string* texts = nullptr;  ///< the events parsed (their data(), to recognize them)
  size_t count = 0;
  bool taken = false;  ///< false: an event the fast path does not take (the SQL path's batch)
  ParsedChanges changes;
  std::vector<uint32_t> winners;  ///< LatestPerKey(changes) when taken
  /// Whether this is the parse of `events` for `cols`.
  bool Of(const std::vector<std::string>& events, const std::vector<ChangeColumn>& cols) const {
    return texts == events.data() && count == events.size() && columns == cols;
  }
};

/// Parses `events` for the table's `columns` (ParseAll, in up to `threads` slices) and, when
/// the fast path takes them all, chooses the latest event per key. Any thread.
std::unique_ptr<ParsedBatch> ParseBatch(const std::vector<std::string>& events,
                                        std::vector<ChangeColumn> columns, size_t threads);

/// The tables one fast batch reads and writes: the port's and its key state's (as catalog,
/// schema, name) and two work tables of the connection's default database (unqualified;
/// replaced each batch).
struct FastTables {
  std::string catalog;     ///< the attached domain
  std::string table;       ///< the product table (unqualified)
  std::string keys_table;  ///< its key state: key columns, _cdc_pos, _cdc_deleted (unqualified)
  std::string keys_work;   ///< the winners' keys, to look up their state
  std::string drops_work;  ///< the known keys the batch replaces or deletes
};

/// A batch the fast path took (cdc_parse_apply.cc): parsed, its latest event per key chosen
/// and compared with the key state, ready to be written.
class FastBatch {
 public:
  /// Takes `parsed` (ParseBatch of the events for the table's columns, each of a FastKind
  /// type), reads the winners' key state (position, deleted) from `key_state` when given (the
  /// key is one integer column), else from the key state table, and stages the known keys in
  /// `drops_work`. nullptr: an event the fast path does not take, so the batch goes to the SQL
  /// path (nothing was written but the work tables). `mark` names each step as it ends (the
  /// applier's profile).
  static Result<std::unique_ptr<FastBatch>> Prepare(engine::Connection& conn,
                                                    std::unique_ptr<ParsedBatch> parsed,
                                                    FastTables tables,
                                                    const IntKeyState* key_state,
                                                    const std::function<void(const char*)>& mark);
  ~FastBatch();

  /// After the batch's commit: records its key states in `key_state` (the one Prepare read).
  void Remember(IntKeyState& key_state) const;

  /// Inside the batch's transaction (the caller begins, commits or rolls back): deletes the
  /// rows and key states the winners replace (a winner older than its key's state is stale
  /// and changes nothing), appends their rows in key order and their key states. `mark` as
  /// for Prepare.
  Status Write(engine::Connection& conn, const std::function<void(const char*)>& mark);

  int64_t upserted() const;      ///< winners written (not stale, not deletes)
  int64_t deleted() const;       ///< winners that delete (not stale)
  int64_t stale() const;         ///< winners older than the key state
  int64_t newest_ts_ms() const;  ///< the batch's largest ts_ms (0: none)
  int64_t replaced_rows() const;  ///< the table's rows Write deletes
  int64_t replaced_keys() const;  ///< the key state table's rows Write deletes

 private:
  struct State;
  explicit FastBatch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Test hook: false sends every batch to the SQL path (to compare both paths' results).
void SetFastPathEnabled(bool enabled);
bool FastPathEnabled();
/// How many batches the fast path took in this process (tests check that it did).
int64_t FastBatchesTaken();
/// Counts one (FastBatch::Prepare).
void CountFastBatch();

}  // namespace plexus::pipeline::internal
