#include "plexus/pipeline/runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>

#include "plexus/access/sql_guard.h"
#include "plexus/common/file.h"
#include "plexus/common/text.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/contract_check.h"
#include "plexus/pipeline/inputs.h"
#include "plexus/pipeline/processors.h"
#include "plexus/pipeline/quality_check.h"
#include "plexus/pipeline/run_metrics.h"
#include "plexus/spec/parse.h"

namespace plexus::pipeline {
namespace {

using catalog::OutputPortRecord;
using catalog::ProductRecord;
using engine::QuoteIdentifier;

/// Products in dependency order (upstream first), limited to `chosen`.
std::vector<const ProductRecord*> InDependencyOrder(const std::vector<ProductRecord>& all,
                                                   const std::set<std::string>& chosen) {
  std::map<std::string, const ProductRecord*> by_id;
  for (const auto& p : all) by_id[p.id] = &p;
  std::vector<const ProductRecord*> order;
  std::set<std::string> done, visiting;
  std::function<void(const ProductRecord*)> visit = [&](const ProductRecord* p) {
    if (done.count(p->id) || visiting.count(p->id)) return;  // a cycle is refused at apply
    visiting.insert(p->id);
    for (const auto& in : p->inputs) {
      auto it = by_id.find(in.upstream_product_id);
      if (it != by_id.end()) visit(it->second);
    }
    visiting.erase(p->id);
    done.insert(p->id);
    if (chosen.count(p->id)) order.push_back(p);
  };
  for (const auto& p : all) visit(&p);
  return order;
}

/// The newest major of each output port of a product: the one its pipeline builds.
std::vector<const OutputPortRecord*> CurrentOutputs(const ProductRecord& product) {
  std::map<std::string, const OutputPortRecord*> newest;
  for (const auto& port : product.outputs) {
    auto& slot = newest[port.name];
    if (slot == nullptr || port.major > slot->major) slot = &port;
  }
  std::vector<const OutputPortRecord*> out;
  for (const auto& [name, port] : newest) out.push_back(port);
  return out;
}

std::string StagingName(const OutputPortRecord& port) { return port.PhysicalTable() + "__staging"; }

std::string Qualified(const OutputPortRecord& port, const std::string& table) {
  return QuoteIdentifier(catalog::Home::AttachName(port.domain)) + ".main." + QuoteIdentifier(table);
}

/// An output's SELECT and what run metrics count it by.
struct CompiledOutput {
  std::string sql;    ///< the whole chain
  std::string start;  ///< its start relation
  std::vector<ChainStep> steps;
  std::vector<std::string> prefixes;  ///< the SELECT after each step
};

/// The output's SELECT: its start (`sql`, `from` or the only input) and its processor steps,
/// `use` steps expanded with the domain's and the mesh's processors as last applied.
Result<CompiledOutput> OutputSelect(engine::Connection& conn, const access::SqlGuard& guard,
                                    const InputSet& inputs, const spec::PipelineOutput& output,
                                    const catalog::Catalog& catalog, const std::string& domain) {
  CompiledOutput out;
  PLEXUS_ASSIGN_OR_RETURN(out.start, ChainStart(output, inputs.names()));
  out.sql = out.start;
  if (output.steps.empty()) return out;
  std::vector<spec::ProcessorDefinition> domain_processors, mesh_processors;
  if (std::any_of(output.steps.begin(), output.steps.end(),
                  [](const spec::ProcessorStep& step) { return step.kind == "use"; })) {
    PLEXUS_ASSIGN_OR_RETURN(domain_processors, catalog.Processors(domain));
    PLEXUS_ASSIGN_OR_RETURN(mesh_processors, catalog.Processors("mesh"));
  }
  PLEXUS_ASSIGN_OR_RETURN(out.steps,
                          ExpandChain(output.steps, domain_processors, mesh_processors));
  GuardedProbe probe(conn, guard, inputs);
  ChainContext context;
  PLEXUS_ASSIGN_OR_RETURN(context.salt, catalog.MaskSalt());
  context.inputs = inputs.names();
  context.probe = &probe;
  PLEXUS_ASSIGN_OR_RETURN(out.sql, CompileChain(out.start, out.steps, context, &out.prefixes));
  return out;
}

/// What building one output measured (metrics on).
struct OutputMeasure {
  bool staged = false;  ///< the staging table exists (a contract failure: count its rows)
  catalog::RunMetricRecord port;
  std::vector<catalog::RunMetricRecord> steps;
};

/// Evaluates one output into its staging table and checks it; returns the row count. With
/// `measure`: the rows in of the chain and of each step (run_metrics.h), the bytes of the
/// files it read (`file_bytes`: input name -> size).
Result<int64_t> BuildOutput(engine::Connection& conn, const access::SqlGuard& guard,
                            InputSet& inputs, const spec::PipelineOutput& output,
                            const OutputPortRecord& port, const catalog::Catalog& catalog,
                            const std::map<std::string, int64_t>& file_bytes,
                            OutputMeasure* measure) {
  PLEXUS_ASSIGN_OR_RETURN(CompiledOutput compiled,
                          OutputSelect(conn, guard, inputs, output, catalog, port.domain));
  PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery guarded, guard.Check(compiled.sql, inputs));
  PLEXUS_ASSIGN_OR_RETURN(std::string select, ConformingSelect(conn, guarded.sql, port));
  ChainCounter counter(output.steps, compiled.steps, compiled.prefixes, compiled.start);
  if (measure != nullptr) {
    for (const auto& relation : guarded.relations) {
      auto it = file_bytes.find(AsciiLower(relation));
      if (it != file_bytes.end()) measure->port.bytes_in += it->second;
    }
    // Steps to count: the files they read are parsed once, into temporary tables the build
    // and the counting query both read.
    PLEXUS_RETURN_IF_ERROR(counter.Classify(conn, compiled.steps));
    if (!counter.CountSelect().empty()) {
      for (const auto& relation : guarded.relations) {
        PLEXUS_RETURN_IF_ERROR(inputs.Materialize(conn, relation));
      }
    }
  }
  std::string staging = Qualified(port, StagingName(port));
  PLEXUS_RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TABLE " + staging + " AS " + select));
  if (measure != nullptr) measure->staged = true;
  PLEXUS_ASSIGN_OR_RETURN(int64_t rows, CheckContract(conn, staging, port));
  if (measure != nullptr) {
    PLEXUS_RETURN_IF_ERROR(CountChain(conn, guard, inputs, counter));
    measure->port.rows_in = counter.RowsIn(rows);
    measure->steps = counter.Figures(rows);
  }
  return rows;
}

Status Publish(engine::Connection& conn, const std::vector<const OutputPortRecord*>& ports) {
  PLEXUS_RETURN_IF_ERROR(conn.Execute("BEGIN TRANSACTION"));
  for (const auto* port : ports) {
    Status s = conn.Execute("DROP TABLE IF EXISTS " + Qualified(*port, port->PhysicalTable()));
    if (s.ok()) {
      s = conn.Execute("ALTER TABLE " + Qualified(*port, StagingName(*port)) + " RENAME TO " +
                       QuoteIdentifier(port->PhysicalTable()));
    }
    if (!s.ok()) {
      (void)conn.Execute("ROLLBACK");
      return s;
    }
  }
  return conn.Execute("COMMIT");
}

void DropStaging(engine::Connection& conn, const std::vector<const OutputPortRecord*>& ports) {
  for (const auto* port : ports) {
    (void)conn.Execute("DROP TABLE IF EXISTS " + Qualified(*port, StagingName(*port)));
  }
}

/// The pipeline as applied: pipeline.yaml must still read as it did at the last apply, so a run
/// never builds from descriptors the catalog has not checked.
Result<spec::Pipeline> AppliedPipeline(const ProductRecord& product) {
  PLEXUS_ASSIGN_OR_RETURN(std::string text, ReadFileText(product.pipeline_file));
  if (text != product.pipeline_text) {
    return FailedPrecondition(product.pipeline_file +
                              " changed since the last apply: run plexus apply first");
  }
  std::vector<spec::Diagnostic> problems;
  return spec::ParsePipelineText(text, product.pipeline_file, &problems);
}

class ProductRun {
 public:
  ProductRun(engine::Connection& conn, const ProductRecord& product,
             const std::vector<OutputPortRecord>& all_ports, const catalog::Catalog& catalog,
             std::shared_ptr<const access::AccessPolicy> policy, bool metrics)
      : conn_(conn), product_(product), all_ports_(all_ports), catalog_(catalog),
        policy_(std::move(policy)), metrics_(metrics) {}

