// The CDC applier's fast path after parsing (cdc_parse.h, FastBatch): the winners' key state is
// looked up with one join over the winners' keys only, stale winners are dropped in C++, and
// in the transaction the replaced rows and key states are deleted and the winners' rows and
// key states appended to the tables (in key order), without a join of wide rows or a sort.
#include <algorithm>

#include "plexus/pipeline/cdc_apply_sql.h"
#include "plexus/pipeline/cdc_parse.h"

namespace plexus::pipeline::internal {

namespace {

using engine::ChunkAppender;
using engine::QuoteIdentifier;

/// The work tables' type of a fast column (integer keys widen to BIGINT; they are only
/// compared with the table's).
ChunkAppender::Type StageType(FastKind kind) {
  switch (kind) {
    case FastKind::kDouble:
      return ChunkAppender::Type::kDouble;
    case FastKind::kBool:
      return ChunkAppender::Type::kBoolean;
    case FastKind::kText:
      return ChunkAppender::Type::kVarchar;
    default:
      return ChunkAppender::Type::kBigint;
  }
}

const char* StageSql(ChunkAppender::Type type) {
  switch (type) {
    case ChunkAppender::Type::kDouble:
      return "DOUBLE";
    case ChunkAppender::Type::kBoolean:
      return "BOOLEAN";
    case ChunkAppender::Type::kVarchar:
      return "VARCHAR";
    default:
      return "BIGINT";
  }
}

void Put(ChunkAppender& out, size_t at, const FastColumn& col, size_t row) {
  if (!col.valid[row]) return out.SetNull(at);
  switch (col.kind) {
    case FastKind::kDouble:
      return out.SetDouble(at, col.doubles[row]);
    case FastKind::kBool:
      return out.SetBool(at, col.ints[row] != 0);
    case FastKind::kText:
      return out.SetText(at, col.texts[row]);
    default:
      return out.SetInt64(at, col.ints[row]);
  }
}

/// A work table (CREATE OR REPLACE) of `cols` and its appender.
Result<std::unique_ptr<ChunkAppender>> WorkTable(
    engine::Connection& conn, const std::string& name,
    const std::vector<std::pair<std::string, ChunkAppender::Type>>& cols) {
  std::vector<std::string> defs;
  std::vector<ChunkAppender::Type> types;
  for (const auto& [column, type] : cols) {
    defs.push_back(QuoteIdentifier(column) + " " + StageSql(type));
    types.push_back(type);
  }
  PLEXUS_RETURN_IF_ERROR(
      conn.Execute("CREATE OR REPLACE TABLE " + name + " (" + Join(defs, ", ") + ")"));
  return conn.MakeChunkAppender(name, types);
}

/// The appender type of a fast column in the table itself.
ChunkAppender::Type TableType(FastKind kind) {
  switch (kind) {
    case FastKind::kInt32:
      return ChunkAppender::Type::kInteger;
    case FastKind::kInt16:
      return ChunkAppender::Type::kSmallint;
    case FastKind::kInt8:
      return ChunkAppender::Type::kTinyint;
    default:
      return StageType(kind);
  }
}

/// Row `row` of `col` into column `at` of an appender of the table's own types.
void PutExact(ChunkAppender& out, size_t at, const FastColumn& col, size_t row) {
  if (!col.valid[row]) return out.SetNull(at);
  switch (col.kind) {
    case FastKind::kInt32:
      return out.SetInt32(at, static_cast<int32_t>(col.ints[row]));
    case FastKind::kInt16:
      return out.SetInt16(at, static_cast<int16_t>(col.ints[row]));
    case FastKind::kInt8:
      return out.SetInt8(at, static_cast<int8_t>(col.ints[row]));
    default:
      return Put(out, at, col, row);
  }
}

}  // namespace

struct FastBatch::State {
  std::unique_ptr<ParsedBatch> parsed;
  const std::vector<ChangeColumn>& columns;
  FastTables tables;
  ParsedChanges& batch;
  std::vector<uint32_t>& winners;  ///< events, in key order
  std::vector<size_t> key_columns;
  // The winners' key state (per winner), read before the transaction: the applier is the key
  // state's only writer, one batch at a time.
  std::vector<uint8_t> known, was_deleted, stale;
  std::vector<int64_t> known_position;
  // With an in-memory key state: the winners' keys and where the state holds them.
  std::vector<int64_t> win_keys;
  std::vector<KeyLookup> found;
  int64_t upserted = 0, deleted = 0, stale_count = 0, drops = 0, known_count = 0;

  explicit State(std::unique_ptr<ParsedBatch> p)
      : parsed(std::move(p)), columns(parsed->columns), batch(parsed->changes),
        winners(parsed->winners) {
    for (size_t c = 0; c < columns.size(); c++) {
      if (columns[c].key) key_columns.push_back(c);
    }
  }

