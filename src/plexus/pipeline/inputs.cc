#include "plexus/common/text.h"
#include "plexus/pipeline/inputs.h"

#include <algorithm>
#include <filesystem>

namespace plexus::pipeline {
namespace {

namespace fs = std::filesystem;
using engine::QuoteIdentifier;
using engine::QuoteLiteral;

bool IsOptionName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

/// true/false and plain numbers pass as they are; everything else is a string literal.
std::string OptionValue(const std::string& value) {
  if (value == "true" || value == "false") return value;
  bool number = !value.empty();
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') number = false;
  }
  return number ? value : QuoteLiteral(value);
}

std::string FormatOf(const std::string& path, const std::string& declared) {
  if (!declared.empty()) return AsciiLower(declared);
  std::string ext = AsciiLower(fs::path(path).extension().string());
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt") return "csv";
  if (ext == ".ndjson" || ext == ".jsonl") return "ndjson";
  if (ext == ".json") return "json";
  if (ext == ".parquet") return "parquet";
  return ext.empty() ? "" : ext.substr(1);
}

}  // namespace

Result<std::string> ReaderCall(const std::string& path, const std::string& format,
                               const std::map<std::string, std::string>& options) {
  std::string fmt = FormatOf(path, format);
  std::string call;
  if (fmt == "csv") {
    call = "read_csv(" + QuoteLiteral(path);
  } else if (fmt == "json") {
    call = "read_json(" + QuoteLiteral(path);
  } else if (fmt == "ndjson") {
    call = "read_json(" + QuoteLiteral(path) + ", format = 'newline_delimited'";
  } else if (fmt == "parquet") {
    call = "read_parquet(" + QuoteLiteral(path);
  } else {
    return InvalidArgument("unknown file format '" + fmt + "' for " + path +
                           " (csv, json, ndjson or parquet)");
  }
  for (const auto& [key, value] : options) {
    if (!IsOptionName(key)) return InvalidArgument("invalid reader option name '" + key + "'");
    call += ", " + key + " = " + OptionValue(value);
  }
  return call + ")";
}

Status InputSet::Prepare(engine::Connection& conn, const spec::Pipeline& pipeline) {
  for (const auto& input : pipeline.inputs) {
    Status s = input.input_port.empty() ? AddFile(conn, input) : AddInputPort(input);
    if (!s.ok()) return s.WithPrefix("input " + input.name);
    names_.push_back(input.name);
  }
  return Status::OK();
}

Status InputSet::AddFile(engine::Connection& conn, const spec::PipelineInput& input) {
  fs::path dir = fs::path(product_.dir).lexically_normal();
  fs::path path = (dir / input.file).lexically_normal();
  auto rel = path.lexically_relative(dir);
  if (fs::path(input.file).is_absolute() || rel.empty() || *rel.begin() == "..") {
    return PermissionDenied("file " + input.file + " is outside the product folder");
  }
  if (!fs::exists(path)) return NotFound("file " + input.file + " not found in " + dir.string());
  PLEXUS_ASSIGN_OR_RETURN(std::string reader, ReaderCall(path.string(), input.format, input.options));
  std::string view = "in__" + product_.domain + "__" + product_.name + "__" + input.name;
  PLEXUS_RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP VIEW " + QuoteIdentifier(view) +
                                      " AS SELECT * FROM " + reader));
  views_.push_back(view);
  readers_[AsciiLower(input.name)] = reader;
  relations_[AsciiLower(input.name)] = access::ResolvedRelation{"temp", "main", view, input.name, ""};
  return Status::OK();
}

Status InputSet::Secure(const catalog::OutputPortRecord& upstream,
                        access::ResolvedRelation& relation) const {
  switch (policy_->Decide(reader_, upstream, catalog::NowUtc())) {
    case access::PortAccess::kClear:
      return Status::OK();
    case access::PortAccess::kSecured: {
      PLEXUS_ASSIGN_OR_RETURN(relation.secured_select,
                              policy_->SecuredSelectFor(reader_, upstream));
      if (!relation.secured_select.empty()) relation.principal = reader_.context;
      return Status::OK();
    }
    case access::PortAccess::kHidden:
      return PermissionDenied(upstream.SqlName() + " is private to domain " + upstream.domain);
    case access::PortAccess::kDenied:
      break;
  }
  return PermissionDenied("the pipeline runs as " + reader_.name + ", which may not read " +
                          upstream.SqlName() + " (restricted): an owner of domain " +
                          upstream.domain + " grants it with plexus access grant " +
                          upstream.domain + "." + upstream.product + " --to " + reader_.name +
                          " --purpose TEXT");
}