  Status Execute(RunReport& report) {
    if (product_.pipeline_text.empty()) {
      return FailedPrecondition("product " + product_.QualifiedName() + " has no pipeline.yaml");
    }
    PLEXUS_ASSIGN_OR_RETURN(spec::Pipeline pipeline, AppliedPipeline(product_));
    // The domain's pipelines read as its service principal, through the same access layer as
    // every consumer.
    std::string reader_name = catalog::ServicePrincipalName(product_.domain);
    auto reader = access::LoadPrincipal(catalog_, reader_name);
    if (!reader.ok()) {
      return FailedPrecondition("the service principal " + reader_name +
                                " is missing or disabled: run plexus apply");
    }
    InputSet inputs(product_, all_ports_, policy_, *reader);
    Status prepared = inputs.Prepare(conn_, pipeline);
    upstream_products_ = inputs.upstream_products();
    PLEXUS_RETURN_IF_ERROR(prepared);
    access::SqlGuard guard;
    std::map<std::string, int64_t> file_bytes;
    if (metrics_) file_bytes = FileBytes(pipeline);
    std::vector<const OutputPortRecord*> ports = CurrentOutputs(product_);
    std::vector<const OutputPortRecord*> built;
    Status status;
    for (const auto& output : pipeline.outputs) {
      const OutputPortRecord* port = nullptr;
      for (const auto* p : ports) {
        if (p->name == output.port) port = p;
      }
      if (port == nullptr) {
        status = InvalidArgument("pipeline output " + output.port + " is not an output port");
        break;
      }
      built.push_back(port);
      auto started = std::chrono::steady_clock::now();
      OutputMeasure measure;
      auto rows = BuildOutput(conn_, guard, inputs, output, *port, catalog_, file_bytes,
                              metrics_ ? &measure : nullptr);
      if (rows.ok()) {
        report.rows[port->name] = *rows;
        // The contract's quality rules, on the staging table: an error-severity failure stops
        // here.
        access::ResolvedRelation staging;
        staging.catalog = catalog::Home::AttachName(port->domain);
        staging.schema = "main";
        staging.table = StagingName(*port);
        staging.logical_name = port->SqlName();
        status = CheckQuality(conn_, guard, catalog_, *port, staging, &report.quality);
      } else {
        status = rows.status();
      }
      if (metrics_) Measured(*port, rows, status, measure, started, report);
      if (!status.ok()) {
        status = status.WithPrefix("output port " + port->SqlName());
        break;
      }
    }
    if (status.ok()) status = Publish(conn_, built);
    if (!status.ok()) DropStaging(conn_, built);
    inputs.Drop(conn_);
    if (!status.ok()) {
      report.rows.clear();
      for (auto& m : report.metrics) {  // nothing was published
        if (m.position < 0) m.rows_out = m.bytes_out = 0;
      }
    }
    published_ = status.ok() ? built : std::vector<const OutputPortRecord*>{};
    return status;
  }