  std::string Qualified(const std::string& name) const {
    return QuoteIdentifier(tables.catalog) + ".main." + QuoteIdentifier(name);
  }

  std::string KeysOn(const std::string& left, const std::string& right) const {
    std::vector<std::string> on;
    for (size_t c : key_columns) {
      std::string q = QuoteIdentifier(columns[c].name);
      on.push_back(left + "." + q + " = " + right + "." + q);
    }
    return Join(on, " AND ");
  }

  std::vector<std::pair<std::string, ChunkAppender::Type>> KeyDefs() const {
    std::vector<std::pair<std::string, ChunkAppender::Type>> defs;
    for (size_t c : key_columns) {
      defs.emplace_back(columns[c].name, StageType(batch.columns[c].kind));
    }
    return defs;
  }

  /// Reads the winners' key state: their keys into `keys_work`, joined with the key state.
  Status LookUp(engine::Connection& conn) {
    auto defs = KeyDefs();
    defs.insert(defs.begin(), {"_cdc_w", ChunkAppender::Type::kBigint});
    PLEXUS_ASSIGN_OR_RETURN(auto appender, WorkTable(conn, tables.keys_work, defs));
    for (size_t w = 0; w < winners.size(); w++) {
      appender->SetInt64(0, static_cast<int64_t>(w));
      for (size_t k = 0; k < key_columns.size(); k++) {
        Put(*appender, k + 1, batch.columns[key_columns[k]], winners[w]);
      }
      PLEXUS_RETURN_IF_ERROR(appender->EndRow());
    }
    PLEXUS_RETURN_IF_ERROR(appender->Close());
    known.assign(winners.size(), 0);
    was_deleted.assign(winners.size(), 0);
    known_position.assign(winners.size(), 0);
    PLEXUS_ASSIGN_OR_RETURN(
        auto result, conn.Query("SELECT w._cdc_w, k._cdc_pos, k._cdc_deleted FROM " +
                                tables.keys_work + " w JOIN " + Qualified(tables.keys_table) +
                                " k ON " + KeysOn("w", "k")));
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
      if (!chunk) break;
      // VectorRef reads positions exactly (DataChunk::GetInt64 goes through a double).
      engine::VectorRef winner = chunk->Column(0), position = chunk->Column(1);
      engine::VectorRef deleted = chunk->Column(2);
      for (size_t r = 0; r < chunk->size(); r++) {
        auto w = static_cast<size_t>(winner.Int64(r));
        known[w] = 1;
        known_position[w] = position.Int64(r);
        was_deleted[w] = deleted.Bool(r);
      }
    }
    return Status::OK();
  }

  /// Reads the winners' key state from memory (one integer key: winners are in key order).
  void LookUp(const IntKeyState& key_state) {
    const FastColumn& key = batch.columns[key_columns[0]];
    win_keys.resize(winners.size());
    for (size_t w = 0; w < winners.size(); w++) win_keys[w] = key.ints[winners[w]];
    found = key_state.Find(win_keys);
    known.assign(winners.size(), 0);
    was_deleted.assign(winners.size(), 0);
    known_position.assign(winners.size(), 0);
    for (size_t w = 0; w < winners.size(); w++) {
      known[w] = found[w].known;
      was_deleted[w] = found[w].deleted;
      known_position[w] = found[w].position;
    }
  }

  /// Marks the stale winners, counts, and stages the known keys of the others in
  /// `drops_work` with whether their row is live (before the transaction: it writes the
  /// default database, and a transaction writes one database).
  Status StageDrops(engine::Connection& conn) {
    auto defs = KeyDefs();
    defs.emplace_back("_cdc_live", ChunkAppender::Type::kBoolean);
    PLEXUS_ASSIGN_OR_RETURN(auto appender, WorkTable(conn, tables.drops_work, defs));
    stale.assign(winners.size(), 0);
    for (size_t w = 0; w < winners.size(); w++) {
      uint32_t e = winners[w];
      if (known[w] && batch.position[e] < known_position[w]) {
        stale[w] = 1;
        stale_count++;
        continue;
      }
      (batch.op[e] == 'd' ? deleted : upserted)++;
      if (!known[w]) continue;
      for (size_t k = 0; k < key_columns.size(); k++) {
        Put(*appender, k, batch.columns[key_columns[k]], e);
      }
      appender->SetBool(key_columns.size(), !was_deleted[w]);
      PLEXUS_RETURN_IF_ERROR(appender->EndRow());
      drops += !was_deleted[w];
      known_count++;
    }
    return appender->Close();
  }