Status InputSet::AddInputPort(const spec::PipelineInput& input) {
  const catalog::InputPortRecord* in = nullptr;
  for (const auto& candidate : product_.inputs) {
    if (candidate.name == input.input_port) in = &candidate;
  }
  if (in == nullptr) return NotFound("no input port " + input.input_port + " in the product");
  if (in->upstream_product_id.empty()) {
    return NotFound("input port " + in->name + ": no product in the mesh has contract " +
                    in->contract_id);
  }
  int major = catalog::MajorOf(in->version);
  const catalog::OutputPortRecord* upstream = nullptr;
  for (const auto& port : ports_) {
    if (port.product_id == in->upstream_product_id && port.name == in->upstream_port &&
        (port.major == major || (upstream == nullptr && major == 0))) {
      upstream = &port;
    }
  }
  if (upstream == nullptr) {
    return NotFound("input port " + in->name + ": upstream " + in->upstream_domain + "." +
                    in->upstream_product + "." + in->upstream_port + " has no major version " +
                    std::to_string(major));
  }
  if (catalog::ServedStatus(*upstream) == "retired") {  // a retired version is not served
    return FailedPrecondition("input port " + in->name + ": upstream " + upstream->SqlName() +
                              "__v" + std::to_string(upstream->major) +
                              " is retired: move the input port to a served major");
  }
  if (upstream->rows < 0) {
    return FailedPrecondition("upstream " + upstream->SqlName() +
                              " has no published data yet: run " + upstream->domain + "." +
                              upstream->product + " first");
  }
  access::ResolvedRelation relation{catalog::Home::AttachName(upstream->domain), "main",
                                    upstream->PhysicalTable(), upstream->SqlName(), "", "",
                                    nullptr};
  PLEXUS_RETURN_IF_ERROR(Secure(*upstream, relation));
  relations_[AsciiLower(input.name)] = std::move(relation);
  std::string product = upstream->domain + "." + upstream->product;
  if (std::find(upstream_products_.begin(), upstream_products_.end(), product) ==
      upstream_products_.end()) {
    upstream_products_.push_back(product);
  }
  return Status::OK();
}

void InputSet::Drop(engine::Connection& conn) {
  for (const auto& view : views_) {
    bool table = std::find(tables_.begin(), tables_.end(), view) != tables_.end();
    (void)conn.Execute((table ? "DROP TABLE IF EXISTS " : "DROP VIEW IF EXISTS ") +
                       QuoteIdentifier(view));
  }
  views_.clear();
  tables_.clear();
}

Status InputSet::Materialize(engine::Connection& conn, const std::string& name) {
  auto reader = readers_.find(AsciiLower(name));
  auto relation = relations_.find(AsciiLower(name));
  if (reader == readers_.end() || relation == relations_.end()) return Status::OK();
  const std::string& view = relation->second.table;
  if (std::find(tables_.begin(), tables_.end(), view) != tables_.end()) return Status::OK();
  PLEXUS_RETURN_IF_ERROR(conn.Execute("DROP VIEW IF EXISTS " + QuoteIdentifier(view)));
  tables_.push_back(view);
  return conn.Execute("CREATE TEMP TABLE " + QuoteIdentifier(view) + " AS SELECT * FROM " +
                      reader->second);
}

Result<access::ResolvedRelation> InputSet::Resolve(const access::TableName& name) const {
  if (name.catalog.empty() && name.schema.empty()) {
    auto it = relations_.find(AsciiLower(name.table));
    if (it != relations_.end()) return it->second;
  }
  std::string known;
  for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
  return PermissionDenied("pipeline SQL may read only its inputs (" + known + "); " +
                          name.ToString() + " is not one of them");
}

}  // namespace plexus::pipeline