  const std::vector<const OutputPortRecord*>& published() const { return published_; }
  /// The upstream products the run read (or tried to read) through input ports.
  const std::vector<std::string>& upstream_products() const { return upstream_products_; }

 private:
  /// The size of each file input (lower-case input name -> bytes; unknown sizes left out).
  std::map<std::string, int64_t> FileBytes(const spec::Pipeline& pipeline) const {
    std::map<std::string, int64_t> out;
    for (const auto& input : pipeline.inputs) {
      if (input.file.empty() || !input.input_port.empty()) continue;
      std::error_code ec;
      auto size = std::filesystem::file_size(std::filesystem::path(product_.dir) / input.file, ec);
      if (!ec) out[AsciiLower(input.name)] = static_cast<int64_t>(size);
    }
    return out;
  }

  /// Adds one output's figures to the report: its port's and its steps'. A build that failed
  /// after staging (the contract) or a failed quality rule rejects the staged rows.
  void Measured(const OutputPortRecord& port, const Result<int64_t>& rows, const Status& status,
                OutputMeasure& measure, std::chrono::steady_clock::time_point started,
                RunReport& report) {
    catalog::RunMetricRecord& figures = measure.port;
    figures.product_id = product_.id;
    figures.port = port.name;
    if (rows.ok()) {
      figures.rows_out = *rows;
      figures.bytes_out = EstimatedBytes(port, *rows);
      if (!status.ok()) figures.rows_rejected = *rows;
    } else if (measure.staged) {
      auto staged = conn_.QueryScalar("SELECT count(*) FROM " + Qualified(port, StagingName(port)));
      if (staged.ok()) figures.rows_rejected = std::stoll(*staged);
    }
    figures.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.metrics.push_back(figures);
    for (auto& step : measure.steps) {
      step.product_id = product_.id;
      step.port = port.name;
      report.metrics.push_back(std::move(step));
    }
  }

