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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "plexus/catalog/access_records.h"
#include "plexus/catalog/catalog_records.h"
#include "plexus/catalog/governance_records.h"
#include "plexus/catalog/home.h"
#include "plexus/catalog/observe_records.h"
#include "plexus/catalog/run_observer.h"
#include "plexus/common/status.h"
#include "plexus/spec/model.h"
#include "plexus/spec/contract_diff.h"

namespace plexus::catalog {

namespace internal {
class SqliteDb;
class SearchBm25;
}

class Catalog {
 public:
  static Result<std::unique_ptr<Catalog>> Open(const Home& home);
  ~Catalog();
  /// The home it was opened from.
  const Home& home() const { return home_; }

  /// Registers or updates every domain, product, contract and port of the mesh, in one
  /// transaction. The mesh must already be valid (spec::LoadMesh). Also syncs each domain's
  /// roles from domain.yaml (owners, members, its service principal; principals it names are
  /// created) and appends one `apply` audit record by `actor`.
  Result<ApplyReport> Apply(const spec::Mesh& mesh, const std::string& actor = "local") {
    return Apply(mesh, actor, nullptr);
  }

  Result<std::vector<ProductRecord>> ListProducts() const;
  /// The same without the output ports' columns, which are most of a large catalog (2M at
  /// 100,000 products): what a dependency order, a schedule or a list of folders reads.
  Result<std::vector<ProductRecord>> ListProductsWithoutColumns() const;
  /// Every product, by domain and name, handed to `each` with its output ports (every major,
  /// with publication and lifecycle) but without columns or input ports: the listing
  /// (`plexus products`, GET /api/v1/products), which pages after the caller's visibility.
  /// Stops when `each` returns false. Read in batches; `each` runs outside the catalog's lock.
  Status ForEachProductSummary(const std::function<bool(ProductRecord&&)>& each) const;
  /// By ODPS id or by domain.product.
  Result<ProductRecord> GetProduct(std::string_view ref) const;
  /// Every output port of every product, all majors.
  Result<std::vector<OutputPortRecord>> ListOutputPorts() const;
  /// The same with publication and lifecycle but without columns, and the columns generation
  /// (a counter every change of a column moves, and nothing else), in one read transaction:
  /// the access policy's listing, which reads a port's columns when it needs them.
  Result<PortListing> ListOutputPortSummaries() const;
  /// Every port major's published rows, sorted, and the generations a PortListing carries, in
  /// one read transaction: what a run or a CDC micro-batch changes, without the ports.
  Result<PublicationListing> ListPublications() const;
  /// One port major's columns by position, without their glossary terms, and the columns
  /// generation, in one read transaction: the caller tells whether they are still those of
  /// its listing. No columns (empty) when the port has none or is unknown.
  Result<PortColumns> ReadPortColumns(const std::string& product_id, const std::string& port,
                                      int major) const;
  Result<std::vector<LineageEdge>> ListLineage() const;

  /// `trigger`: why the run started (manual, schedule, cron, upstream, retry, continuous, push, backfill);
  /// `attempt`: 1, or the retry's number.
  Result<int64_t> StartRun(const std::string& product_id, const std::string& trigger = "manual",
                           int attempt = 1);
  Status FinishRun(int64_t run_id, const std::string& status, const std::string& reason,
                   int64_t rows);
  /// Newest first; product_id empty: every product.
  Result<std::vector<RunRecord>> ListRuns(const std::string& product_id, int limit) const;
  /// The runs `query` selects, newest first, one page.
  Result<std::vector<RunRecord>> ListRuns(const RunQuery& query) const;
  /// One run by id; kNotFound when there is none.
  Result<RunRecord> GetRun(int64_t run_id) const;
  /// Each product's newest run that has finished (succeeded or failed), one per product.
  Result<std::vector<RunRecord>> LatestFinishedRuns() const;
  /// The processors (docs/mesh-format.md, "Processors") defined by mesh.yaml (`scope` "mesh")
  /// or by a domain's domain.yaml (`scope` its name) as last applied, in written order, for
  /// spec::ExpandSteps; empty when there are none. Apply stores them (catalog_apply.cc).
  Result<std::vector<spec::ProcessorDefinition>> Processors(const std::string& scope) const;
  // ---- CDC pipelines (catalog_streams.cc) ----
  /// Pauses (reason non-empty) or resumes (reason empty) a product's CDC pipeline.
  Status SetPipelinePaused(const std::string& product_id, const std::string& reason);
  /// The pipeline's state; not paused when never recorded.
  Result<PipelineStateRecord> GetPipelineState(const std::string& product_id) const;
  /// Records a proposal once per port and column (a repeat is ignored).
  Status RecordSchemaProposal(const SchemaProposalRecord& proposal);
  /// The product's proposals, oldest first.
  Result<std::vector<SchemaProposalRecord>> ListSchemaProposals(const std::string& product_id) const;
  Status RecordPublication(const OutputPortRecord& port, int64_t rows, int64_t run_id);

