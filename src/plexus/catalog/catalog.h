// File: plexus/catalog/catalog.h
//
// The metadata store: domains, products, contracts, ports and their columns, lineage edges,
// pipeline runs and publications. Embedded default: SQLite in WAL mode, so the CLI and a
// running server can share it. Every write is one transaction: a failed apply leaves the
// catalog as it was.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto catalog, Catalog::Open(home));
//   PLEXUS_ASSIGN_OR_RETURN(ApplyReport report, catalog->Apply(mesh));
//   PLEXUS_ASSIGN_OR_RETURN(auto products, catalog->ListProducts());
//
// Thread safety: a Catalog may be shared between threads (calls are serialised).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plexus/catalog/home.h"
#include "plexus/common/status.h"
#include "plexus/spec/model.h"

namespace plexus::catalog {

namespace internal {
class SqliteDb;
}

struct ColumnRecord {
  std::string name;
  std::string logical_type;
  std::string physical_type;  ///< as declared; may be empty
  std::string engine_type;    ///< the DuckDB type the platform stores it as
  bool required = false;
  bool primary_key = false;
  bool unique = false;
  std::string classification;
  std::string description;
  std::string business_name;
};

/// An output port at one major version.
struct OutputPortRecord {
  std::string product_id;
  std::string domain;
  std::string product;
  std::string name;
  std::string description;
  std::string version;  ///< semantic version of the port
  int major = 0;
  std::string contract_id;
  std::string contract_version;
  std::string status;
  std::vector<ColumnRecord> columns;
  /// Publication: rows < 0 means never published.
  int64_t rows = -1;
  std::string published_at;

  /// domain.product.port
  std::string SqlName() const { return domain + "." + product + "." + name; }
  /// The physical table in the domain's data file: <product>__<port>__v<major>.
  std::string PhysicalTable() const {
    return product + "__" + name + "__v" + std::to_string(major);
  }
};

struct InputPortRecord {
  std::string name;
  std::string version;
  std::string contract_id;
  /// The upstream output port the contract belongs to (empty when outside the mesh).
  std::string upstream_product_id;
  std::string upstream_domain;
  std::string upstream_product;
  std::string upstream_port;
};

struct ProductRecord {
  std::string id;
  std::string domain;
  std::string name;
  std::string version;
  std::string status;
  std::string purpose;
  std::string usage;
  std::vector<std::string> tags;
  std::string team_name;
  std::vector<std::string> owners;
  std::string dir;
  std::string applied_at;
  std::string source_text;    ///< product.odps.yaml as applied
  std::string pipeline_text;  ///< pipeline.yaml as applied; empty when none
  std::string pipeline_file;  ///< where pipeline.yaml was read from (for messages)
  std::vector<OutputPortRecord> outputs;
  std::vector<InputPortRecord> inputs;

  std::string QualifiedName() const { return domain + "." + name; }
};

struct RunRecord {
  int64_t id = 0;
  std::string product_id;
  std::string product;  ///< domain.product
  std::string started_at;
  std::string finished_at;
  std::string status;  ///< running, succeeded, failed
  std::string reason;
  int64_t rows = 0;
};

/// One product-to-product edge: `downstream` reads `upstream`'s port through an input port.
struct LineageEdge {
  std::string upstream;         ///< domain.product
  std::string upstream_port;    ///< port name
  std::string downstream;       ///< domain.product
  std::string downstream_input; ///< the downstream's input port name
};

struct ApplyReport {
  std::vector<std::string> created;    ///< domain.product
  std::vector<std::string> updated;
  std::vector<std::string> unchanged;
};

class Catalog {
 public:
  static Result<std::unique_ptr<Catalog>> Open(const Home& home);
  ~Catalog();

  /// Registers or updates every domain, product, contract and port of the mesh, in one
  /// transaction. The mesh must already be valid (spec::LoadMesh).
  Result<ApplyReport> Apply(const spec::Mesh& mesh);

  Result<std::vector<ProductRecord>> ListProducts() const;
  /// By ODPS id or by domain.product.
  Result<ProductRecord> GetProduct(std::string_view ref) const;
  /// Every output port of every product, all majors.
  Result<std::vector<OutputPortRecord>> ListOutputPorts() const;
  Result<std::vector<LineageEdge>> ListLineage() const;

  Result<int64_t> StartRun(const std::string& product_id);
  Status FinishRun(int64_t run_id, const std::string& status, const std::string& reason,
                   int64_t rows);
  /// Newest first; product_id empty: every product.
  Result<std::vector<RunRecord>> ListRuns(const std::string& product_id, int limit) const;
  Status RecordPublication(const OutputPortRecord& port, int64_t rows, int64_t run_id);

 private:
  explicit Catalog(std::unique_ptr<internal::SqliteDb> db);
  Status Migrate();
  Status ApplyProduct(const spec::Domain& domain, const spec::ProductBundle& bundle,
                      const std::string& now, ApplyReport& report);
  Status LoadPorts(ProductRecord& product) const;

  mutable std::mutex mu_;
  std::unique_ptr<internal::SqliteDb> db_;
};

/// The DuckDB type a column is stored as: physicalType when set, else from logicalType.
std::string EngineTypeFor(const spec::Property& property);
/// Major version of a semantic version ("2.1.0" -> 2); 0 when unparsable.
int MajorOf(const std::string& version);
/// Now, UTC, ISO 8601 with milliseconds.
std::string NowUtc();

}  // namespace plexus::catalog