  engine::Connection& conn_;
  const ProductRecord& product_;
  const std::vector<OutputPortRecord>& all_ports_;
  const catalog::Catalog& catalog_;
  std::shared_ptr<const access::AccessPolicy> policy_;
  bool metrics_;
  std::vector<const OutputPortRecord*> published_;
  std::vector<std::string> upstream_products_;
};

/// The audit record of one product's run: its service principal read its inputs.
catalog::AuditRecord RunAudit(const ProductRecord& product, const RunReport& report,
                              const std::vector<std::string>& upstream, int64_t rows) {
  catalog::AuditRecord record;
  record.principal = catalog::ServicePrincipalName(product.domain);
  record.action = "pipeline.run";
  record.object = product.QualifiedName();
  record.products = upstream;
  record.decision = report.status == "succeeded" ? "allow" : "error";
  record.rows = rows;
  record.detail = "pipeline, run " + std::to_string(report.run_id) +
                  (report.reason.empty() ? "" : ": " + report.reason);
  return record;
}

}  // namespace

Result<std::unique_ptr<engine::Database>> OpenRunEngine(
    const catalog::Home& home, const std::vector<const ProductRecord*>& products) {
  engine::DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {home.DataDir(), home.TempDir()};
  options.temp_directory = home.TempDir();
  options.vacuum = false;  // CDC tables are compacted by their applier (cdc_apply.h)
  std::set<std::string> writes, reads;
  for (const auto* p : products) {
    options.allowed_directories.push_back(p->dir);
    writes.insert(p->domain);
    for (const auto& in : p->inputs) {
      if (!in.upstream_domain.empty()) reads.insert(in.upstream_domain);
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open(options));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
  for (const auto& domain : writes) {
    reads.erase(domain);
    Status s = conn->Execute("ATTACH " + engine::QuoteLiteral(home.DomainDataPath(domain)) +
                             " AS " + QuoteIdentifier(catalog::Home::AttachName(domain)));
    if (!s.ok()) {
      return FailedPrecondition("cannot open the data of domain " + domain +
                                " for writing (is a plexus serve running on this home?): " +
                                s.message());
    }
  }
  for (const auto& domain : reads) {
    if (!std::filesystem::exists(home.DomainDataPath(domain))) continue;
    Status s = conn->Execute("ATTACH " + engine::QuoteLiteral(home.DomainDataPath(domain)) +
                             " AS " + QuoteIdentifier(catalog::Home::AttachName(domain)) +
                             " (READ_ONLY)");
    if (!s.ok()) {
      return FailedPrecondition("cannot read the data of domain " + domain + ": " + s.message());
    }
  }
  PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  return db;
}

namespace {

/// The mesh folder of a product folder laid out as <mesh>/domains/<domain>/<product>; empty
/// for another layout.
std::string MeshFolderOf(const std::string& product_dir) {
  std::filesystem::path dir = std::filesystem::path(product_dir).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  std::filesystem::path domains = dir.parent_path().parent_path();
  if (domains.filename() != "domains") return "";
  return domains.parent_path().string();
}

/// True when `path` is `folder` or below it.
bool IsWithin(const std::string& path, const std::string& folder) {
  auto p = std::filesystem::path(path).lexically_normal();
  auto f = std::filesystem::path(folder).lexically_normal();
  auto rel = p.lexically_relative(f);
  return !rel.empty() && rel.native().rfind("..", 0) != 0;
}

}  // namespace

Result<std::unique_ptr<SharedEngine>> SharedEngine::Open(
    const catalog::Home& home, const catalog::Catalog& catalog,
    const std::vector<std::string>& extra_folders) {
  PLEXUS_ASSIGN_OR_RETURN(auto products, catalog.ListProductsWithoutColumns());
  std::vector<std::string> folders;
  auto add = [&folders](const std::string& folder) {
    if (folder.empty()) return;
    std::error_code ec;
    std::string absolute = std::filesystem::absolute(folder, ec).lexically_normal().string();
    while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
    for (const auto& f : folders) {
      if (IsWithin(absolute, f)) return;
    }
    folders.push_back(absolute);
  };
  for (const auto& folder : extra_folders) add(folder);
  for (const auto& p : products) add(MeshFolderOf(p.dir));
  for (const auto& p : products) add(p.dir);
  engine::DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {home.DataDir(), home.TempDir()};
  options.allowed_directories.insert(options.allowed_directories.end(), folders.begin(),
                                     folders.end());
  options.temp_directory = home.TempDir();
  options.vacuum = false;  // CDC tables are compacted by their applier (cdc_apply.h)
  PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open(options));
  {
    PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
    PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  }
  return std::unique_ptr<SharedEngine>(new SharedEngine(home, std::move(db), std::move(folders)));
}

