// The CDC applier's fast parser (cdc_parse.h): simdjson's DOM parser, which validates the
// whole text (On-Demand skips what it does not read without validating it, so a malformed
// value in a field the applier ignores would be applied instead of dead-lettered). Every rule
// here mirrors cdc_apply_sql.cc's TypeSql; where mirroring it exactly would take DuckDB's own
// cast rules (strings cast to numbers, doubles to integers, numbers to text...), the event is
// refused and the batch goes to the SQL path.
#include "plexus/pipeline/cdc_parse.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <thread>

#include "plexus/common/text.h"

namespace plexus::pipeline::internal {
namespace {

namespace dom = simdjson::dom;
using Type = dom::element_type;

std::atomic<bool> fast_path_enabled{true};
std::atomic<int64_t> fast_batches{0};

/// The envelope fields a level (the top, or payload) may carry.
enum Field : uint8_t { kOp, kBefore, kAfter, kSource, kTsMs, kPayload, kFieldCount };
constexpr std::string_view kFieldNames[kFieldCount] = {"op",     "before", "after",
                                                       "source", "ts_ms",  "payload"};

/// The fields of `object` among `names` (absent and null alike: json_transform gives NULL for
/// both); false on a duplicate or a name that differs from one only by case (which a
/// case-insensitive reader might take).
template <size_t N>
bool Fields(const dom::object& object, const std::string_view (&names)[N],
            std::optional<dom::element> (&out)[N]) {
  bool seen[N] = {};
  for (auto field : object) {
    for (size_t i = 0; i < N; i++) {
      if (field.key == names[i]) {
        if (seen[i]) return false;
        seen[i] = true;
        if (field.value.type() != Type::NULL_VALUE) out[i] = field.value;
        break;
      }
      if (field.key.size() == names[i].size() && AsciiLower(std::string(field.key)) == names[i]) {
        return false;
      }
    }
  }
  return true;
}

/// A BIGINT from a text TRY_CAST reads the same way: 1 to 18 decimal digits.
std::optional<int64_t> Digits(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

/// 1 to 8 hex digits (TRY_CAST('0x' || text AS BIGINT)).
std::optional<int64_t> Hex(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + d;
  }
  return v;
}

/// A position field's BIGINT as TypeSql computes it (`lsn`: a PostgreSQL "hi/lo" too);
/// nullopt where the fast path does not reproduce the cast.
std::optional<int64_t> PositionOf(const dom::element& value, bool lsn) {
  if (value.type() == Type::INT64) return value.get_int64().value_unsafe();
  if (value.type() != Type::STRING) return std::nullopt;
  std::string_view text = value.get_string().value_unsafe();
  size_t slash = text.find('/');
  if (!lsn || slash == std::string_view::npos) return Digits(text);
  auto hi = Hex(text.substr(0, slash)), lo = Hex(text.substr(slash + 1));
  if (!hi || !lo || *hi >= (int64_t{1} << 31)) return std::nullopt;
  return (*hi << 32) + *lo;
}

}  // namespace

std::optional<FastKind> FastKindOf(const std::string& duckdb_type) {
  std::string t = AsciiLower(duckdb_type);
  if (t == "bigint") return FastKind::kInt64;
  if (t == "integer") return FastKind::kInt32;
  if (t == "smallint") return FastKind::kInt16;
  if (t == "tinyint") return FastKind::kInt8;
  if (t == "double") return FastKind::kDouble;
  if (t == "boolean") return FastKind::kBool;
  if (t == "varchar") return FastKind::kText;
  return std::nullopt;
}

std::string_view TextArena::Copy(std::string_view text) {
  if (text.empty()) return {};
  if (used_ + text.size() > capacity_) {
    capacity_ = std::max<size_t>(size_t{1} << 20, text.size());
    blocks_.push_back(std::make_unique<char[]>(capacity_));
    used_ = 0;
  }
  char* at = blocks_.back().get() + used_;
  std::memcpy(at, text.data(), text.size());
  used_ += text.size();
  return {at, text.size()};
}

void TextArena::Absorb(TextArena&& other) {
  for (auto& block : other.blocks_) blocks_.insert(blocks_.end() - (blocks_.empty() ? 0 : 1),
                                                   std::move(block));
  other.blocks_.clear();
  other.used_ = other.capacity_ = 0;
}

void ParsedChanges::Append(ParsedChanges&& other) {
  op.insert(op.end(), other.op.begin(), other.op.end());
  position.insert(position.end(), other.position.begin(), other.position.end());
  if (other.any_ts_ms) {
    newest_ts_ms = any_ts_ms ? std::max(newest_ts_ms, other.newest_ts_ms) : other.newest_ts_ms;
    any_ts_ms = true;
  }
  for (size_t c = 0; c < columns.size(); c++) {
    auto& to = columns[c];
    auto& from = other.columns[c];
    to.ints.insert(to.ints.end(), from.ints.begin(), from.ints.end());
    to.doubles.insert(to.doubles.end(), from.doubles.begin(), from.doubles.end());
    to.texts.insert(to.texts.end(), from.texts.begin(), from.texts.end());
    to.valid.insert(to.valid.end(), from.valid.begin(), from.valid.end());
  }
  arena.Absorb(std::move(other.arena));
}

ParsedChanges::ParsedChanges(const std::vector<ChangeColumn>& cols) {
  for (const auto& c : cols) {
    FastColumn f;
    f.kind = FastKindOf(c.type).value_or(FastKind::kText);
    f.key = c.key;
    f.required = c.required || c.key;
    columns.push_back(std::move(f));
  }
}

struct EnvelopeParser::Impl {
  std::vector<std::string> names;
  std::vector<std::string> lower_names;
  dom::parser parser;
  std::string buffer;  ///< the event's text, padded for simdjson
  std::vector<int> slot_seen;
  int generation = 0;

