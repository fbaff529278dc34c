// The SQL text of the CDC applier's steps (cdc_apply.h): parsing and typing the Debezium
// envelopes, the batch's dead letters and its merge by key. Pure functions of table names and
// columns; CdcApplier runs them in its batch and transaction.
#include "plexus/pipeline/cdc_apply_sql.h"

#include <algorithm>

#include "plexus/engine/engine.h"

namespace plexus::pipeline::internal {

using engine::QuoteIdentifier;
using engine::QuoteLiteral;

namespace {

constexpr const char* kIdx = kCdcIdx;
constexpr const char* kOp = kCdcOp;
constexpr const char* kPos = kCdcPos;
constexpr const char* kReason = kCdcReason;

}  // namespace

std::string JsonKey(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); i++) out += (i ? sep : "") + parts[i];
  return out;
}

std::string TypeSql(const std::string& table, const std::string& raw_table,
                    const std::vector<ChangeColumn>& columns, size_t count) {
  std::string row = "{";
  std::vector<std::string> raws, outs, checks_key, checks_type, checks_required;
  for (size_t c = 0; c < columns.size(); c++) {
    const auto& col = columns[c];
    row += (c ? "," : "") + JsonKey(col.name) + (col.json ? ":\"JSON\"" : ":\"VARCHAR\"");
    std::string raw = "rec." + QuoteIdentifier(col.name);
    std::string v = "_v" + std::to_string(c), w = "_w" + std::to_string(c);
    std::string cast = "TRY_CAST(" + raw + " AS " + col.type + ")";
    if (col.integer_text) {  // a source column typed from a sample: 1.5 must not round
      cast = "CASE WHEN NOT regexp_matches(" + raw + ", '[.eE]') THEN " + cast + " END";
    }
    raws.push_back(raw + " AS " + w + ", " + cast + " AS " + v);
    outs.push_back(v + " AS " + QuoteIdentifier(col.name));
    std::string mismatch = "'type mismatch: column " + col.name + " (''' || left(" + w +
                           ", 40) || ''' is not " + col.type + ")'";
    if (col.key) {
      checks_key.push_back("WHEN " + w + " IS NOT NULL AND " + v + " IS NULL THEN " + mismatch);
      checks_key.push_back("WHEN " + v + " IS NULL THEN " +
                           QuoteLiteral("missing key: " + col.name));
    } else {
      checks_type.push_back("WHEN op <> 'd' AND " + w + " IS NOT NULL AND " + v +
                            " IS NULL THEN " + mismatch);
      if (col.required) {
        checks_required.push_back("WHEN op <> 'd' AND " + v + " IS NULL THEN " +
                                  QuoteLiteral("required column NULL: " + col.name));
      }
    }
  }
  row += "}";
  const std::string fields = R"("op":"VARCHAR","before":)" + row + R"(,"after":)" + row +
                             R"(,"source":{"lsn":"VARCHAR","pos":"VARCHAR"},"ts_ms":"VARCHAR")";
  const std::string structure = "{" + fields + R"(,"payload":{)" + fields + "}}";
  auto field = [](const std::string& f) {
    return "CASE WHEN v.payload IS NOT NULL THEN v.payload." + f + " ELSE v." + f + " END";
  };
  std::string reason =
      "CASE WHEN NOT ok THEN 'malformed' WHEN op IS NULL THEN 'missing op' "
      "WHEN op NOT IN ('c', 'u', 'd', 'r') THEN 'unknown op: ' || left(op, 20) "
      "WHEN position IS NULL THEN 'no position (source.lsn, source.pos or ts_ms)' "
      "WHEN op <> 'd' AND no_after THEN 'missing after (the row image)' "
      "WHEN op = 'd' AND no_rec THEN 'missing before (the deleted row''s key)' " +
      Join(checks_key, " ") + " " + Join(checks_type, " ") + " " + Join(checks_required, " ") +
      " END";
  // DuckDB scans a table in parallel by row group (122,880 rows): a smaller batch would be
  // parsed on one core. The branches of a UNION ALL run at the same time when the order of
  // their rows does not matter to the sink, so the batch is parsed in slices of the raw table,
  // one per branch, into a sort by arrival (measured: 100,000 events parsed and typed in
  // 54 ms instead of 73 ms on 2 cores).
  const size_t slices = std::clamp<size_t>(count / 16384, 1, 4);
  std::string parse;
  for (size_t s = 0; s < slices; s++) {
    if (s) parse += " UNION ALL ";
    parse += "SELECT idx, try(json_transform(line, " + QuoteLiteral(structure) + ")) AS v FROM " +
             raw_table;
    if (slices > 1) {
      parse += " WHERE idx >= " + std::to_string(count * s / slices) + " AND idx < " +
               std::to_string(count * (s + 1) / slices);
    }
  }
  std::string sql =
      "CREATE OR REPLACE TABLE " + table + " AS WITH p AS (" + parse +
      "), e AS (SELECT idx, v IS NOT NULL AS ok, " +
      field("op") + " AS op, " + field("before") + " AS before, " + field("after") +
      " AS after, " + field("source.lsn") + " AS lsn, " + field("source.pos") + " AS spos, " +
      field("ts_ms") + " AS ts_ms FROM p), f AS (SELECT idx, ok, op, after IS NULL AS no_after, "
      "CASE WHEN op = 'd' THEN coalesce(before, after) ELSE after END AS rec, "
      "coalesce(lsn, spos, ts_ms) AS pos_text, TRY_CAST(ts_ms AS BIGINT) AS ts_ms, "
      // A PostgreSQL LSN "hi/lo" whose position does not fit a BIGINT (hi >= 2^31) has no
      // position (a dead letter): shifting it would fail the whole batch with an overflow.
      "CASE WHEN lsn IS NOT NULL THEN CASE WHEN contains(lsn, '/') THEN "
      "CASE WHEN TRY_CAST('0x' || split_part(lsn, '/', 1) AS BIGINT) < 2147483648 THEN "
      "(TRY_CAST('0x' || split_part(lsn, '/', 1) AS BIGINT) << 32) + "
      "TRY_CAST('0x' || split_part(lsn, '/', 2) AS BIGINT) END ELSE TRY_CAST(lsn AS BIGINT) END "
      "WHEN spos IS NOT NULL THEN TRY_CAST(spos AS BIGINT) ELSE TRY_CAST(ts_ms AS BIGINT) END "
      "AS position FROM e), c AS (SELECT idx, ok, op, no_after, rec IS NULL AS no_rec, "
      "pos_text, position, ts_ms, " + Join(raws, ", ") + " FROM f) SELECT idx AS " + kIdx +
      ", op AS " + kOp + ", position AS " + kPos + ", pos_text AS _cdc_pos_text, " +
      "ts_ms AS _cdc_ts_ms, " +
      Join(outs, ", ") + ", " + reason + " AS " + kReason + " FROM c" +
      (slices > 1 ? " ORDER BY idx" : "");
  return sql;
}

