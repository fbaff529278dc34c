// OpenLineage run events (openlineage.h): built from the catalog (the product, its ports and
// columns, its pipeline's file inputs, its column lineage, the run's record) and queued on
// the dispatcher.
#include "plexus/observe/openlineage.h"

#include <openssl/sha.h>

#include <filesystem>
#include <map>
#include <regex>

#include "plexus/observe/log.h"
#include "plexus/spec/parse.h"

namespace plexus::observe {
namespace {

using nlohmann::json;

constexpr const char* kSchemaFacet =
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
constexpr const char* kColumnLineageFacet =
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/"
    "ColumnLineageDatasetFacet";
constexpr const char* kJobTypeFacet =
    "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";
constexpr const char* kDocumentationFacet =
    "https://openlineage.io/spec/facets/1-0-1/DocumentationJobFacet.json#/$defs/"
    "DocumentationJobFacet";
constexpr const char* kErrorMessageFacet =
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/"
    "ErrorMessageRunFacet";
constexpr const char* kProcessingEngineFacet =
    "https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/"
    "ProcessingEngineRunFacet";
constexpr const char* kOutputStatisticsFacet =
    "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/"
    "OutputStatisticsOutputDatasetFacet";

/// The name-space UUID of Plexus's run ids (a fixed random UUID).
constexpr unsigned char kRunIdNamespace[16] = {0x6f, 0x1c, 0x2e, 0x4a, 0x93, 0x57, 0x4d, 0x0b,
                                               0xa8, 0x61, 0x3c, 0x5e, 0x70, 0x92, 0xd4, 0x18};

json Facet(const char* schema_url) {
  return {{"_producer", kLineageProducer}, {"_schemaURL", schema_url}};
}

/// The newest major of each output port, by name.
std::vector<catalog::OutputPortRecord> NewestPorts(const catalog::ProductRecord& product) {
  std::map<std::string, catalog::OutputPortRecord> newest;
  for (const auto& port : product.outputs) {
    auto it = newest.find(port.name);
    if (it == newest.end() || it->second.major < port.major) newest[port.name] = port;
  }
  std::vector<catalog::OutputPortRecord> out;
  for (auto& [name, port] : newest) out.push_back(std::move(port));
  return out;
}

json SchemaFacet(const std::vector<catalog::ColumnRecord>& columns) {
  json facet = Facet(kSchemaFacet);
  facet["fields"] = json::array();
  for (const auto& c : columns) {
    json field = {{"name", c.name},
                  {"type", c.engine_type.empty() ? c.logical_type : c.engine_type}};
    if (!c.description.empty()) field["description"] = c.description;
    facet["fields"].push_back(std::move(field));
  }
  return facet;
}

/// The run's record (found among the product's newest runs); a default one when not found.
catalog::RunRecord FindRun(catalog::Catalog& catalog, const std::string& product_id,
                           int64_t run_id) {
  auto runs = catalog.ListRuns(product_id, 200);
  if (runs.ok()) {
    for (auto& r : *runs) {
      if (r.id == run_id) return std::move(r);
    }
  }
  catalog::RunRecord none;
  none.id = run_id;
  none.product_id = product_id;
  return none;
}

/// libpq's `key=value ...` connection string or a postgres:// URI: host, port and dbname.
std::map<std::string, std::string> PostgresTarget(const std::string& dsn) {
  std::map<std::string, std::string> out = {{"host", "localhost"}, {"port", "5432"}};
  std::smatch m;
  static const std::regex kUri(
      R"(postgres(?:ql)?://(?:[^@/]*@)?([^:/?]+)(?::(\d+))?(?:/([^?]*))?)");
  if (std::regex_search(dsn, m, kUri)) {
    out["host"] = m[1];
    if (m[2].matched) out["port"] = m[2];
    if (m[3].matched) out["dbname"] = m[3];
    return out;
  }
  static const std::regex kPair(R"((\w+)\s*=\s*('[^']*'|\S+))");
  for (auto it = std::sregex_iterator(dsn.begin(), dsn.end(), kPair); it != std::sregex_iterator();
       ++it) {
    std::string value = (*it)[2];
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    out[(*it)[1]] = value;
  }
  return out;
}

/// Builds one event's datasets, reading each product and port from the catalog once.
class DatasetBuilder {
 public:
  DatasetBuilder(catalog::Catalog& catalog, std::string dataset_namespace)
      : catalog_(catalog), namespace_(std::move(dataset_namespace)) {}

  json PortDataset(const std::string& name, const std::vector<catalog::ColumnRecord>& columns) {
    return {{"namespace", namespace_}, {"name", name},
            {"facets", {{"schema", SchemaFacet(columns)}}}};
  }