  /// The column `name` names exactly (-1: none; -2: one only by case, refused).
  int ColumnOf(std::string_view name) const {
    for (size_t c = 0; c < names.size(); c++) {
      if (names[c] == name) return static_cast<int>(c);
    }
    std::string lower = AsciiLower(std::string(name));
    for (const auto& l : lower_names) {
      if (l == lower) return -2;
    }
    return -1;
  }

  /// Writes `value` (null: NULL) into column `c` of the event just added.
  bool Put(FastColumn& col, const std::optional<dom::element>& value, TextArena& arena) {
    if (!value) {
      if (col.required) return false;
      col.valid.back() = 0;
      return true;
    }
    const dom::element& v = *value;
    switch (col.kind) {
      case FastKind::kInt64:
      case FastKind::kInt32:
      case FastKind::kInt16:
      case FastKind::kInt8: {
        if (v.type() != Type::INT64) return false;
        int64_t i = v.get_int64().value_unsafe();
        int bits = col.kind == FastKind::kInt64   ? 64
                   : col.kind == FastKind::kInt32 ? 32
                   : col.kind == FastKind::kInt16 ? 16
                                                  : 8;
        if (bits < 64 && (i < -(int64_t{1} << (bits - 1)) || i >= (int64_t{1} << (bits - 1)))) {
          return false;
        }
        col.ints.back() = i;
        break;
      }
      case FastKind::kDouble:
        // Both readers round a decimal text to the nearest double, so the SQL path's text
        // round trip (TRY_CAST of json_transform's VARCHAR) gives the same value.
        if (v.type() == Type::DOUBLE) {
          col.doubles.back() = v.get_double().value_unsafe();
        } else if (v.type() == Type::INT64) {
          col.doubles.back() = static_cast<double>(v.get_int64().value_unsafe());
        } else if (v.type() == Type::UINT64) {
          col.doubles.back() = static_cast<double>(v.get_uint64().value_unsafe());
        } else {
          return false;
        }
        break;
      case FastKind::kBool:
        if (v.type() != Type::BOOL) return false;
        col.ints.back() = v.get_bool().value_unsafe() ? 1 : 0;
        break;
      case FastKind::kText: {
        if (v.type() != Type::STRING) return false;
        std::string_view s = v.get_string().value_unsafe();
        if (s.find('\0') != std::string_view::npos) return false;
        col.texts.back() = arena.Copy(s);
        break;
      }
    }
    col.valid.back() = 1;
    return true;
  }

