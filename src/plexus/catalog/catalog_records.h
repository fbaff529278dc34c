// File: plexus/catalog/catalog_records.h
//
// The records the catalog reads and writes (catalog.h): products, ports, columns, runs, quality
// results, lineage, versions and contracts, search documents, usage, the glossary, CDC pipeline
// state. Plain values: they hold no handle and may be copied across threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "plexus/spec/contract_diff.h"
#include "plexus/spec/model.h"

namespace plexus::catalog {

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
  /// Access, resolved at apply from the property's `mask` or the mesh's rule for its
  /// classification: the mask consumers outside the domain see (empty: clear), and the groups
  /// (or `admin`) that see the clear value anyway.
  std::string mask;
  std::vector<std::string> mask_clear_for;
  /// Business glossary terms (ids) the column is linked to, by its ODCS authoritativeDefinitions
  /// or its businessName (catalog_glossary.cc).
  std::vector<std::string> terms;
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
  /// Lifecycle (catalog_versions.cc): ISO dates from the contract, empty when not set.
  std::string end_of_support;
  std::string end_of_life;
  /// Access, from the contract (or the mesh's default): public, restricted or private; the
  /// row filter predicate (empty: none) and the groups exempt from it.
  std::string visibility = "restricted";
  std::string row_filter;
  std::vector<std::string> row_filter_exempt;

  /// domain.product.port
  std::string SqlName() const { return domain + "." + product + "." + name; }
  /// The physical table in the domain's data file: <product>__<port>__v<major>.
  std::string PhysicalTable() const {
    return product + "__" + name + "__v" + std::to_string(major);
  }
};

/// Every output port (all majors) without its columns, and the columns generation the listing
/// was read at (Catalog::ListOutputPortSummaries).
struct PortListing {
  std::vector<OutputPortRecord> ports;
  int64_t columns_generation = 0;
  /// A counter every change the access policy reads but publications and columns moves
  /// (ports, products, lifecycles, grants, principals, quarantines...), read with the listing.
  int64_t access_generation = 0;
};

/// How many rows one port major last published.
struct PortPublication {
  std::string product_id;
  std::string port;
  int major = 0;
  int64_t rows = -1;  ///< -1: recorded without a count
};

/// Every publication, sorted by product id, port and major (byte order), with the columns and
/// access generations, in one read transaction (Catalog::ListPublications): whoever holds a
/// PortListing of the same two generations needs only these to be current.
struct PublicationListing {
  std::vector<PortPublication> publications;
  int64_t columns_generation = 0;
  int64_t access_generation = 0;
};

/// One port major's columns and the columns generation they were read at
/// (Catalog::ReadPortColumns).
struct PortColumns {
  std::vector<ColumnRecord> columns;
  int64_t columns_generation = 0;
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
  std::string trigger = "manual";  ///< manual, schedule, cron, upstream, retry, continuous
  int64_t attempt = 1;             ///< 1, or the number of the retry's attempt
};

/// Which runs Catalog::ListRuns answers, newest first. Paged in SQL, so a long history (a
/// continuous CDC input records a run per micro-batch) never has to be read whole.
struct RunQuery {
  /// Only these products' runs; nullopt: every product. An empty set matches nothing, so a
  /// caller that filters by visibility fails closed.
  std::optional<std::set<std::string>> products;
  std::string since;  ///< started at or after this UTC time ("YYYY-MM-DDTHH:MM:SSZ"); "" for all
  int64_t offset = 0;
  int64_t limit = 100;  ///< < 0: no limit
};

/// The outcome of one quality rule of a port's contract, checked by a run (against its staging
/// table) or on demand by `plexus test` (against the published table).
struct QualityResultRecord {
  int64_t id = 0;
  int64_t run_id = 0;  ///< 0: an on-demand check (plexus test)
  std::string product_id;
  std::string port;
  int major = 0;
  int rule_position = 0;  ///< the rule's place in the port's rules (ListQualityRules order)
  std::string rule;       ///< how the rule is named: its name, id, description, or metric
  std::string column;     ///< the property it is attached to; empty: schema-level
  std::string check;      ///< the metric (nullValues...) or the type (sql, custom, text)
  std::string status;     ///< passed, failed, not_evaluated
  bool has_measured = false;
  double measured = 0;
  std::string unit;       ///< rows or percent
  std::string threshold;  ///< the comparison as written, e.g. "mustBeLessThan 5"
  std::string severity;   ///< error, warning, info
  std::string samples;    ///< JSON array of up to 5 failing rows, sensitive columns left out
  std::string message;    ///< why it failed or was not evaluated
  std::string checked_at;
};

/// One product-to-product edge: `downstream` reads `upstream`'s port through an input port.
struct LineageEdge {
  std::string upstream;         ///< domain.product
  std::string upstream_port;    ///< port name
  std::string downstream;       ///< domain.product
  std::string downstream_input; ///< the downstream's input port name
};

/// Column-level lineage: `downstream`'s output column reads `upstream`'s port column through
/// one of its pipeline's inputs (computed from the pipeline's SQL by pipeline/column_lineage.h).
struct ColumnLineageRecord {
  std::string downstream;         ///< domain.product
  std::string downstream_port;
  std::string downstream_column;
  std::string upstream;           ///< domain.product
  std::string upstream_port;
  std::string upstream_column;    ///< "*": the whole port (the column could not be told)
  std::string input;              ///< the downstream pipeline's input name
  bool direct = true;             ///< false: read by a join, filter or grouping
};