  /// The DELETEs of the rows and key states the winners replace.
  std::string DeleteSql() const {
    std::vector<std::string> keys;
    for (size_t c : key_columns) keys.push_back(QuoteIdentifier(columns[c].name));
    std::string table = Qualified(tables.table), keys_table = Qualified(tables.keys_table);
    std::string sql;
    if (drops > 0) {
      sql += "DELETE FROM " + table + " USING (SELECT " + Join(keys, ", ") + " FROM " +
             tables.drops_work + " WHERE _cdc_live) AS w WHERE " + KeysOn(table, "w") + ";";
    }
    if (known_count > 0) {
      sql += "DELETE FROM " + keys_table + " USING " + tables.drops_work + " AS w WHERE " +
             KeysOn(keys_table, "w") + ";";
    }
    return sql;
  }

  /// Appends the winners' rows (not stale, not deletes) to the table, in key order.
  Status AppendRows(engine::Connection& conn) {
    std::vector<ChunkAppender::Type> types;
    for (const auto& c : batch.columns) types.push_back(TableType(c.kind));
    PLEXUS_ASSIGN_OR_RETURN(auto appender,
                            conn.MakeChunkAppender(tables.catalog, "main", tables.table, types));
    for (size_t w = 0; w < winners.size(); w++) {
      uint32_t e = winners[w];
      if (stale[w] || batch.op[e] == 'd') continue;
      for (size_t c = 0; c < batch.columns.size(); c++) PutExact(*appender, c, batch.columns[c], e);
      PLEXUS_RETURN_IF_ERROR(appender->EndRow());
    }
    return appender->Close();
  }

  /// Appends the key states of the winners that are not stale (key, position, deleted).
  Status AppendKeys(engine::Connection& conn) {
    std::vector<ChunkAppender::Type> types;
    for (size_t c : key_columns) types.push_back(TableType(batch.columns[c].kind));
    types.push_back(ChunkAppender::Type::kBigint);
    types.push_back(ChunkAppender::Type::kBoolean);
    PLEXUS_ASSIGN_OR_RETURN(
        auto appender, conn.MakeChunkAppender(tables.catalog, "main", tables.keys_table, types));
    const size_t n = key_columns.size();
    for (size_t w = 0; w < winners.size(); w++) {
      uint32_t e = winners[w];
      if (stale[w]) continue;
      for (size_t k = 0; k < n; k++) PutExact(*appender, k, batch.columns[key_columns[k]], e);
      appender->SetInt64(n, batch.position[e]);
      appender->SetBool(n + 1, batch.op[e] == 'd');
      PLEXUS_RETURN_IF_ERROR(appender->EndRow());
    }
    return appender->Close();
  }
};

FastBatch::FastBatch(std::unique_ptr<State> state) : state_(std::move(state)) {}
FastBatch::~FastBatch() = default;
int64_t FastBatch::upserted() const { return state_->upserted; }
int64_t FastBatch::deleted() const { return state_->deleted; }
int64_t FastBatch::stale() const { return state_->stale_count; }
int64_t FastBatch::newest_ts_ms() const { return state_->batch.newest_ts_ms; }
int64_t FastBatch::replaced_rows() const { return state_->drops; }
int64_t FastBatch::replaced_keys() const { return state_->known_count; }

Result<std::unique_ptr<FastBatch>> FastBatch::Prepare(
    engine::Connection& conn, std::unique_ptr<ParsedBatch> parsed, FastTables tables,
    const IntKeyState* key_state, const std::function<void(const char*)>& mark) {
  if (!parsed->taken) return std::unique_ptr<FastBatch>();
  auto state = std::make_unique<State>(std::move(parsed));
  state->tables = std::move(tables);
  if (key_state != nullptr) {
    state->LookUp(*key_state);
  } else {
    PLEXUS_RETURN_IF_ERROR(state->LookUp(conn));
  }
  mark("keystate");
  PLEXUS_RETURN_IF_ERROR(state->StageDrops(conn));
  mark("drops");
  CountFastBatch();
  return std::unique_ptr<FastBatch>(new FastBatch(std::move(state)));
}

void FastBatch::Remember(IntKeyState& key_state) const {
  const auto& s = *state_;
  std::vector<int64_t> positions(s.winners.size());
  std::vector<uint8_t> deleted(s.winners.size());
  for (size_t w = 0; w < s.winners.size(); w++) {
    positions[w] = s.batch.position[s.winners[w]];
    deleted[w] = s.batch.op[s.winners[w]] == 'd';
  }
  key_state.Set(s.win_keys, s.found, positions, deleted, s.stale);
}

Status FastBatch::Write(engine::Connection& conn, const std::function<void(const char*)>& mark) {
  auto& s = *state_;
  std::string deletes = s.DeleteSql();
  if (!deletes.empty()) PLEXUS_RETURN_IF_ERROR(conn.Execute(deletes));
  mark("deletes");
  PLEXUS_RETURN_IF_ERROR(s.AppendRows(conn));
  mark("rows");
  PLEXUS_RETURN_IF_ERROR(s.AppendKeys(conn));
  mark("keys");
  return Status::OK();
}

}  // namespace plexus::pipeline::internal