  /// Changes whenever what readers cache changes (not the audit trail, not token use), through
  /// this Catalog or any other connection (another plexus process): cheap, so readers can skip
  /// re-reading an unchanged catalog.
  Result<std::pair<int64_t, int64_t>> Generation() const;

  /// The version gate: each output port's contract in `mesh` diffed against the one last
  /// applied, with the version moves and lifecycle transitions checked. Apply runs it too and
  /// refuses the whole mesh when it is not ok() (catalog_versions.cc).
  Result<VersionReview> ReviewVersions(const spec::Mesh& mesh) const;
  /// Replaces the column lineage of the products named in `products` (domain.product).
  Status ReplaceColumnLineage(const std::vector<std::string>& products,
                              const std::vector<ColumnLineageRecord>& edges);
  /// Every column lineage edge; upstream empty: all of them.
  Result<std::vector<ColumnLineageRecord>> ListColumnLineage(const std::string& upstream = "") const;

  /// The product's contracts as applied, by id (catalog_contracts.cc).
  Result<std::vector<ContractRecord>> ListContracts(const std::string& product_id) const;
  /// Every applied major of every output port of the product, by port then major.
  Result<std::vector<PortVersionRecord>> ListPortVersions(const std::string& product_id) const;

  /// The quality rules of a port's contract at its major, as applied: schema-level rules, then
  /// each property's, in the contract's order (catalog_quality.cc).
  Result<std::vector<spec::QualityRule>> ListQualityRules(const OutputPortRecord& port) const;
  /// Records quality results (of a run, or of plexus test when run_id is 0), in one transaction.
  Status RecordQualityResults(const std::vector<QualityResultRecord>& results);
  /// run_id > 0: that run's results. Otherwise the results of the last check of each of the
  /// product's ports (by a run or by plexus test). In port, major, rule order.
  Result<std::vector<QualityResultRecord>> ListQualityResults(const std::string& product_id,
                                                              int64_t run_id = 0) const;

  // ---- Principals, groups (catalog_principals.cc), credentials (catalog_credentials.cc) -----
  // Every change below takes the acting principal (`actor`) and appends its audit record in
  // the same transaction: a change is never stored without its record. Refusals of the
  // access layer are audited by the access layer (AppendAudit).

  /// kAlreadyExists when the name is taken (case-insensitively); kInvalidArgument for a bad
  /// name or kind.
  Status CreatePrincipal(const PrincipalRecord& principal, const std::string& actor);
  /// kNotFound when unknown. Fills groups and domain_roles.
  Result<PrincipalRecord> GetPrincipal(const std::string& name) const;
  Result<std::vector<PrincipalRecord>> ListPrincipals() const;
  Status SetPrincipalAdmin(const std::string& name, bool admin, const std::string& actor);
  Status SetPrincipalDisabled(const std::string& name, bool disabled, const std::string& actor);
  /// An empty value removes the attribute.
  Status SetPrincipalAttribute(const std::string& name, const std::string& key,
                               const std::string& value, const std::string& actor);
  /// Groups exist when they have members; adding creates, removing the last member drops.
  Status AddGroupMember(const std::string& group, const std::string& principal,
                        const std::string& actor);
  Status RemoveGroupMember(const std::string& group, const std::string& principal,
                           const std::string& actor);
  /// group -> members (sorted).
  Result<std::map<std::string, std::vector<std::string>>> ListGroups() const;

