// File: plexus/pipeline/cdc_lookup.h (pipeline-internal)
//
// What the lookup steps of a CDC product's outputs read (docs/cdc.md, "Processor steps"): the
// file inputs and input ports of its pipeline that they name, prepared as a batch run prepares
// them (InputSet, inputs.h): a file input is a temporary view over its reader, read again by
// every batch; an input port is the upstream product's published table, read as the domain's
// service principal under the mesh's access policy (a port it may not read is refused; masks
// and row filters apply), so the SQL guard checks a lookup like any step of a batch pipeline.
// The access decisions are taken again when the catalog changes and at least every minute.
//
// Usage (cdc_stream.cc):
//   PLEXUS_ASSIGN_OR_RETURN(auto lookups,
//                           LookupInputs::Open(conn, catalog, product, pipeline, {"customers"}));
//   CdcSteps steps; steps.lookups = std::move(lookups);   // shared by the product's appliers
//
// Thread safety: one thread at a time (the stream's); `conn` and `catalog` outlive it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/cdc_row_steps.h"
#include "plexus/pipeline/inputs.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline::internal {

class LookupInputs final : public LookupRelations {
 public:
  /// Prepares the inputs `names` of `pipeline` on `conn`. kInvalidArgument for a name that is
  /// not an input of the pipeline or is a CDC input (a lookup reads a table, not a stream);
  /// the errors of InputSet::Prepare (a file that is not there, an upstream not readable or
  /// not published yet) name the input.
  static Result<std::unique_ptr<LookupInputs>> Open(engine::Connection& conn,
                                                    const catalog::Catalog& catalog,
                                                    const catalog::ProductRecord& product,
                                                    const spec::Pipeline& pipeline,
                                                    const std::vector<std::string>& names);
  /// Drops the views of the file inputs.
  ~LookupInputs() override;

  const std::vector<std::string>& names() const override { return names_; }
  Result<uint64_t> Refresh() override;
  Result<access::ResolvedRelation> Resolve(const access::TableName& name) const override;

 private:
  LookupInputs(engine::Connection& conn, const catalog::Catalog& catalog,
               catalog::ProductRecord product, spec::Pipeline pipeline)
      : conn_(conn), catalog_(catalog), product_(std::move(product)),
        pipeline_(std::move(pipeline)) {}
  /// (Re)reads the ports, the policy and the service principal, and prepares the inputs.
  Status Prepare();

  engine::Connection& conn_;
  const catalog::Catalog& catalog_;
  const catalog::ProductRecord product_;
  const spec::Pipeline pipeline_;  ///< only the inputs the lookups name
  std::vector<std::string> names_;
  // What inputs_ refers to (InputSet keeps references), replaced with it.
  std::vector<catalog::OutputPortRecord> ports_;
  std::shared_ptr<const access::AccessPolicy> policy_;
  access::Principal reader_;
  std::unique_ptr<InputSet> inputs_;
  uint64_t generation_ = 0;  ///< of what Resolve gives (LookupRelations::Refresh)
  std::pair<int64_t, int64_t> catalog_generation_{-1, -1};
  std::chrono::steady_clock::time_point prepared_at_;
};

}  // namespace plexus::pipeline::internal
