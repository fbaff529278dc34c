// File: plexus/pipeline/inputs.h
//
// A pipeline's inputs as the relations its SQL may read: each file input becomes a temporary
// view over DuckDB's reader (csv, json, ndjson, parquet); each input port resolves to the
// upstream product's published table. As a RelationResolver, it lets the SQL guard accept
// exactly these names and nothing else.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

class InputSet : public access::RelationResolver {
 public:
  InputSet(const catalog::ProductRecord& product,
           const std::vector<catalog::OutputPortRecord>& ports)
      : product_(product), ports_(ports) {}

  /// Creates the views of the file inputs and resolves the input ports.
  Status Prepare(engine::Connection& conn, const spec::Pipeline& pipeline);
  /// Drops the views made by Prepare.
  void Drop(engine::Connection& conn);
  /// Input names, in the pipeline's order.
  const std::vector<std::string>& names() const { return names_; }

  Result<access::ResolvedRelation> Resolve(const access::TableName& name) const override;

 private:
  Status AddFile(engine::Connection& conn, const spec::PipelineInput& input);
  Status AddInputPort(const spec::PipelineInput& input);

  const catalog::ProductRecord& product_;
  const std::vector<catalog::OutputPortRecord>& ports_;
  std::map<std::string, access::ResolvedRelation> relations_;
  std::vector<std::string> names_;
  std::vector<std::string> views_;
};

/// The reader call for a file: read_csv('path', ...), read_json(...), read_parquet(...).
Result<std::string> ReaderCall(const std::string& path, const std::string& format,
                               const std::map<std::string, std::string>& options);

}  // namespace plexus::pipeline
