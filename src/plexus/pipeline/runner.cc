#include "plexus/pipeline/runner.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>

#include "plexus/access/sql_guard.h"
#include "plexus/common/file.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/contract_check.h"
#include "plexus/pipeline/inputs.h"
#include "plexus/pipeline/quality_check.h"
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

/// Evaluates one output into its staging table and checks it; returns the row count.
Result<int64_t> BuildOutput(engine::Connection& conn, const access::SqlGuard& guard,
                            const InputSet& inputs, const spec::PipelineOutput& output,
                            const OutputPortRecord& port) {
  std::string sql = output.sql;
  if (sql.empty()) {
    if (inputs.names().size() != 1) {
      return InvalidArgument("output " + port.name + " has no sql and the pipeline has " +
                             std::to_string(inputs.names().size()) + " inputs");
    }
    sql = "SELECT * FROM " + QuoteIdentifier(inputs.names().front());
  }
  PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery guarded, guard.Check(sql, inputs));
  PLEXUS_ASSIGN_OR_RETURN(std::string select, ConformingSelect(conn, guarded.sql, port));
  std::string staging = Qualified(port, StagingName(port));
  PLEXUS_RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TABLE " + staging + " AS " + select));
  return CheckContract(conn, staging, port);
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
             std::shared_ptr<const access::AccessPolicy> policy)
      : conn_(conn), product_(product), all_ports_(all_ports), catalog_(catalog),
        policy_(std::move(policy)) {}

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
    access::SqlGuard guard(&conn_);
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
      auto rows = BuildOutput(conn_, guard, inputs, output, *port);
      if (!rows.ok()) {
        status = rows.status().WithPrefix("output port " + port->SqlName());
        break;
      }
      report.rows[port->name] = *rows;
      // The contract's quality rules, on the staging table: an error-severity failure stops here.
      access::ResolvedRelation staging;
      staging.catalog = catalog::Home::AttachName(port->domain);
      staging.schema = "main";
      staging.table = StagingName(*port);
      staging.logical_name = port->SqlName();
      status = CheckQuality(conn_, guard, catalog_, *port, staging, &report.quality);
      if (!status.ok()) {
        status = status.WithPrefix("output port " + port->SqlName());
        break;
      }
    }
    if (status.ok()) status = Publish(conn_, built);
    if (!status.ok()) DropStaging(conn_, built);
    inputs.Drop(conn_);
    if (!status.ok()) report.rows.clear();
    published_ = status.ok() ? built : std::vector<const OutputPortRecord*>{};
    return status;
  }

  const std::vector<const OutputPortRecord*>& published() const { return published_; }
  /// The upstream products the run read (or tried to read) through input ports.
  const std::vector<std::string>& upstream_products() const { return upstream_products_; }

 private:
  engine::Connection& conn_;
  const ProductRecord& product_;
  const std::vector<OutputPortRecord>& all_ports_;
  const catalog::Catalog& catalog_;
  std::shared_ptr<const access::AccessPolicy> policy_;
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
    if (!s.ok()) return FailedPrecondition("cannot read the data of domain " + domain + ": " + s.message());
  }
  PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  return db;
}

Result<std::vector<RunReport>> PipelineRunner::Run(const std::vector<std::string>& refs) {
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog_->ListProducts());
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
  PLEXUS_ASSIGN_OR_RETURN(auto ports, catalog_->ListOutputPorts());
  PLEXUS_ASSIGN_OR_RETURN(auto policy, access::AccessPolicy::Load(*catalog_));
  PLEXUS_ASSIGN_OR_RETURN(auto db, OpenRunEngine(home_, order));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());

  std::vector<RunReport> reports;
  std::set<std::string> failed;
  for (const auto* product : order) {
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
    auto start = std::chrono::steady_clock::now();
    PLEXUS_ASSIGN_OR_RETURN(report.run_id, catalog_->StartRun(product->id));
    ProductRun run(*conn, *product, ports, *catalog_, policy);
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
    PLEXUS_RETURN_IF_ERROR(catalog_->FinishRun(report.run_id, report.status, report.reason, total));
    PLEXUS_RETURN_IF_ERROR(
        catalog_->AppendAudit(RunAudit(*product, report, run.upstream_products(), total)).status());
    if (!status.ok()) failed.insert(product->id);
    reports.push_back(report);
  }
  return reports;
}

}  // namespace plexus::pipeline