std::string DeadSql(const std::string& dead_table, const std::string& raw_table,
                    const std::vector<std::string>& typed_tables) {
  std::vector<std::string> bad;
  for (const auto& typed : typed_tables) {
    bad.push_back("SELECT " + std::string(kIdx) + ", " + kReason + ", _cdc_pos_text FROM " +
                  typed + " WHERE " + kReason + " IS NOT NULL");
  }
  return (
      "CREATE OR REPLACE TABLE " + dead_table + " AS SELECT d." + kIdx + ", CASE WHEN d." +
      kReason + " <> 'malformed' THEN d." + kReason + " WHEN NOT json_valid(r.line) THEN "
      "'malformed JSON' WHEN json_type(r.line) <> 'OBJECT' THEN 'malformed: not a JSON object' "
      "ELSE 'malformed envelope: op, before, after, source or ts_ms has the wrong shape' END AS " +
      kReason + ", d._cdc_pos_text, r.line FROM (SELECT " + kIdx + ", min(" + kReason + ") AS " +
      kReason + ", any_value(_cdc_pos_text) AS _cdc_pos_text FROM (" + Join(bad, " UNION ALL ") +
      ") GROUP BY " + kIdx + ") d JOIN " + raw_table + " r ON r.idx = d." + kIdx);
}

std::string MergeSql(const std::string& table, const std::string& keys_table,
                     const std::string& win, const std::string& typed,
                     const std::vector<std::string>& keys,
                     const std::vector<ChangeColumn>& columns) {
  std::vector<std::string> on_t, on_k, names;
  for (const auto& k : keys) {
    on_t.push_back(table + "." + k + " = w." + k);
    on_k.push_back(keys_table + "." + k + " = w." + k);
  }
  std::vector<std::string> typed_names, w_keys;
  for (const auto& c : columns) {
    names.push_back(QuoteIdentifier(c.name));
    typed_names.push_back("t." + QuoteIdentifier(c.name));
  }
  for (const auto& k : keys) w_keys.push_back("w." + k);
  std::string sql;
  sql += "DELETE FROM " + table + " USING (SELECT " + Join(keys, ", ") + " FROM " + win +
         " WHERE _cdc_exists AND NOT _cdc_stale) AS w WHERE " + Join(on_t, " AND ") + ";";
  sql += "INSERT INTO " + table + " (" + Join(names, ", ") + ") SELECT " +
         Join(typed_names, ", ") + " FROM " + typed + " t JOIN " +
         win + " w ON t." + kIdx + " = w." + kIdx + " WHERE NOT w._cdc_stale AND w." + kOp +
         " <> 'd' ORDER BY " + Join(w_keys, ", ") + ";";
  sql += "DELETE FROM " + keys_table + " USING (SELECT " + Join(keys, ", ") + " FROM " + win +
         " WHERE NOT _cdc_new AND NOT _cdc_stale) AS w WHERE " + Join(on_k, " AND ") + ";";
  sql += "INSERT INTO " + keys_table + " SELECT " + Join(keys, ", ") + ", " + kPos + ", " +
         kOp + " = 'd' FROM " + win + " WHERE NOT _cdc_stale;";
  return sql;
}

}  // namespace plexus::pipeline::internal
