// File: plexus/spec/model.h
//
// The typed model of what a domain writes: ODPS v1.0.0 data products, ODCS v3.1.0 data
// contracts, and Plexus's own mesh.yaml, domain.yaml and pipeline.yaml. Plain values, no I/O;
// parse.h fills them from files and names file, line and field on every problem.
//
// Only the fields the platform acts on are typed here; every document also keeps its source
// text so the catalog stores it whole (full fidelity is the Data contracts issue's work).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace plexus::spec {

/// Where a value was written: 1-based line and column. line == 0 when unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// ---- ODCS v3.1.0 ----------------------------------------------------------------------------

/// An ODCS data quality rule (DataQuality), schema-level or attached to one property.
/// Evaluated on every run and by `plexus test` (pipeline/quality_check.h).
struct QualityRule {
  std::string id;
  std::string name;
  std::string description;
  std::string dimension;  ///< accuracy, completeness, conformity, ...
  std::string type;       ///< library (the default), sql, custom, text
  std::string metric;     ///< library: nullValues, missingValues, invalidValues,
                          ///< duplicateValues, rowCount (`metric`, or v3.0's `rule`)
  // arguments
  std::vector<std::string> valid_values;    ///< invalidValues: arguments.validValues, no null
  std::string pattern;                      ///< invalidValues: arguments.pattern (a regex)
  std::vector<std::string> missing_values;  ///< missingValues: arguments.missingValues, no null
  bool has_missing_values = false;          ///< arguments.missingValues was written
  std::vector<std::string> properties;      ///< schema-level duplicateValues: arguments.properties
  // comparison: the measured value must satisfy `op` against `operands`
  std::string op;                 ///< mustBe, mustNotBe, mustBeGreaterThan, ...; empty: none
  std::vector<double> operands;   ///< one value, or [low, high] for (mustNot)BeBetween
  std::string operand_text;       ///< the operand as written (for messages), e.g. [100, 120]
  std::string unit;               ///< rows (default) or percent (of the table's rows)
  std::string query;              ///< sql: the query, with {object} / {property} placeholders
  std::string engine;             ///< custom
  std::string implementation;     ///< custom, as text
  std::string severity;           ///< error (the default), warning, info
  std::string business_impact;
  std::string column;             ///< the property it is attached to; empty: schema-level
  SourceLocation location;
};

/// An ODCS authoritativeDefinition: a link to where something is defined authoritatively (a
/// business glossary, a wiki page, a canonical URL). On a property, `url: glossary:<term-id>`
/// names a term of the mesh's glossary (GlossaryTerm, glossary.h).
struct AuthoritativeDefinition {
  std::string url;
  std::string type;  ///< businessDefinition, transformationImplementation, videoTutorial, ...
  std::string description;
  SourceLocation location;  ///< the url's value
};

/// A column of a schema object (ODCS SchemaProperty).
struct Property {
  std::string name;
  std::string business_name;
  std::string description;
  std::string logical_type;   ///< string, integer, number, boolean, date, timestamp, time, object, array
  std::string physical_type;  ///< as the engine spells it (BIGINT, VARCHAR, DECIMAL(10,2)...), optional
  bool required = false;
  bool primary_key = false;
  int primary_key_position = -1;
  bool unique = false;
  std::string classification;  ///< e.g. public, internal, restricted, confidential, pii
  std::vector<std::string> tags;
  std::vector<QualityRule> quality;  ///< property-level rules (column set)
  /// Access (customProperties `mask`): how consumers outside the domain see the column:
  /// redact, hash, partial(N), null, year, or sql(EXPR) with {column}; empty: from the mesh's
  /// classification rules (MeshAccess::masks).
  std::string mask;
  /// ODCS authoritativeDefinitions: how the column links to the business glossary (glossary.h).
  std::vector<AuthoritativeDefinition> authoritative_definitions;
  SourceLocation location;
};

/// A table of a contract (ODCS SchemaObject).
struct SchemaObject {
  std::string name;
  std::string physical_name;
  std::string description;
  std::vector<Property> properties;
  std::vector<QualityRule> quality;  ///< schema-level rules (column empty)
  SourceLocation location;
};

/// An ODCS service-level property (slaProperties): latency, frequency, retention,
/// availability, errorRate, timeOfAvailability, ... The value as written (a number, text or a
/// boolean, as text).
struct SlaProperty {
  std::string property;
  std::string value;
  std::string unit;     ///< e.g. d, h, m, s (ODCS units); may be empty
  std::string element;  ///< the object or property it applies to; may be empty
  SourceLocation location;
};