  /// The columns of domain.product.port at its newest major (empty when unknown).
  const std::vector<catalog::ColumnRecord>& Columns(const std::string& product,
                                                    const std::string& port) {
    std::string key = product + "." + port;
    auto it = columns_.find(key);
    if (it != columns_.end()) return it->second;
    auto& slot = columns_[key];
    auto record = catalog_.GetProduct(product);
    if (record.ok()) {
      for (const auto& p : NewestPorts(*record)) {
        if (p.name == port) slot = p.columns;
      }
    }
    return slot;
  }

  json Inputs(const catalog::ProductRecord& product) {
    json inputs = json::array();
    for (const auto& in : product.inputs) {
      if (in.upstream_product_id.empty()) continue;  // outside the mesh: nothing to name
      std::string upstream = in.upstream_domain + "." + in.upstream_product;
      inputs.push_back(PortDataset(upstream + "." + in.upstream_port,
                                   Columns(upstream, in.upstream_port)));
    }
    if (product.pipeline_text.empty()) return inputs;
    auto pipeline = spec::ParsePipelineText(product.pipeline_text, product.pipeline_file, nullptr);
    if (!pipeline.ok()) return inputs;
    for (const auto& in : pipeline->inputs) {
      if (in.cdc) {
        json dataset = CdcInputDataset(*in.cdc, product.dir);
        if (!dataset.is_null()) inputs.push_back(std::move(dataset));
        continue;
      }
      if (in.file.empty()) continue;
      std::filesystem::path path(in.file);
      if (path.is_relative()) path = std::filesystem::path(product.dir) / path;
      inputs.push_back({{"namespace", "file"},
                        {"name", path.lexically_normal().string()},
                        {"facets", json::object()}});
    }
    return inputs;
  }

  json ColumnLineage(const std::string& product, const std::string& port,
                     const std::vector<catalog::ColumnLineageRecord>& edges) {
    json fields = json::object();
    for (const auto& e : edges) {
      if (e.downstream != product || e.downstream_port != port) continue;
      json transformation = {{"type", e.direct ? "DIRECT" : "INDIRECT"},
                             {"subtype", e.direct ? "TRANSFORMATION" : "FILTER"},
                             {"description", "input " + e.input},
                             {"masking", false}};
      std::vector<std::string> read;
      if (e.upstream_column == "*") {
        for (const auto& c : Columns(e.upstream, e.upstream_port)) read.push_back(c.name);
        transformation["type"] = "INDIRECT";
        transformation["subtype"] = "FILTER";
      } else {
        read.push_back(e.upstream_column);
      }
      json& list = fields[e.downstream_column]["inputFields"];
      if (list.is_null()) list = json::array();
      for (const auto& column : read) {
        list.push_back({{"namespace", namespace_},
                        {"name", e.upstream + "." + e.upstream_port},
                        {"field", column},
                        {"transformations", json::array({transformation})}});
      }
    }
    json facet = Facet(kColumnLineageFacet);
    facet["fields"] = std::move(fields);
    return facet;
  }

  json Outputs(const catalog::ProductRecord& product, bool with_statistics) {
    auto edges = catalog_.ListColumnLineage();
    json outputs = json::array();
    for (const auto& port : NewestPorts(product)) {
      json dataset = PortDataset(port.SqlName(), port.columns);
      if (edges.ok()) {
        dataset["facets"]["columnLineage"] =
            ColumnLineage(product.QualifiedName(), port.name, *edges);
      }
      if (with_statistics && port.rows >= 0) {
        json stats = Facet(kOutputStatisticsFacet);
        stats["rowCount"] = port.rows;
        dataset["outputFacets"] = {{"outputStatistics", stats}};
      }
      outputs.push_back(std::move(dataset));
    }
    return outputs;
  }

