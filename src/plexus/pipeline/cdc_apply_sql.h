// File: plexus/pipeline/cdc_apply_sql.h (pipeline-internal)
//
// The SQL text of the CDC applier's steps (cdc_apply.cc): parsing and typing the Debezium
// envelopes, the batch's dead letters and its merge by key. Pure functions of table names and
// columns: the applier runs what they give in its batch and transaction.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "plexus/pipeline/cdc_row_steps.h"

namespace plexus::pipeline::internal {

/// A JSON string literal for a json_transform structure's key.
std::string JsonKey(const std::string& name);
/// `parts` joined by `sep`.
std::string Join(const std::vector<std::string>& parts, const std::string& sep);

/// One query (CREATE OR REPLACE TABLE `table`) that parses the `count` envelopes of
/// `raw_table` (idx, line) with json_transform, once per event and in up to 4 slices, unwraps
/// {schema, payload}, computes each event's position, casts the row image to `columns`' types
/// and gives each bad event its reason ("malformed" is refined by DeadSql).
std::string TypeSql(const std::string& table, const std::string& raw_table,
                    const std::vector<ChangeColumn>& columns, size_t count);

/// CREATE OR REPLACE TABLE `dead_table`: the bad events of every typed table, each once, with
/// its text from `raw_table` and "malformed" refined (malformed JSON, not an object, envelope).
std::string DeadSql(const std::string& dead_table, const std::string& raw_table,
                    const std::vector<std::string>& typed_tables);

/// The statements of one port's merge, run inside the batch's transaction: delete the rows
/// of the winners (`win`) that exist and are not stale, insert the winners' rows from `typed`
/// ordered by key, then the key state (`keys_table`) the same way. `keys`: quoted key names.
std::string MergeSql(const std::string& table, const std::string& keys_table,
                     const std::string& win, const std::string& typed,
                     const std::vector<std::string>& keys,
                     const std::vector<ChangeColumn>& columns);

}  // namespace plexus::pipeline::internal