Status SharedEngine::AttachDomain(const std::string& domain) {
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db_->Connect());
  Status s = conn->Execute("ATTACH IF NOT EXISTS " +
                           engine::QuoteLiteral(home_.DomainDataPath(domain)) + " AS " +
                           QuoteIdentifier(catalog::Home::AttachName(domain)));
  if (!s.ok()) {
    return FailedPrecondition("cannot open the data of domain " + domain + ": " + s.message());
  }
  return Status::OK();
}

Status SharedEngine::ReadableFolder(const std::string& dir) const {
  for (const auto& folder : folders_) {
    if (IsWithin(dir, folder)) return Status::OK();
  }
  return FailedPrecondition(
      dir + " was applied after plexus serve started and is outside the folders its pipelines "
            "may read (the engine's configuration is locked): restart plexus serve");
}

Result<std::unique_ptr<engine::Connection>> PipelineRunner::Connect(
    const std::vector<const ProductRecord*>& products, std::unique_ptr<engine::Database>* own) {
  if (options_.shared == nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(*own, OpenRunEngine(home_, products));
    return (*own)->Connect();
  }
  std::set<std::string> domains;
  for (const auto* p : products) {
    PLEXUS_RETURN_IF_ERROR(options_.shared->ReadableFolder(p->dir));
    domains.insert(p->domain);
    for (const auto& in : p->inputs) {
      if (!in.upstream_domain.empty() &&
          std::filesystem::exists(home_.DomainDataPath(in.upstream_domain))) {
        domains.insert(in.upstream_domain);
      }
    }
  }
  for (const auto& domain : domains) PLEXUS_RETURN_IF_ERROR(options_.shared->AttachDomain(domain));
  return options_.shared->database()->Connect();
}