/// An ODCS data contract: one per output port.
struct Contract {
  std::string api_version;  ///< v3.1.0 (v3.0.x accepted)
  std::string kind;         ///< DataContract
  std::string id;
  std::string name;
  std::string version;      ///< semantic version, e.g. 1.2.0
  std::string status;       ///< proposed, draft, active, deprecated, retired
  std::string domain;
  std::string data_product;
  std::string description;  ///< description.purpose
  std::vector<SchemaObject> schema;
  std::vector<std::string> tags;
  std::vector<SlaProperty> sla;  ///< slaProperties, in the file's order
  /// Access (customProperties): `visibility` public, restricted or private (empty: the mesh's
  /// default); `rowFilter`, a SQL predicate over the port's columns that may call
  /// principal_attr('key'), principal_name() and principal_in_group('group');
  /// `rowFilterExempt`, the groups (or `admin`) that read every row.
  std::string visibility;
  std::string row_filter;
  std::vector<std::string> row_filter_exempt;
  SourceLocation row_filter_location;
  SourceLocation location;  ///< the document (file, line 1)
  std::string source_text;  ///< the YAML as written
};

// ---- ODPS v1.0.0 ----------------------------------------------------------------------------

struct InputPort {
  std::string name;
  std::string version;
  std::string contract_id;  ///< id of the upstream output port's contract
  SourceLocation location;
};

struct OutputPort {
  std::string name;
  std::string description;
  std::string type;  ///< e.g. tables
  std::string version;
  std::string contract_id;
  SourceLocation location;
};

struct TeamMember {
  std::string username;
  std::string name;
  std::string role;  ///< owner, data steward, member...
};

/// An ODPS data product.
struct Product {
  std::string api_version;  ///< v1.0.0
  std::string kind;         ///< DataProduct
  std::string id;
  std::string name;         ///< the product's SQL name: snake_case, unique in its domain
  std::string version;
  std::string status;       ///< proposed, draft, active, deprecated, retired
  std::string domain;
  std::string tenant;
  std::string purpose;      ///< description.purpose
  std::string limitations;  ///< description.limitations
  std::string usage;        ///< description.usage
  std::vector<std::string> tags;
  std::vector<InputPort> input_ports;
  std::vector<OutputPort> output_ports;
  std::string team_name;
  std::vector<TeamMember> team;
  SourceLocation location;
  std::string source_text;
};

// ---- pipeline.yaml (Plexus's own format) ----------------------------------------------------