  /// Issues an API token for `principal`; returns the secret, shown once: only its SHA-256 is
  /// stored. `expires_at` empty: never.
  Result<std::string> IssueToken(const std::string& principal, const std::string& label,
                                 const std::string& expires_at, const std::string& actor);
  /// The principal a token secret belongs to. kUnauthenticated (one message for every case,
  /// so a caller learns nothing) when unknown, revoked, expired, malformed, or its principal
  /// is disabled. Records last use.
  Result<PrincipalRecord> AuthenticateToken(const std::string& secret) const;
  Result<std::vector<TokenRecord>> ListTokens(const std::string& principal) const;
  Status RevokeToken(const std::string& token_id, const std::string& actor);
  /// Stores a SCRAM-SHA-256 verifier (RFC 7677, PostgreSQL's text form
  /// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>); never the password.
  Status SetPassword(const std::string& principal, const std::string& password,
                     const std::string& actor);
  /// The stored verifier; kNotFound when none.
  Result<std::string> GetScramVerifier(const std::string& principal) const;
  /// Checks a password against the stored verifier (kUnauthenticated when it does not match).
  Status VerifyPassword(const std::string& principal, const std::string& password) const;

  // ---- Access requests and grants (catalog_grants.cc) ---------------------------------------
  Result<int64_t> CreateAccessRequest(const AccessRequestRecord& request,
                                      const std::string& actor);
  Result<AccessRequestRecord> GetAccessRequest(int64_t id) const;
  /// principal / target / status empty: any. Newest first.
  Result<std::vector<AccessRequestRecord>> ListAccessRequests(const std::string& principal,
                                                              const std::string& target,
                                                              const std::string& status) const;
  /// Approves (creating the grant, with the request's expiry) or denies a pending request.
  /// kFailedPrecondition when it is not pending.
  Result<AccessRequestRecord> DecideAccessRequest(int64_t id, bool approve,
                                                  const std::string& reason,
                                                  const std::string& actor);
  Result<int64_t> CreateGrant(const GrantRecord& grant, const std::string& actor);
  Result<GrantRecord> GetGrant(int64_t id) const;
  Status RevokeGrant(int64_t id, const std::string& actor);
  /// grantee / target empty: any; active_at non-empty: only grants active then.
  Result<std::vector<GrantRecord>> ListGrants(const std::string& grantee,
                                              const std::string& target,
                                              const std::string& active_at) const;

  // ---- Audit trail (catalog_audit.cc) -------------------------------------------------------
  /// Appends one record (seq, at, prev_hash and hash are filled in); returns its seq.
  Result<int64_t> AppendAudit(AuditRecord record);
  Result<std::vector<AuditRecord>> SearchAudit(const AuditFilter& filter) const;
  /// Recomputes the whole chain.
  Result<AuditVerification> VerifyAudit() const;

  /// A random secret made when the catalog was created (32 bytes, hex): the salt of hash masks.
  Result<std::string> MaskSalt() const;

  // ---- Business glossary (catalog_glossary.cc, issue 4) ------------------------------------
  // Tables (read with SQL by the search index): glossary_terms (the mesh's terms, replaced by
  // every Apply) and column_terms (product_id, port, major, column_name, term_id, link): the
  // columns of each applied port major linked to a term. Visibility is the caller's to apply:
  // a term is visible to every signed-in principal, a column only with its port.

  /// Every term, by id.
  Result<std::vector<GlossaryTermRecord>> ListGlossaryTerms() const;
  /// The term with this id, or else whose name is `id` (ignoring ASCII case); kNotFound.
  Result<GlossaryTermRecord> GetGlossaryTerm(const std::string& id) const;
  /// The columns linked to `term_id` (empty: to any term), by term, product, port, major and
  /// the column's position.
  Result<std::vector<ColumnTermRecord>> ListColumnTerms(const std::string& term_id = "") const;

  // ---- Search index and usage (catalog_search.cc, catalog_usage.cc, issue 4) ----------------
  // The index is one SQLite FTS5 document per output port (at its newest major; a product
  // without ports has one document), written by Apply in its transaction: it is never stale.
  // Ranking, visibility and facets are the discovery module's (discovery/search.h).

