// The inputs that lookup steps on change rows read (cdc_lookup.h).
#include "plexus/pipeline/cdc_lookup.h"

#include <algorithm>

#include "plexus/common/text.h"

namespace plexus::pipeline::internal {
namespace {

/// How long an access decision (a grant may expire) is kept when the catalog does not move.
constexpr std::chrono::seconds kDecisionsKeptFor{60};

}  // namespace

Result<std::unique_ptr<LookupInputs>> LookupInputs::Open(engine::Connection& conn,
                                                         const catalog::Catalog& catalog,
                                                         const catalog::ProductRecord& product,
                                                         const spec::Pipeline& pipeline,
                                                         const std::vector<std::string>& names) {
  spec::Pipeline read = pipeline;
  read.inputs.clear();
  std::vector<std::string> declared;
  for (const auto& name : names) {
    auto in = std::find_if(pipeline.inputs.begin(), pipeline.inputs.end(),
                           [&](const spec::PipelineInput& i) {
                             return AsciiLower(i.name) == AsciiLower(name);
                           });
    if (in == pipeline.inputs.end()) {
      return InvalidArgument("a lookup step names " + name +
                             ", which is not an input of the pipeline");
    }
    if (in->cdc) {
      return InvalidArgument("a lookup step names " + name +
                             ", a CDC input: a lookup reads a file input or an input port");
    }
    if (std::find(declared.begin(), declared.end(), in->name) != declared.end()) continue;
    declared.push_back(in->name);
    read.inputs.push_back(*in);
  }
  std::unique_ptr<LookupInputs> out(new LookupInputs(conn, catalog, product, std::move(read)));
  out->names_ = std::move(declared);
  PLEXUS_RETURN_IF_ERROR(out->Prepare());
  return out;
}

LookupInputs::~LookupInputs() {
  if (inputs_ != nullptr) inputs_->Drop(conn_);
}

Status LookupInputs::Prepare() {
  PLEXUS_ASSIGN_OR_RETURN(catalog_generation_, catalog_.Generation());
  if (inputs_ != nullptr) inputs_->Drop(conn_);
  inputs_.reset();
  // Every publication (ours included) moves the catalog: read the ports without their columns,
  // and keep the columns the previous policy read while none changed.
  PLEXUS_ASSIGN_OR_RETURN(catalog::PortListing listing, catalog_.ListOutputPortSummaries());
  ports_ = std::move(listing.ports);
  PLEXUS_ASSIGN_OR_RETURN(policy_, access::AccessPolicy::Load(catalog_, policy_.get()));
  // The domain's pipelines read as its service principal, like a batch run (runner.cc).
  std::string reader = catalog::ServicePrincipalName(product_.domain);
  auto principal = access::LoadPrincipal(catalog_, reader);
  if (!principal.ok()) {
    return FailedPrecondition("the service principal " + reader +
                              " is missing or disabled: run plexus apply");
  }
  reader_ = std::move(principal).value();
  auto inputs = std::make_unique<InputSet>(product_, ports_, policy_, reader_);
  Status prepared = inputs->Prepare(conn_, pipeline_);
  if (!prepared.ok()) {
    inputs->Drop(conn_);
    return prepared;
  }
  inputs_ = std::move(inputs);
  prepared_at_ = std::chrono::steady_clock::now();
  generation_++;
  return Status::OK();
}

Result<uint64_t> LookupInputs::Refresh() {
  PLEXUS_ASSIGN_OR_RETURN(auto now, catalog_.Generation());
  if (inputs_ == nullptr || now != catalog_generation_ ||
      std::chrono::steady_clock::now() - prepared_at_ >= kDecisionsKeptFor) {
    PLEXUS_RETURN_IF_ERROR(Prepare());
  }
  return generation_;
}

Result<access::ResolvedRelation> LookupInputs::Resolve(const access::TableName& name) const {
  if (inputs_ == nullptr) {
    return FailedPrecondition("the inputs of the lookup steps are not prepared");
  }
  return inputs_->Resolve(name);
}

}  // namespace plexus::pipeline::internal