/// A named relation the pipeline's SQL reads: a file, or an ODPS input port of the product.
/// A value written in pipeline.yaml or a processor definition, as YAML gave it: a text
/// (scalars keep their written text), a list, or a map (fields in written order).
struct StepValue {
  enum class Kind { kText, kList, kMap };
  Kind kind = Kind::kText;
  std::string text;
  std::vector<StepValue> items;                           ///< kList
  std::vector<std::pair<std::string, StepValue>> fields;  ///< kMap, in written order
  SourceLocation location;
  /// The field `name` of a map, or nullptr.
  const StepValue* Field(const std::string& name) const {
    for (const auto& [key, value] : fields) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

/// One step of an output's chain (docs/mesh-format.md, "Processors"): a built-in processor
/// with its argument as written, or the use of a named processor with parameters.
///
///   - filter: "status <> 'test'"          kind filter, value text
///   - project: [id, "amount * 100 AS cents"]
///   - rename: {id: order_id}              kind rename, value map
///   - cast: {order_date: DATE}
///   - dedupe: {key: [order_id], latest: updated_at}
///   - mask: {email: hash, phone: "partial(4)"}   (the access layer's mask kinds)
///   - hash: [email]                       salted hash, as the mask `hash`
///   - union: [eu_orders, us_orders]       union by name with the named inputs
///   - lookup: {input: customers, on: [customer_id], columns: [country]}   left join
///   - sql: "SELECT ... FROM input"        `input` is the previous step's result
///   - use: clean_emails                   a processor defined in domain.yaml or mesh.yaml
///     with: {column: email}
struct ProcessorStep {
  std::string kind;  ///< sql, filter, project, rename, cast, dedupe, mask, hash, union, lookup, use
  StepValue value;   ///< the built-in's argument; for `use`: the processor's name (a text)
  std::vector<std::pair<std::string, StepValue>> with;  ///< `use` parameters
  SourceLocation location;
};

/// A parameter of a named processor: `${name}` in its steps' texts.
struct ProcessorParameter {
  std::string name;
  std::optional<std::string> default_value;  ///< none: the use must set it
  std::string description;
  SourceLocation location;
};

/// A reusable processor (mesh.yaml or domain.yaml `processors.<name>`): a chain of built-in
/// steps with parameters. A domain's processors are visible to its own pipelines only; a
/// domain processor may not take the name of a mesh one.
struct ProcessorDefinition {
  std::string name;   ///< [a-z][a-z0-9_]*
  std::string scope;  ///< "mesh" or the domain's name
  std::string description;
  std::vector<ProcessorParameter> parameters;
  std::vector<ProcessorStep> steps;
  SourceLocation location;
};

/// A change-data-capture input (pipeline.yaml `inputs[].cdc`): where the Debezium change
/// events come from and how bad ones are handled.
struct CdcSpec {
  std::string source;  ///< files, http, postgres, kafka
  // files: NDJSON change files in a folder, read in name order as they arrive.
  std::string folder;                ///< relative to the product folder
  std::string pattern = "*.ndjson";  ///< file names to read
  // postgres: logical decoding through a replication slot with wal2json.
  std::string dsn;            ///< libpq connection string (no password: PGPASSWORD or .pgpass)
  std::string table;          ///< schema.table at the source
  std::string slot;           ///< empty: plexus_<domain>_<product>_<input>
  bool snapshot = true;       ///< an initial snapshot (op r) before streaming
  // kafka: a topic through librdkafka.
  std::string brokers;
  std::string topic;
  std::map<std::string, std::string> options;  ///< librdkafka properties
  /// The share of bad events (dead-lettered) in one batch above which the pipeline pauses.
  double max_error_rate = 0.05;
  /// The share of deleted rows in a table the input writes (the port's table, its key state)
  /// above which the applier rewrites it without them (at least 1,000 deleted rows).
  double compact_at = 0.5;
  /// A source column the contract does not have: `add` keeps it in the table and proposes a
  /// minor contract bump; `ignore` drops it; `pause` pauses the pipeline.
  std::string new_columns = "add";
  SourceLocation location;
};

/// One input of a pipeline.
struct PipelineInput {
  std::string name;        ///< how the SQL refers to it (a single identifier)
  std::string file;        ///< path relative to the product folder (set for file inputs)
  std::string format;      ///< csv, json, ndjson, parquet; empty: from the file's extension
  std::map<std::string, std::string> options;  ///< reader options, e.g. delim: ";"
  std::string input_port;  ///< name of one of the product's ODPS input ports
  std::optional<CdcSpec> cdc;  ///< set for change-data-capture inputs
  SourceLocation location;
};

/// How one output port is built: a SELECT over the inputs, or an input (`from`), then the
/// chain of processor steps.
struct PipelineOutput {
  std::string port;  ///< name of one of the product's ODPS output ports
  std::string sql;   ///< empty: `from`, or the only input
  std::string from;  ///< an input's name (the start of the chain when `sql` is empty)
  std::vector<ProcessorStep> steps;
  SourceLocation location;
};

/// When `plexus serve` runs a pipeline (pipeline.yaml `schedule`). Several may be set.
struct Schedule {
  double every_s = 0;        ///< `every: 15m`: an interval; 0: none
  std::string cron;          ///< `cron: "0 * * * *"`: five fields, UTC; empty: none
  bool on_upstream = false;  ///< `onUpstream: true`: after an input port's product publishes
  bool continuous = false;   ///< `continuous: true` (CDC): micro-batches as events arrive
  double max_latency_s = 1;  ///< `maxLatency: 500ms`: the longest an event waits for its batch
  /// `maxBatchEvents`: each batch of a catch-up deletes the rows it replaces with a scan of the
  /// table and commits once; at 10M events 500,000 a batch gave 1.3x the events/s of 250,000
  /// for about 130 MiB more memory (docs/adr/0010-streaming.md).
  int64_t max_batch_events = 500000;
  SourceLocation location;
};

/// pipeline.yaml `retries`: a failed scheduled run is tried again after backoff, doubling.
struct RetryPolicy {
  int attempts = 3;          ///< runs in all, the first included
  double backoff_s = 10;     ///< the first wait
  double max_backoff_s = 600;
  SourceLocation location;
};

struct Pipeline {
  std::vector<PipelineInput> inputs;
  std::vector<PipelineOutput> outputs;
  Schedule schedule;
  RetryPolicy retries;
  SourceLocation location;
  std::string source_text;  ///< the YAML as written
};

// ---- governance (docs/governance.md) -------------------------------------------------------

/// A policy parameter's value: a number, a text, a boolean or a list of texts.
struct PolicyValue {
  enum class Kind { kNumber, kText, kBool, kList };
  Kind kind = Kind::kText;
  double number = 0;
  std::string text;
  bool boolean = false;
  std::vector<std::string> list;
  /// As a person would write it: 10, 2.5, pii, true, [pii, confidential].
  std::string ToString() const;
};

/// A parameter of a policy: `$name` in its SQL. Its default, and the range a domain may set it
/// in (domain.yaml `governance.parameters`): numbers within [min, max]; texts and lists made of
/// the `allowed` values. No range: domains may not change it.
struct PolicyParameter {
  std::string name;  ///< [a-z][a-z0-9_]*
  std::string description;
  PolicyValue default_value;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> allowed;
  SourceLocation location;
};

/// A governance policy: SQL over the catalog views that returns the violations, one row each,
/// with the columns `entity` (domain, domain.product, domain.product.port or
/// domain.product.port.column) and `message`.
struct Policy {
  std::string id;  ///< [a-z][a-z0-9-]*, unique in the mesh
  std::string title;
  std::string rationale;
  std::string severity = "warn";  ///< block, warn or info
  std::string scope = "global";   ///< global, or the domain whose policy files hold it
  bool enabled = true;
  bool exemptible = true;   ///< false: no exemption applies to it (global policies only)
  bool quarantine = false;  ///< a product failing it is not served outside its domain
  bool builtin = false;     ///< from the platform's built-in pack
  std::vector<PolicyParameter> parameters;
  std::string sql;
  SourceLocation location;      ///< the policy (its first key)
  SourceLocation sql_location;  ///< its `sql` value
};

/// How the mesh (mesh.yaml `governance.policies.<id>`) or a domain (domain.yaml
/// `governance.parameters.<id>`) sets a policy it does not define: switch a built-in policy on
/// or off, change its severity, set parameters. A domain may set parameters only.
struct PolicySetting {
  std::string policy;
  std::optional<bool> enabled;
  std::string severity;  ///< empty: unchanged
  std::optional<bool> exemptible;
  std::optional<bool> quarantine;
  std::map<std::string, PolicyValue> parameters;
  std::map<std::string, SourceLocation> parameter_locations;
  SourceLocation location;
};

/// A justified, approved and expiring exception to a policy for one entity (a governance
/// file's `exemptions`). It stops applying at `expires` by itself.
struct Exemption {
  std::string policy;
  std::string entity;  ///< as the policy reports it; a domain or domain.product covers what is under it
  std::string justification;
  std::string approved_by;
  std::string expires;  ///< YYYY-MM-DD (end of that day, UTC) or an ISO 8601 UTC date-time
  SourceLocation location;
};

/// A policy file (`kind: Policies`): policies and exemptions.
struct PolicyFile {
  std::vector<Policy> policies;
  std::vector<Exemption> exemptions;
  SourceLocation location;
};

/// The mesh's governance: mesh.yaml `governance` plus the global policy files (`policies`).
struct MeshGovernance {
  bool builtin = true;  ///< governance.builtin: false turns the built-in pack off
  std::vector<PolicySetting> settings;  ///< governance.policies, by policy id
  std::vector<Policy> policies;         ///< the global policy files' policies
  std::vector<Exemption> exemptions;    ///< the global policy files' exemptions
};

// ---- mesh.yaml and domain.yaml --------------------------------------------------------------

/// A product folder: the product, the contracts of its ports (by contract id), its pipeline.
struct ProductBundle {
  Product product;
  std::map<std::string, Contract> contracts;  ///< contract id -> contract
  std::optional<Pipeline> pipeline;
  std::string dir;  ///< absolute path of the product folder
};

struct Domain {
  std::string name;  ///< snake_case; the first part of a port's SQL name
  std::string description;
  std::vector<std::string> owners;   ///< usernames
  std::vector<std::string> members;  ///< usernames
  std::vector<ProductBundle> products;
  std::string dir;
  SourceLocation location;
  std::vector<std::string> policy_files;  ///< domain.yaml `policies`, relative to dir
  std::vector<Policy> policies;           ///< the domain's policy files' (scope: the domain)
  std::vector<PolicySetting> policy_settings;  ///< governance.parameters (parameters only)
  std::vector<ProcessorDefinition> processors;  ///< domain.yaml `processors`
  std::string source_text;                ///< domain.yaml as written
};

/// How the mesh masks a classification (mesh.yaml `access.masks.<classification>`).
struct MaskRule {
  std::string mask;                    ///< as Property::mask
  std::vector<std::string> clear_for;  ///< groups (or `admin`) that see the clear value
  SourceLocation location;             ///< the rule in mesh.yaml
};

/// mesh.yaml `access`: the mesh-wide defaults of the access layer.
struct MeshAccess {
  std::string default_visibility = "restricted";  ///< of a port whose contract says nothing
  std::map<std::string, MaskRule> masks;          ///< lower-case classification -> rule
};

/// A term of the mesh's business glossary (mesh.yaml `glossary`, a `kind: Glossary` file).
/// Columns link to terms by their ODCS authoritativeDefinitions or businessName
/// (GlossaryLinksOf, glossary.h).
struct GlossaryTerm {
  std::string id;          ///< [a-z0-9_-]+, unique in the glossary
  std::string name;        ///< how people say it: "Customer lifetime value"
  std::string definition;  ///< what it means, in the company's words
  std::vector<std::string> owners;    ///< principals or a team answering for the definition
  std::vector<std::string> synonyms;  ///< other names a column's businessName may use
  std::string url;                    ///< the definition elsewhere (a wiki); optional
  std::vector<std::string> related;   ///< ids of other terms of the glossary
  SourceLocation location;            ///< the term (its first key)
  SourceLocation related_location;    ///< its `related` list (the term's when absent)
};

/// mesh.yaml `observability` (docs/observability.md): where OpenLineage events and alerts go,
/// and how often `plexus serve` evaluates the SLOs. Every field is optional.
struct MeshObservability {
  std::string openlineage_url;        ///< openlineage.url: each event is POSTed there (http://)
  std::string openlineage_file;       ///< openlineage.file: NDJSON, relative to the home
  std::string openlineage_namespace;  ///< openlineage.namespace; empty: the mesh's name
  std::string alerts_webhook;         ///< alerts.webhook: each alert is POSTed there as JSON
  bool alerts_log = true;             ///< alerts.log: each alert is a log line too
  double slo_interval_s = 60;         ///< sloInterval (a duration: 30s, 5m, 1h)
  /// runHistory.retention: `plexus serve` deletes finished runs older than this (at least 31
  /// days, so the 30-day SLO and trust windows stay whole).
  double run_retention_s = 90 * 86400.0;
  /// runHistory.perProduct: and keeps at most this many runs per product (at least 100).
  int runs_per_product = 10000;
  bool enabled = true;                ///< enabled: false turns metrics, SLOs and lineage off
  SourceLocation location;            ///< where the section starts (line 0: absent)
};

struct Mesh {
  std::string name;
  MeshAccess access;
  std::string description;
  std::vector<std::string> policy_files;  ///< governance/*.yaml, relative to the mesh folder
  MeshGovernance governance;              ///< mesh.yaml `governance` and the policy files
  /// mesh.yaml `glossary`: the business glossary file, relative to the mesh folder (empty:
  /// none), where mesh.yaml names it, and its terms in the file's order.
  std::string glossary_file;
  SourceLocation glossary_location;
  std::vector<GlossaryTerm> glossary;
  std::vector<ProcessorDefinition> processors;  ///< mesh.yaml `processors`
  MeshObservability observability;              ///< mesh.yaml `observability` (issue 9)
  std::vector<Domain> domains;
  std::string dir;  ///< absolute path of the mesh folder
  SourceLocation location;  ///< mesh.yaml (line 1)
  std::string source_text;  ///< mesh.yaml as written
};

/// The mask a column gets: its own `mask`, else the mesh's rule for its classification
/// (case-insensitive), else none (empty). `clear_for` (may be null) receives the groups of the
/// mesh's rule for the classification, also when the column names its own mask.
std::string EffectiveMask(const MeshAccess& access, const Property& property,
                          std::vector<std::string>* clear_for);
/// The visibility of a port: its contract's, else the mesh's default.
std::string EffectiveVisibility(const MeshAccess& access, const Contract& contract);

}  // namespace plexus::spec