  /// Every document's facts (not its text), by document id.
  Result<std::vector<SearchDocRecord>> ListSearchDocs() const;
  /// Every term of the index with the number of documents it is in, sorted by term.
  Result<std::vector<std::pair<std::string, int64_t>>> SearchVocabulary() const;
  /// Calls `each(doc, relevance)` for every document matching the FTS5 `expression`; relevance
  /// is BM25 with the field weights of kSearchFields (higher is better). An expression FTS5
  /// refuses is kInvalidArgument.
  Status MatchSearch(const std::string& expression,
                     const std::function<void(int64_t doc, double relevance)>& each) const;
  /// The documents' text, kSearchFieldCount fields each (list fields: one item a line), in the
  /// order of `docs`; an unknown document has empty fields.
  Result<std::vector<std::vector<std::string>>> SearchDocTexts(
      const std::vector<int64_t>& docs) const;
  /// True when a document matching `expression` is one `accept` takes (stops at the first).
  Result<bool> AnyMatch(const std::string& expression,
                        const std::function<bool(int64_t doc)>& accept) const;
  /// Glossary terms matching `expression`, best first (at most `limit`), highlighted.
  Result<std::vector<GlossaryMatchRecord>> MatchGlossary(const std::string& expression,
                                                         const std::string& open,
                                                         const std::string& close,
                                                         int limit) const;
  /// Re-indexes every product and glossary term (a catalog made before the index, the
  /// benchmark); returns the number of products indexed.
  Result<int64_t> RebuildSearchIndex();

  /// The audit records after `seq`, oldest first, at most `limit` (usage reads them).
  Result<std::vector<AuditRecord>> ReadAuditAfter(int64_t seq, int limit) const;
  /// The last audit record counted into usage (0: none yet).
  Result<int64_t> UsageCursor() const;
  /// Adds counted reads and moves the usage cursor from `from_seq` to `through_seq`, in one
  /// transaction; kFailedPrecondition when the cursor is no longer `from_seq` (another process
  /// counted them).
  Status RecordUsage(const std::vector<UsageRead>& reads, int64_t from_seq, int64_t through_seq);
  /// Reads of one product (domain.product) since `since` (ISO date or time; empty: ever).
  Result<ProductUsage> GetProductUsage(const std::string& product, const std::string& since) const;
  /// Queries and distinct readers per product (domain.product) since `since`.
  Result<std::map<std::string, UsageSummary>> ListUsage(const std::string& since) const;

  // ---- governance (catalog_governance.cc) ----
  /// Apply with a gate run in its transaction after every write (ApplyGate). `dry_run`: roll
  /// back at the end whatever the gate says (plexus governance check).
  Result<ApplyReport> Apply(const spec::Mesh& mesh, const std::string& actor,
                            const ApplyGate& gate, bool dry_run = false);
  /// Exports every governance view at `now` (ISO 8601), in GovernanceViews()'s order (those
  /// `by_product` last).
  Status ReadGovernanceViews(const std::string& now, ViewSink& sink) const;
  /// The policy set stored by the last apply (JSON); empty when none was.
  Result<std::string> GovernancePolicies() const;
  /// Stores an evaluation (its violations replace the previous ones; quarantines follow it).
  Result<int64_t> RecordGovernanceEvaluation(const GovernanceEvaluationRecord& evaluation);
  /// The newest evaluations, newest first, without violations.
  Result<std::vector<GovernanceEvaluationRecord>> ListGovernanceEvaluations(int limit) const;
  /// The newest evaluation with its violations; kNotFound when there is none.
  Result<GovernanceEvaluationRecord> LatestGovernanceEvaluation() const;
  /// Products (domain.product) a policy quarantines now -> "policy: message".
  Result<std::map<std::string, std::string>> QuarantinedProducts() const;

  // ---- Observability (issue 9) -----------------------------------------------------------
  /// Hears of every run's start and finish (run_observer.h); null: nobody. The observer must
  /// outlive the catalog's runs (serve sets it before the scheduler starts, clears it after).
  void SetRunObserver(std::shared_ptr<RunObserver> observer);