 private:
  catalog::Catalog& catalog_;
  std::string namespace_;
  std::map<std::string, std::vector<catalog::ColumnRecord>> columns_;
};

json JobFacets(const catalog::ProductRecord& product, const std::string& trigger) {
  bool streaming = trigger == "continuous" || trigger == "push";
  json job_type = Facet(kJobTypeFacet);
  job_type["processingType"] = streaming ? "STREAMING" : "BATCH";
  job_type["integration"] = "PLEXUS";
  job_type["jobType"] = "PIPELINE";
  json facets = {{"jobType", job_type}};
  if (!product.purpose.empty()) {
    json doc = Facet(kDocumentationFacet);
    doc["description"] = product.purpose;
    facets["documentation"] = doc;
  }
  return facets;
}

json RunFacets(const std::string& event_type, const catalog::RunRecord& run) {
  json engine = Facet(kProcessingEngineFacet);
  engine["name"] = "plexus";
  engine["version"] = "0.1.0";
  engine["openlineageAdapterVersion"] = "0.1.0";
  json facets = {{"processing_engine", engine}};
  if (event_type == "FAIL") {
    json error = Facet(kErrorMessageFacet);
    error["message"] = run.reason.empty() ? "the run failed" : run.reason;
    error["programmingLanguage"] = "SQL";
    facets["errorMessage"] = error;
  }
  return facets;
}

}  // namespace

std::string LineageRunId(const std::string& lineage_namespace, int64_t run_id) {
  std::string name(reinterpret_cast<const char*>(kRunIdNamespace), sizeof(kRunIdNamespace));
  name += lineage_namespace + "/" + std::to_string(run_id);
  unsigned char hash[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(name.data()), name.size(), hash);
  hash[6] = static_cast<unsigned char>((hash[6] & 0x0f) | 0x50);  // version 5
  hash[8] = static_cast<unsigned char>((hash[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[hash[i] >> 4];
    out += kHex[hash[i] & 0x0f];
  }
  return out;
}

LineageEmitter::LineageEmitter(catalog::Catalog* catalog, spec::MeshObservability settings,
                               Dispatcher* dispatcher, std::string home_root)
    : catalog_(catalog), settings_(std::move(settings)), dispatcher_(dispatcher) {
  namespace_ = settings_.openlineage_namespace.empty() ? "plexus" : settings_.openlineage_namespace;
  if (!settings_.openlineage_file.empty()) {
    std::filesystem::path path(settings_.openlineage_file);
    if (path.is_relative() && !home_root.empty()) path = std::filesystem::path(home_root) / path;
    file_ = path.lexically_normal().string();
  }
}

Result<nlohmann::json> LineageEmitter::BuildEvent(const std::string& event_type, int64_t run_id,
                                                  const std::string& product_id,
                                                  const std::string& trigger) {
  PLEXUS_ASSIGN_OR_RETURN(catalog::ProductRecord product, catalog_->GetProduct(product_id));
  catalog::RunRecord run = FindRun(*catalog_, product.id, run_id);
  std::string when = event_type == "START" ? run.started_at : run.finished_at;
  if (when.empty()) when = catalog::NowUtc();
  DatasetBuilder datasets(*catalog_, "plexus://" + namespace_);
  json event = {
      {"eventType", event_type},
      {"eventTime", when},
      {"producer", kLineageProducer},
      {"schemaURL", kRunEventSchemaUrl},
      {"run",
       {{"runId", LineageRunId(namespace_, run_id)}, {"facets", RunFacets(event_type, run)}}},
      {"job",
       {{"namespace", namespace_},
        {"name", product.QualifiedName()},
        {"facets", JobFacets(product, trigger.empty() ? run.trigger : trigger)}}},
      {"inputs", datasets.Inputs(product)},
      {"outputs", datasets.Outputs(product, event_type == "COMPLETE")}};
  return event;
}

void LineageEmitter::Send(const std::string& event_type, int64_t run_id,
                          const std::string& product_id, const std::string& trigger) {
  if (dispatcher_ == nullptr || (settings_.openlineage_url.empty() && file_.empty())) return;
  auto event = BuildEvent(event_type, run_id, product_id, trigger);
  if (!event.ok()) {
    Log(LogLevel::kWarn, "openlineage.event_failed",
        {{"run_id", run_id}, {"product_id", product_id}, {"error", event.status().message()}});
    return;
  }
  std::string body = event->dump();
  if (!settings_.openlineage_url.empty()) dispatcher_->Post(settings_.openlineage_url, body);
  if (!file_.empty()) dispatcher_->Append(file_, std::move(body));
}

void LineageEmitter::RunStarted(int64_t run_id, const std::string& product_id,
                                const std::string& trigger) {
  Send("START", run_id, product_id, trigger);
}

void LineageEmitter::RunFinished(int64_t run_id, const std::string& product_id,
                                 const std::string& status) {
  Send(status == "succeeded" ? "COMPLETE" : "FAIL", run_id, product_id, "");
}

nlohmann::json CdcInputDataset(const spec::CdcSpec& cdc, const std::string& product_dir) {
  if (cdc.source == "kafka" && !cdc.topic.empty()) {
    std::string broker = cdc.brokers.substr(0, cdc.brokers.find(','));
    return {{"namespace", "kafka://" + broker}, {"name", cdc.topic}, {"facets", json::object()}};
  }
  if (cdc.source == "postgres" && !cdc.table.empty()) {
    auto target = PostgresTarget(cdc.dsn);
    std::string db = target.count("dbname") ? target["dbname"] + "." : "";
    return {{"namespace", "postgres://" + target["host"] + ":" + target["port"]},
            {"name", db + cdc.table},
            {"facets", json::object()}};
  }
  if (cdc.source == "files" && !cdc.folder.empty()) {
    std::filesystem::path path(cdc.folder);
    if (path.is_relative()) path = std::filesystem::path(product_dir) / path;
    return {{"namespace", "file"}, {"name", path.lexically_normal().string()},
            {"facets", json::object()}};
  }
  return nullptr;  // http: events pushed to Plexus itself
}

}  // namespace plexus::observe