  /// Reads the row image into the event just added: every column (a delete: its keys).
  bool Image(const dom::object& rec, bool is_delete, bool rec_is_after, ParsedChanges& out) {
    generation++;
    std::optional<dom::element> values[64];
    std::vector<std::optional<dom::element>> many;
    std::optional<dom::element>* slots = values;
    if (names.size() > 64) {
      many.resize(names.size());
      slots = many.data();
    }
    for (auto field : rec) {
      int c = ColumnOf(field.key);
      if (c == -2) return false;
      if (c == -1) {
        if (rec_is_after) return false;  // a column the table lacks: the SQL path decides
        continue;
      }
      if (slot_seen[c] == generation) return false;  // a duplicate key
      slot_seen[c] = generation;
      if (field.value.type() != Type::NULL_VALUE) slots[c] = field.value;
    }
    for (size_t c = 0; c < names.size(); c++) {
      FastColumn& col = out.columns[c];
      if (is_delete && !col.key) continue;
      if (!Put(col, slots[c], out.arena)) return false;
    }
    return true;
  }

  /// `after`'s names are all the table's (else it may bring a new column).
  bool KnownNames(const dom::object& after) const {
    for (auto field : after) {
      if (ColumnOf(field.key) < 0) return false;
    }
    return true;
  }
};

EnvelopeParser::EnvelopeParser(const std::vector<ChangeColumn>& columns)
    : impl_(std::make_unique<Impl>()) {
  for (const auto& c : columns) {
    impl_->names.push_back(c.name);
    impl_->lower_names.push_back(AsciiLower(c.name));
  }
  impl_->slot_seen.assign(columns.size(), 0);
}
EnvelopeParser::~EnvelopeParser() = default;

bool EnvelopeParser::Parse(std::string_view line, ParsedChanges& out) {
  auto& s = *impl_;
  if (s.buffer.size() < line.size() + simdjson::SIMDJSON_PADDING) {
    s.buffer.resize(line.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(s.buffer.data(), line.data(), line.size());
  std::memset(s.buffer.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  dom::element root;
  dom::object top;
  if (s.parser.parse(s.buffer.data(), line.size(), false).get(root) != simdjson::SUCCESS ||
      root.get_object().get(top) != simdjson::SUCCESS) {
    return false;
  }
  std::optional<dom::element> f[kFieldCount];
  if (!Fields(top, kFieldNames, f)) return false;
  if (f[kPayload]) {  // the {schema, payload} wrapper: the payload's fields, nothing beside them
    for (int i = 0; i < kPayload; i++) {
      if (f[i]) return false;
    }
    dom::object payload;
    if (f[kPayload]->get_object().get(payload) != simdjson::SUCCESS) return false;
    for (auto& field : f) field.reset();
    if (!Fields(payload, kFieldNames, f)) return false;
  }
  // op
  std::string_view op;
  if (!f[kOp] || f[kOp]->get_string().get(op) != simdjson::SUCCESS || op.size() != 1 ||
      std::string_view("cudr").find(op[0]) == std::string_view::npos) {
    return false;
  }
  // before, after, source: objects or null
  dom::object before, after, source;
  if (f[kBefore] && f[kBefore]->get_object().get(before) != simdjson::SUCCESS) return false;
  if (f[kAfter] && f[kAfter]->get_object().get(after) != simdjson::SUCCESS) return false;
  if (f[kSource] && f[kSource]->get_object().get(source) != simdjson::SUCCESS) return false;
  // ts_ms and the position
  std::optional<int64_t> ts_ms;
  if (f[kTsMs]) {
    if (f[kTsMs]->type() != Type::INT64) return false;
    ts_ms = f[kTsMs]->get_int64().value_unsafe();
  }
  std::optional<dom::element> src[2];
  static constexpr std::string_view kSourceNames[2] = {"lsn", "pos"};
  if (f[kSource] && !Fields(source, kSourceNames, src)) return false;
  std::optional<int64_t> position = src[0]   ? PositionOf(*src[0], true)
                                    : src[1] ? PositionOf(*src[1], false)
                                             : ts_ms;
  if (!position) return false;
  // the row image
  bool is_delete = op[0] == 'd';
  if (f[kAfter] && !s.KnownNames(after)) return false;
  if (!is_delete && !f[kAfter]) return false;
  if (is_delete && !f[kBefore] && !f[kAfter]) return false;
  bool rec_is_after = !is_delete || !f[kBefore];
  out.op.push_back(op[0]);
  out.position.push_back(*position);
  if (ts_ms) {
    out.newest_ts_ms = out.any_ts_ms ? std::max(out.newest_ts_ms, *ts_ms) : *ts_ms;
    out.any_ts_ms = true;
  }
  for (auto& col : out.columns) {
    col.valid.push_back(0);
    if (col.kind == FastKind::kDouble) {
      col.doubles.push_back(0);
    } else if (col.kind == FastKind::kText) {
      col.texts.emplace_back();
    } else {
      col.ints.push_back(0);
    }
  }
  return s.Image(rec_is_after ? after : before, is_delete, rec_is_after, out);
}

bool ParseAll(const std::vector<std::string>& events, const std::vector<ChangeColumn>& columns,
              size_t threads, ParsedChanges& out) {
  const size_t n = events.size();
  threads = std::clamp<size_t>(std::min(threads, n / 4096), 1, 8);
  auto parse = [&](size_t from, size_t to, ParsedChanges& into) {
    EnvelopeParser parser(columns);
    for (size_t i = from; i < to; i++) {
      if (!parser.Parse(events[i], into)) return false;
    }
    return true;
  };
  if (threads == 1) return parse(0, n, out);
  std::vector<ParsedChanges> slices;
  for (size_t t = 1; t < threads; t++) slices.emplace_back(columns);
  std::vector<uint8_t> ok(threads, 0);
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; t++) {
    workers.emplace_back([&, t] { ok[t] = parse(n * t / threads, n * (t + 1) / threads,
                                                slices[t - 1]); });
  }
  ok[0] = parse(0, n / threads, out);
  for (auto& w : workers) w.join();
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) return false;
  for (auto& slice : slices) out.Append(std::move(slice));
  return true;
}

std::unique_ptr<ParsedBatch> ParseBatch(const std::vector<std::string>& events,
                                        std::vector<ChangeColumn> columns, size_t threads) {
  auto parsed = std::make_unique<ParsedBatch>(std::move(columns));
  parsed->texts = events.data();
  parsed->count = events.size();
  parsed->taken = ParseAll(events, parsed->columns, threads, parsed->changes);
  if (parsed->taken) parsed->winners = LatestPerKey(parsed->changes);
  return parsed;
}

void EncodeKey(const FastColumn& col, size_t row, std::string& out) {
  if (col.kind == FastKind::kText) {
    for (char c : col.texts[row]) {
      out += c;
      if (c == '\0') out += '\xff';
    }
    out += std::string_view("\0\0", 2);
    return;
  }
  uint64_t v = static_cast<uint64_t>(col.ints[row]) ^ (uint64_t{1} << 63);
  for (int b = 7; b >= 0; b--) out += static_cast<char>((v >> (8 * b)) & 0xff);
}

std::vector<uint32_t> LatestPerKey(const ParsedChanges& batch) {
  std::vector<const FastColumn*> keys;
  for (const auto& c : batch.columns) {
    if (c.key) keys.push_back(&c);
  }
  const auto n = static_cast<uint32_t>(batch.size());
  std::vector<uint32_t> winners;
  if (keys.size() == 1 && keys[0]->kind != FastKind::kText) {
    // Sorted by (key, position, arrival): each key's last entry is its latest event.
    struct Entry {
      int64_t key, position;
      uint32_t event;
    };
    std::vector<Entry> entries(n);
    for (uint32_t i = 0; i < n; i++) entries[i] = {keys[0]->ints[i], batch.position[i], i};
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.key != b.key) return a.key < b.key;
      if (a.position != b.position) return a.position < b.position;
      return a.event < b.event;
    });
    for (uint32_t i = 0; i < n; i++) {
      if (i + 1 == n || entries[i + 1].key != entries[i].key) winners.push_back(entries[i].event);
    }
    return winners;
  }
  std::vector<std::string> encoded(n);
  for (uint32_t i = 0; i < n; i++) {
    for (const auto* k : keys) EncodeKey(*k, i, encoded[i]);
  }
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (int c = encoded[a].compare(encoded[b]); c != 0) return c < 0;
    if (batch.position[a] != batch.position[b]) return batch.position[a] < batch.position[b];
    return a < b;
  });
  for (uint32_t i = 0; i < n; i++) {
    if (i + 1 == n || encoded[order[i + 1]] != encoded[order[i]]) winners.push_back(order[i]);
  }
  return winners;
}

void SetFastPathEnabled(bool enabled) { fast_path_enabled = enabled; }
bool FastPathEnabled() { return fast_path_enabled; }
int64_t FastBatchesTaken() { return fast_batches; }
void CountFastBatch() { fast_batches++; }

}  // namespace plexus::pipeline::internal