  // ---- Run metrics (catalog_metrics.cc, issue 9) ----
  /// Stores one run's figures (per port and per processor step, RunMetricRecord) and adds
  /// them to the cumulative totals of their series (product, port, position, processor), in
  /// one transaction. `at` empty: now. Call it before FinishRun, so the observer sees them.
  Status RecordRunMetrics(const std::vector<RunMetricRecord>& metrics);
  /// One run's figures, ports first then steps in chain order; empty when it recorded none.
  Result<std::vector<RunMetricRecord>> ListRunMetrics(int64_t run_id) const;
  /// The product's figures since `since` (ISO date or time; empty: all kept), oldest first:
  /// raw rows, and the hourly rows CompactMetrics folded older ones into.
  Result<std::vector<RunMetricRecord>> MetricsHistory(const std::string& product_id,
                                                      const std::string& since) const;
  /// Per series (product, port, position, processor): rows, bytes and seconds summed over
  /// every run ever recorded (never lowered by CompactMetrics); `run_id` the newest run's,
  /// `lag_seconds` the newest run's, `at` its time.
  Result<std::vector<RunMetricRecord>> MetricTotals() const;
  /// Per series: the newest run's figures.
  Result<std::vector<RunMetricRecord>> LatestMetrics() const;
  /// Runs per product and status, with the newest finish of each (for /metrics).
  struct RunStatusCount {
    std::string product_id;
    std::string product;  ///< domain.product
    std::string status;   ///< succeeded, failed, running
    int64_t runs = 0;
    std::string last_finished_at;
  };
  Result<std::vector<RunStatusCount>> RunStatusCounts() const;
  /// Bounded history (docs/metrics.md): raw rows are kept 7 days and at most kRawPerSeries
  /// per series; older ones are folded into one row per series and hour, kept 90 days.
  /// `now`: ISO 8601 (NowUtc()). Any thread.
  Status CompactMetrics(const std::string& now);
  static constexpr int kRawMetricDays = 7;
  static constexpr int kHourlyMetricDays = 90;
  static constexpr int kRawPerSeries = 2000;
  /// Run retention (mesh.yaml observability.runHistory): deletes finished runs that finished
  /// before `cutoff` (ISO 8601) or are older than the newest `per_product` runs of their
  /// product, with their quality results; at most `batch` runs per call, in one transaction.
  /// Always kept: running runs, each product's first run, newest finished and newest
  /// succeeded run, and every run a publication names. Returns how many runs it deleted.
  Result<int64_t> PruneRuns(const std::string& cutoff, int64_t per_product,
                            int64_t batch = 50000);
  // END run metrics

  // ---- SLOs, trust scores, quality history (catalog_slo.cc, issue 9) ----
  // Tables: slo_status (the current status of each port's objective), slo_changes (each status
  // change), slo_daily (per objective and UTC day: evaluations by status, for attainment),
  // port_serving_daily (per port and day: evaluations and those at which it was servable),
  // trust_scores (current) and trust_history. Day rows and history older than 90 days are
  // pruned by RecordSloEvaluation / RecordTrustScores. The observe module computes what they
  // hold (observe/slo.h, observe/trust.h; docs/slo-and-trust.md).