/// What applying the mesh would change in one output port's contract (catalog_versions.cc).
struct PortVersionReview {
  std::string product;     ///< domain.product
  std::string product_id;
  std::string port;
  std::string old_version;  ///< the port's version as last applied; empty: a new port
  std::string new_version;
  std::string old_contract_version;
  std::string new_contract_version;
  int old_major = 0;
  int new_major = 0;
  spec::ContractDiff diff;
  std::vector<std::string> refusals;  ///< why it cannot be applied (empty: it can)
  std::vector<std::string> warnings;
  std::vector<std::string> notes;     ///< lifecycle moves of earlier majors

  /// domain.product.port
  std::string SqlName() const { return product + "." + port; }
};

/// The version and lifecycle gate's verdict on a mesh against the catalog.
struct VersionReview {
  std::vector<PortVersionReview> ports;  ///< every output port that exists in the catalog
  std::vector<std::string> refusals;     ///< status transitions and version moves refused
  std::vector<std::string> warnings;

  bool ok() const;
  /// Every refusal, of the ports and of the mesh, one per line.
  std::string RefusalText() const;
};

/// A contract as applied (catalog_contracts.cc): its ODCS text exactly as stored.
struct ContractRecord {
  std::string id;
  std::string product_id;
  std::string version;
  std::string status;
  std::string source_text;  ///< the .odcs.yaml as applied
  std::string applied_at;
};

/// One output port major as applied: its version, contract and lifecycle (catalog_contracts.cc).
struct PortVersionRecord {
  std::string product_id;
  std::string port;
  int major = 0;
  std::string version;
  std::string contract_id;
  std::string contract_version;
  std::string contract_status;
  std::string status;
  std::string end_of_support;
  std::string end_of_life;
  std::string applied_at;
  std::string contract_source;  ///< the contract's ODCS text for this major
};

/// What the search index knows of a document besides its text (catalog_search.cc).
struct SearchDocRecord {
  int64_t doc = 0;
  std::string product_id;
  std::string domain;
  std::string product;     ///< the product's name (not qualified)
  std::string port;        ///< empty: a product without output ports
  std::string visibility;  ///< the port's: public, restricted, private
  std::string status;      ///< the product's
  std::vector<std::string> tags;
  std::vector<std::string> owners;           ///< owner usernames and the team's name
  std::vector<std::string> classifications;  ///< of the port's columns, lower case, each once
  double documented = 0;   ///< share of the port's columns with a description (0..1)
  double quality = -1;     ///< share of the port's last quality results passed; -1: none
  bool published = false;
};

/// The searchable fields, in the FTS5 table's order, with their BM25 weights.
struct SearchField {
  const char* name;
  double weight;
};
inline constexpr SearchField kSearchFields[] = {
    {"name", 8.0},     {"tags", 4.0},     {"description", 1.5}, {"columns", 3.0},
    {"business", 3.0}, {"glossary", 3.0}, {"owners", 2.0}};
inline constexpr int kSearchFieldCount = 7;

struct GlossaryMatchRecord {
  std::string id;
  std::string name;        ///< highlighted
  std::string definition;  ///< a highlighted snippet
  double relevance = 0;
};

/// Reads of a product counted from the audit trail (catalog_usage.cc): by principal and day,
/// and by column.
struct UsageRead {
  std::string product;  ///< domain.product
  std::string principal;
  std::string day;      ///< YYYY-MM-DD
  int64_t queries = 0;
  int64_t rows = 0;
  std::string last_at;
  /// port.column -> queries that read it
  std::map<std::string, int64_t> columns;
};

struct UsageSummary {
  int64_t queries = 0;
  int64_t readers = 0;
  int64_t rows = 0;
  std::string last_at;
};

struct ProductUsage {
  std::string product;
  UsageSummary total;
  struct Reader {
    std::string principal;
    int64_t queries = 0;
    int64_t rows = 0;
    std::string last_at;
  };
  std::vector<Reader> readers;  ///< most queries first
  struct Column {
    std::string port;
    std::string column;
    int64_t queries = 0;
  };
  std::vector<Column> columns;  ///< most read first (since ever: columns are not kept by day)
  std::vector<std::pair<std::string, int64_t>> days;  ///< day -> queries, oldest first
};

/// A term of the mesh's business glossary as applied (catalog_glossary.cc).
struct GlossaryTermRecord {
  std::string id;
  std::string name;
  std::string definition;
  std::vector<std::string> owners;
  std::vector<std::string> synonyms;
  std::string url;  ///< empty when none
  std::vector<std::string> related;  ///< ids of other terms
  std::string applied_at;
};

/// One column linked to a glossary term (spec::GlossaryIndex::LinksOf's rule).
struct ColumnTermRecord {
  std::string product_id;
  std::string product;  ///< domain.product
  std::string port;
  int major = 0;
  std::string column;
  std::string term_id;
  std::string link;  ///< authoritativeDefinition or businessName

  /// domain.product.port.column
  std::string QualifiedColumn() const { return product + "." + port + "." + column; }
};

struct ApplyReport {
  std::vector<std::string> created;    ///< domain.product
  std::vector<std::string> updated;
  std::vector<std::string> unchanged;
};

/// A CDC pipeline's state (catalog_streams.cc): paused, why and since when.
struct PipelineStateRecord {
  std::string product_id;
  bool paused = false;
  std::string reason;
  std::string since;  ///< when it paused (ISO 8601); empty when running
};

/// A compatible change at a CDC source: a column the contract does not have, kept in the
/// product's table, and the contract version that would declare it (a minor bump).
struct SchemaProposalRecord {
  std::string product_id;
  std::string port;
  std::string column;
  std::string type;
  std::string proposed_version;
  std::string at;
};

}  // namespace plexus::catalog
