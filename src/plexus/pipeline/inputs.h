// File: plexus/pipeline/inputs.h
//
// A pipeline's inputs as the relations its SQL may read: each file input becomes a temporary
// view over DuckDB's reader (csv, json, ndjson, parquet); each input port resolves to the
// upstream product's published table. As a RelationResolver, it lets the SQL guard accept
// exactly these names and nothing else.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

class InputSet : public access::RelationResolver {
 public:
  /// The input ports are read as `reader` (the domain's service principal) under `policy`:
  /// an upstream port it may not read fails the run; masks and row filters apply as for any
  /// consumer outside the upstream's domain.
  InputSet(const catalog::ProductRecord& product,
           const std::vector<catalog::OutputPortRecord>& ports,
           std::shared_ptr<const access::AccessPolicy> policy, const access::Principal& reader)
      : product_(product), ports_(ports), policy_(std::move(policy)), reader_(reader) {}

  /// Creates the views of the file inputs and resolves the input ports.
  Status Prepare(engine::Connection& conn, const spec::Pipeline& pipeline);
  /// Drops the views made by Prepare (and the tables Materialize made of them).
  void Drop(engine::Connection& conn);
  /// Run metrics (issue 9): reads the file input `name` once into a temporary table of its
  /// view's name, so that counting the rows of a chain's steps does not read the file again
  /// (the guard resolves the name as before). Does nothing for an input port, an unknown name
  /// or an input already materialised.
  Status Materialize(engine::Connection& conn, const std::string& name);
  /// Input names, in the pipeline's order.
  const std::vector<std::string>& names() const { return names_; }
  /// The upstream products (domain.product) read through input ports.
  const std::vector<std::string>& upstream_products() const { return upstream_products_; }

  Result<access::ResolvedRelation> Resolve(const access::TableName& name) const override;

 private:
  Status AddFile(engine::Connection& conn, const spec::PipelineInput& input);
  Status AddInputPort(const spec::PipelineInput& input);
  /// Applies the reader's access to an upstream port: refused, or masks and row filter.
  Status Secure(const catalog::OutputPortRecord& upstream,
                access::ResolvedRelation& relation) const;

  const catalog::ProductRecord& product_;
  const std::vector<catalog::OutputPortRecord>& ports_;
  std::shared_ptr<const access::AccessPolicy> policy_;
  const access::Principal& reader_;
  std::vector<std::string> upstream_products_;
  std::map<std::string, access::ResolvedRelation> relations_;
  std::vector<std::string> names_;
  std::vector<std::string> views_;
  std::map<std::string, std::string> readers_;  ///< lower-case file input -> its reader call
  std::vector<std::string> tables_;             ///< views Materialize made tables
};

/// The reader call for a file: read_csv('path', ...), read_json(...), read_parquet(...).
Result<std::string> ReaderCall(const std::string& path, const std::string& format,
                               const std::map<std::string, std::string>& options);

}  // namespace plexus::pipeline