  /// Every slaProperty of every applied port major, by product, port, major and position.
  Result<std::vector<SlaPropertyRecord>> ListSlaProperties() const;
  /// The product's runs finished at or after `since`, and its newest successful ones.
  Result<RunWindowRecord> SloRunWindow(const std::string& product_id,
                                       const std::string& since) const;
  /// Counts one evaluation of a port's servability on `now`'s day (availability).
  Status RecordServingSample(const std::string& product_id, const std::string& port, int major,
                             bool servable, const std::string& now);
  /// {servable, evaluations} of a port since `since` (by day: the day of `since` counts whole).
  Result<std::pair<int64_t, int64_t>> ServingSamples(const std::string& product_id,
                                                     const std::string& port, int major,
                                                     const std::string& since) const;
  /// Stores an evaluation: replaces the current status of each objective (keeping `since`
  /// while the status is unchanged), appends a change record when it changed, counts the day;
  /// objectives no longer declared are dropped from the current status. One transaction.
  Status RecordSloEvaluation(const std::vector<SloStatusRecord>& statuses,
                             const std::string& now);
  /// The current status of every objective (product_id empty: of every product), by product,
  /// port, major and property. Empty when never evaluated.
  Result<std::vector<SloStatusRecord>> ListSloStatus(const std::string& product_id = "") const;
  /// The status changes of a product's objectives at or after `since` (empty: all kept),
  /// oldest first; each record's `since` and `evaluated_at` are the change's time.
  Result<std::vector<SloStatusRecord>> ListSloHistory(const std::string& product_id,
                                                      const std::string& since) const;
  /// product_id -> share of the evaluations since `since` (by day) whose status was met or
  /// at_risk among those met, at_risk or breached; products without such evaluations absent.
  Result<std::map<std::string, double>> SloAttainment(const std::string& since) const;
  /// Replaces the current trust scores of the products given and keeps their history (a row
  /// when the score moved or the day changed).
  Status RecordTrustScores(const std::vector<TrustScoreRecord>& scores);
  /// The current trust score of every product that has one, by domain.product.
  Result<std::vector<TrustScoreRecord>> ListTrustScores() const;
  /// A product's kept trust scores, newest first, at most `limit` (<= 0: all).
  Result<std::vector<TrustScoreRecord>> TrustHistory(const std::string& product_id,
                                                     int limit) const;
  /// Every quality rule checked since `since` for the product, by port, major and rule, each
  /// with its checks and its trend at `now` (empty: NowUtc()): last 7 days against the 7 before.
  Result<std::vector<QualityRuleHistoryRecord>> QualityHistory(const std::string& product_id,
                                                               const std::string& since,
                                                               const std::string& now = "") const;
  /// product_id -> share of the quality checks since `since` that passed (of those passed or
  /// failed); products without checks absent.
  Result<std::map<std::string, double>> QualityPassRates(const std::string& since) const;
  // END SLOs

  // ---- Alerts and observability settings (catalog_alerts.cc, issue 9) ----
  /// Stores mesh.yaml `observability` as the home's settings (Apply calls the locked form in
  /// its transaction; an empty openlineage namespace there becomes the mesh's name).
  Status SetObservabilitySettings(const spec::MeshObservability& settings);
  /// The settings as last applied; the defaults (model.h) when never applied.
  Result<spec::MeshObservability> ObservabilitySettings() const;
  /// Alerts, newest first (by id); `status` firing, resolved or "" (any); `limit` <= 0: all.
  Result<std::vector<AlertRecord>> ListAlerts(const std::string& status, int limit) const;
  /// Stores `alert` as firing now (id, status and fired_at are filled in) unless an alert with
  /// its key fires already: then kAlreadyExists, and nothing is stored (one firing per key).
  Result<AlertRecord> FireAlert(const AlertRecord& alert);
  /// Resolves the firing alert `id` now; kNotFound when no firing alert has that id.
  Result<AlertRecord> ResolveAlert(int64_t id);
  // END alerts

