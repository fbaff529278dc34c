// File: plexus/pipeline/column_lineage.h
//
// Column-level lineage of pipelines: which input columns each output column of a pipeline's
// SELECT reads, from DuckDB's own parse tree (json_serialize_sql). Aliases, expressions,
// aggregates and window functions, joins (ON and USING), subqueries in FROM and in
// expressions, CTEs, set operations and `*` (with EXCLUDE, and qualified `t.*`) are followed.
// When unsure (a shape it does not know, a column it cannot place) it falls back to "reads the
// whole input" (column "*"), never to "reads nothing".
//
//   PLEXUS_ASSIGN_OR_RETURN(auto parser, LineageParser::Open());
//   PLEXUS_ASSIGN_OR_RETURN(auto columns, parser->Compute(sql, {{"orders", {"id", "day"}}}));
//   PLEXUS_ASSIGN_OR_RETURN(auto edges, MeshColumnLineage(mesh));  // for the catalog
//
// Thread safety: one LineageParser per thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

/// One input column an output column reads.
struct ColumnSource {
  std::string input;   ///< the pipeline input's name, as the SQL names it
  std::string column;  ///< "*": the whole input (the column could not be told)
  bool direct = true;  ///< false: read by a join, filter or grouping, not copied into the value

  auto operator<=>(const ColumnSource&) const = default;
};

struct OutputColumn {
  std::string name;
  std::vector<ColumnSource> sources;  ///< sorted, each once
};

class LineageParser {
 public:
  /// DuckDB's parser in process (engine/sql_parse.h); holds nothing.
  static Result<std::unique_ptr<LineageParser>> Open();

  /// The lineage of one SELECT. `inputs` maps each input name to its columns when they are
  /// known (an empty list: unknown). `output_columns`, when given, are the columns the result
  /// must have (the port's contract): each gets an entry, in that order, and a column the SELECT
  /// does not name (behind a `*` over an input of unknown columns) is traced by name.
  Result<std::vector<OutputColumn>> Compute(
      std::string_view sql, const std::map<std::string, std::vector<std::string>>& inputs,
      const std::vector<std::string>& output_columns = {}) const;

 private:
  LineageParser() = default;
};

/// Column lineage edges of every pipeline output of the mesh that reads another product
/// through an input port (the edges impact analysis needs); file inputs are left out.
/// An output's processor steps are compiled into its SELECT first (processors.h), so a column
/// renamed, projected or brought by a lookup traces to the input column it reads.
/// A pipeline whose SQL does not parse contributes whole-input edges for each of its columns.
Result<std::vector<catalog::ColumnLineageRecord>> MeshColumnLineage(const spec::Mesh& mesh);

}  // namespace plexus::pipeline