Result<std::vector<RunReport>> PipelineRunner::Run(const std::vector<std::string>& refs) {
  // The order needs each product's inputs only; a chosen product is read whole when it runs.
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog_->ListProductsWithoutColumns());
  std::set<std::string> chosen;
  if (refs.empty()) {
    for (const auto& p : all) {
      if (!p.pipeline_text.empty()) chosen.insert(p.id);
    }
  } else {
    for (const auto& ref : refs) {
      PLEXUS_ASSIGN_OR_RETURN(auto product, catalog_->GetProduct(ref));
      chosen.insert(product.id);
    }
  }
  std::vector<const ProductRecord*> order = InDependencyOrder(all, chosen);
  // The input ports' upstreams need no columns (InputSet reads what they are, where and
  // whether published; the policy reads a port's columns when a statement reads it).
  PLEXUS_ASSIGN_OR_RETURN(catalog::PortListing listing, catalog_->ListOutputPortSummaries());
  std::vector<OutputPortRecord>& ports = listing.ports;
  PLEXUS_ASSIGN_OR_RETURN(auto policy, access::AccessPolicy::Load(*catalog_));
  std::unique_ptr<engine::Database> own_db;  // outlives conn
  PLEXUS_ASSIGN_OR_RETURN(auto conn, Connect(order, &own_db));
  if (options_.on_connection) options_.on_connection(conn.get());
  struct ConnectionClosing {  // tells on_connection before conn closes
    const std::function<void(engine::Connection*)>& notify;
    ~ConnectionClosing() {
      if (notify) notify(nullptr);
    }
  } closing{options_.on_connection};

  std::vector<RunReport> reports;
  // mesh.yaml `observability: {enabled: false}` turns the run metrics off for every caller.
  PLEXUS_ASSIGN_OR_RETURN(spec::MeshObservability observability, catalog_->ObservabilitySettings());
  bool metrics = options_.metrics && observability.enabled;
  std::set<std::string> failed;
  for (const auto* listed : order) {
    PLEXUS_ASSIGN_OR_RETURN(const ProductRecord whole, catalog_->GetProduct(listed->id));
    const ProductRecord* product = &whole;
    RunReport report;
    report.product = product->QualifiedName();
    for (const auto& in : product->inputs) {
      if (failed.count(in.upstream_product_id)) {
        report.status = "skipped";
        report.reason = "upstream " + in.upstream_domain + "." + in.upstream_product + " failed";
      }
    }
    if (report.status == "skipped") {
      failed.insert(product->id);
      reports.push_back(report);
      continue;
    }
    if (options_.on_product) options_.on_product(report.product);
    if (HasCdcInputs(*product)) {  // CDC inputs: caught up by its ChangeStream (cdc_apply.h)
      engine::Database* cdc_db = own_db ? own_db.get() : options_.shared->database();
      Status refreshed = options_.full_refresh
                             ? FullRefreshCdcProduct(home_, catalog_, cdc_db, *product)
                             : Status::OK();
      RunReport cdc = report;
      if (refreshed.ok()) {
        cdc = CatchUpCdcProduct(home_, catalog_, cdc_db, *product, options_.trigger);
      } else {
        cdc.status = "failed";
        cdc.reason = refreshed.message();
      }
      if (cdc.status != "succeeded") failed.insert(product->id);
      reports.push_back(cdc);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    PLEXUS_ASSIGN_OR_RETURN(report.run_id,
                            catalog_->StartRun(product->id, options_.trigger, options_.attempt));
    ProductRun run(*conn, *product, ports, *catalog_, policy, metrics);
    Status status = run.Execute(report);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t total = 0;
    for (const auto& [port, rows] : report.rows) total += rows;
    report.status = status.ok() ? "succeeded" : "failed";
    report.reason = status.ok() ? "" : status.message();
    for (const auto* port : run.published()) {
      PLEXUS_RETURN_IF_ERROR(catalog_->RecordPublication(*port, report.rows[port->name],
                                                         report.run_id));
      for (auto& p : ports) {  // later products in this run read the new publication
        if (p.product_id == port->product_id && p.name == port->name && p.major == port->major) {
          p.rows = report.rows[port->name];
        }
      }
    }
    for (auto& result : report.quality) result.run_id = report.run_id;
    PLEXUS_RETURN_IF_ERROR(catalog_->RecordQualityResults(report.quality));
    for (auto& m : report.metrics) m.run_id = report.run_id;
    PLEXUS_RETURN_IF_ERROR(catalog_->RecordRunMetrics(report.metrics));
    PLEXUS_RETURN_IF_ERROR(catalog_->FinishRun(report.run_id, report.status, report.reason, total));
    PLEXUS_RETURN_IF_ERROR(
        catalog_->AppendAudit(RunAudit(*product, report, run.upstream_products(), total)).status());
    if (!status.ok()) failed.insert(product->id);
    reports.push_back(report);
  }
  return reports;
}

}  // namespace plexus::pipeline