 private:
  Catalog(std::unique_ptr<internal::SqliteDb> db, Home home);
  /// ListProducts, with or without the ports' columns, in one read transaction.
  Result<std::vector<ProductRecord>> ReadProducts(bool columns) const;
  Status Migrate();
  /// runs.triggered_by and runs.attempt, added to a catalog made before them.
  Status AddRunTriggerColumns();
  /// Triggers that move Generation()'s counter on every change readers cache.
  Status CreateGenerationTriggers();
  Status ApplyProduct(const spec::MeshAccess& access, const spec::Domain& domain,
                      const spec::ProductBundle& bundle, const std::string& now,
                      ApplyReport& report);
  Status LoadPorts(ProductRecord& product) const;
  Result<VersionReview> ReviewVersionsLocked(const spec::Mesh& mesh) const;
  /// Stores each port major's contract and lifecycle after ApplyProduct (Apply's transaction).
  Status RecordVersions(const spec::Mesh& mesh, const std::string& now);
  /// Fills the lifecycle dates of the product's ports (LoadPorts).
  Status LoadLifecycle(ProductRecord& product) const;
  /// Replaces the stored quality rules of a port at a major (during Apply's transaction).
  Status ApplyQualityRules(const std::string& product_id, const std::string& port, int major,
                           const spec::SchemaObject* table);
  /// The glossary's tables (Migrate) and the mesh's glossary, stored by Apply after the
  /// products, in its transaction (catalog_glossary.cc).
  Status CreateGlossaryTables();
  Status ApplyGlossary(const spec::Mesh& mesh, const std::string& now);
  /// The search index's tables (Migrate) and the documents of the mesh's products, written by
  /// Apply last, in its transaction (catalog_search.cc).
  Status CreateSearchTables();
  Status IndexProducts(const spec::Mesh& mesh);
  /// Replaces the documents of one product (by id) from the catalog's tables; the glossary's
  /// documents are IndexGlossary's.
  Status IndexProductLocked(const std::string& product_id);
  Status IndexGlossaryLocked();
  /// The usage tables (catalog_usage.cc; CreateSearchTables calls it).
  Status CreateUsageTables();
  /// Governance's tables (Migrate), the product team and SLA facts of a product (ApplyProduct),
  /// the views' export and the evaluation's storage without the lock (catalog_governance.cc).
  Status CreateGovernanceTables();
  /// `governance_sources`: a token per table the views' SELECTs read, which triggers change at
  /// every write to it (the versions ViewSink::Versions receives).
  Status CreateGovernanceSourceTriggers();
  Status ApplyGovernanceFacts(const spec::ProductBundle& bundle);
  Status ReadGovernanceViewsLocked(const std::string& now, ViewSink& sink) const;
  Result<int64_t> RecordGovernanceEvaluationLocked(const GovernanceEvaluationRecord& evaluation);
  Status SetGovernancePoliciesLocked(const std::string& policies);

  /// Writes the words counted by IndexProductLocked / IndexGlossaryLocked into search_words.
  Status FlushSearchWordsLocked();
  /// The observability tables (Migrate): catalog_metrics.cc, catalog_slo.cc, catalog_alerts.cc.
  Status CreateMetricsTables();
  Status CreateSloTables();
  Status CreateAlertTables();
  // private: run metrics (catalog_metrics.cc)
  Status AddMetricTotalsLocked(const RunMetricRecord& m, const std::string& at);
  // END private run metrics
  // private: SLOs (catalog_slo.cc)
  /// Drops the objectives an evaluation at `now` did not cover, and day counts and changes
  /// older than 90 days (RecordSloEvaluation's transaction).
  Status PruneSloLocked(const std::string& now);
  // END private SLOs
  // private: alerts (catalog_alerts.cc)
  Status SetObservabilitySettingsLocked(const spec::MeshObservability& settings);
  // END private alerts

  mutable std::mutex mu_;
  std::unique_ptr<internal::SqliteDb> db_;
  Home home_;
  /// Per governance view with a `select`, the catalog tables it reads (Migrate finds them).
  std::map<std::string, std::set<std::string>> view_sources_;
  std::mutex observer_mu_;
  std::shared_ptr<RunObserver> observer_;  ///< GUARDED_BY(observer_mu_)
  /// Words of the documents indexed since the last flush: word -> documents (catalog_search.cc).
  std::map<std::string, int64_t> pending_words_;
  /// The search index's BM25 with the documents' lengths in memory (search_bm25.h).
  std::shared_ptr<internal::SearchBm25> search_bm25_;
};

/// The DuckDB type a column is stored as: physicalType when set, else from logicalType.
std::string EngineTypeFor(const spec::Property& property);
/// Major version of a semantic version ("2.1.0" -> 2); 0 when unparsable.
int MajorOf(const std::string& version);
/// Now, UTC, ISO 8601 with milliseconds.
std::string NowUtc();
/// A port major's lifecycle status on `today` (NowUtc() when empty): its status, made
/// deprecated by its end of support and retired by its end of life.
std::string ServedStatus(const OutputPortRecord& port, const std::string& today = "");

}  // namespace plexus::catalog
