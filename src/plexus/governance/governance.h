// File: plexus/governance/governance.h
//
// Federated computational governance (docs/governance.md): policies are SQL over documented,
// read-only views of the catalog that return the violations, one row each (entity, message).
// The mesh's policies are the built-in pack, the global policy files and the domains' own,
// tuned by mesh.yaml and by the domains within the ranges the mesh allows; exemptions are
// justified, approved and expire by themselves.
//
//   PLEXUS_ASSIGN_OR_RETURN(PolicySet set, ResolvePolicies(mesh, &problems));
//   PLEXUS_ASSIGN_OR_RETURN(auto evaluator, Evaluator::FromCatalog(catalog, now));
//   PLEXUS_RETURN_IF_ERROR(evaluator->Compile(set));      // SQL checked through the guard
//   PLEXUS_ASSIGN_OR_RETURN(Evaluation e, evaluator->Evaluate(set, now));
//
// The views are loaded into an in-memory, hardened DuckDB; policy SQL passes the access layer's
// SqlGuard, whose resolver knows the views' names only. Thread safety: an Evaluator is used by
// one thread at a time; PolicySet and Evaluation are values.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"
#include "plexus/spec/parse.h"

namespace plexus::governance {

/// The mesh's policies as they apply: every policy (the mesh's settings applied), the domains'
/// parameters, the exemptions.
struct PolicySet {
  std::vector<spec::Policy> policies;  ///< in id order; disabled ones kept (enabled = false)
  /// domain -> policy id -> parameter -> value, each inside the policy's range.
  std::map<std::string, std::map<std::string, std::map<std::string, spec::PolicyValue>>>
      domain_parameters;
  std::vector<spec::Exemption> exemptions;

  const spec::Policy* Find(const std::string& id) const;
  nlohmann::json ToJson() const;
  static Result<PolicySet> FromJson(const nlohmann::json& json);
};

/// The built-in pack (builtin_pack.cc), on by default, each policy switchable in mesh.yaml.
const std::vector<spec::Policy>& BuiltinPolicies();

/// The policies of a loaded mesh: the built-in pack (unless governance.builtin is false), the
/// global files' and the domains'. Problems, each naming file, line and field: a setting for
/// an unknown policy; a severity, switch or parameter a setting may not change; a domain
/// parameter outside the range the mesh allows (the range is in the message) or of a policy
/// that allows none; a domain policy with a global policy's id; an exemption of an unknown
/// policy. The SQL is checked by Evaluator::Compile.
Result<PolicySet> ResolvePolicies(const spec::Mesh& mesh, std::vector<spec::Diagnostic>* problems);

/// ResolvePolicies, then every policy's SQL checked against the views (Evaluator::Compile on
/// empty views): a policy whose SQL does not parse, reads outside the views or returns the
/// wrong shape is a problem at its `sql`, naming the policy and the reason.
Result<PolicySet> LoadPolicies(const spec::Mesh& mesh, std::vector<spec::Diagnostic>* problems);

/// One violation found by an evaluation.
struct Violation {
  std::string policy;
  std::string severity;
  std::string domain;   ///< the entity's first part ("" when it names no domain)
  std::string product;  ///< domain.product when the entity is in one, else ""
  std::string entity;
  std::string message;
  /// The exemption that covers it ("justification (approved by X)"), empty when none.
  std::string exemption;
  std::string exemption_expires;
  bool quarantine = false;  ///< its policy quarantines and no exemption covers it
};

/// How one policy or one domain stands: a score from 0 to 100 (100: no product fails), and the
/// violations counted, exempted ones apart.
struct Standing {
  double score = 100;
  int64_t block = 0;
  int64_t warn = 0;
  int64_t info = 0;
  int64_t exempted = 0;
  int64_t products = 0;  ///< the products it is measured over
  int64_t failing = 0;   ///< of which with a violation that counts
};

/// One evaluation of the mesh's policies.
struct Evaluation {
  std::string at;
  std::vector<Violation> violations;  ///< exempted ones included, by policy then entity
  std::map<std::string, Standing> policies;  ///< by policy id (enabled policies)
  std::map<std::string, Standing> domains;   ///< by domain
  Standing mesh;
  double load_ms = 0;  ///< loading the views
  double run_ms = 0;   ///< running the policies
  /// Where the views were: "warm" (the home's, kept by this process and brought up to date),
  /// or "memory" (loaded whole; with why when warm views were asked for but could not be used).
  std::string store;
  /// The views exported or computed for it, in name order (warm: those that changed).
  std::vector<std::string> refreshed;

  /// Violations of severity block that no exemption covers.
  int64_t Blocking() const { return mesh.block; }
  /// The summary kept in the catalog's history (scores and counts, no violations).
  nlohmann::json Summary() const;
  catalog::GovernanceEvaluationRecord ToRecord(const std::string& trigger,
                                               const std::string& actor) const;
};

/// Loads the views into `conn`'s database, one table each: the rows `read` exports (into the
/// sink it is given), then the views computed in DuckDB (in parallel over `conn` and
/// `helpers`, connections to the same database). Only the views in `only` when it is not empty
/// (the others are not exported, and no table is made for them). What Evaluator does; the
/// benchmark's baseline uses it too.
Status LoadViews(const std::function<Status(catalog::ViewSink&)>& read, engine::Connection& conn,
                 const std::set<std::string>& only = {},
                 const std::vector<engine::Connection*>& helpers = {});

/// Where an Evaluator keeps the views.
enum class ViewStore {
  /// A new in-memory database, every view loaded (a one-shot command).
  kMemory,
  /// The home's warm views: an in-memory database this process keeps between evaluations
  /// (plexus serve), holding each view's table and the catalog version it was made from; an
  /// evaluation re-exports only the views whose catalog tables changed since (and those that
  /// read the evaluation's time). While another evaluation of the process holds them, or after
  /// any error while refreshing them, an evaluation falls back to kMemory.
  kWarm,
};

/// Runs policies over the catalog's views, held in a hardened DuckDB (ViewStore).
class Evaluator {
 public:
  ~Evaluator();
  /// The catalog's views at `now` (ISO 8601). With `set`, only the views its enabled policies
  /// read (and those they are computed from): it can then evaluate those policies only, and
  /// refuses others that read a view it did not load. kWarm holds the home's warm views until
  /// destroyed.
  static Result<std::unique_ptr<Evaluator>> FromCatalog(const catalog::Catalog& catalog,
                                                        const std::string& now,
                                                        const PolicySet* set = nullptr,
                                                        ViewStore store = ViewStore::kMemory);
  /// The views as an apply being gated would leave them (`set` as in FromCatalog), in memory:
  /// the apply's transaction may still roll back.
  static Result<std::unique_ptr<Evaluator>> FromGate(catalog::ApplyGateContext& context,
                                                     const std::string& now,
                                                     const PolicySet* set = nullptr);
  /// Drops the warm views this process keeps for `catalog`'s home (the next kWarm evaluation
  /// loads every view); one an evaluation holds is kept by it.
  static void DropWarm(const catalog::Catalog& catalog);
  /// The views, empty: enough to check policies' SQL (plexus validate).
  static Result<std::unique_ptr<Evaluator>> Empty();

  /// Checks every policy's SQL: it parses, is one SELECT, reads the views only, calls allowed
  /// functions only, binds its parameters, and returns (entity VARCHAR, message VARCHAR). The
  /// first problem fails, as "policy ID (FILE:LINE): reason".
  Status Compile(const PolicySet& set);
  /// Compile for one policy of `set`; the reason alone, without the policy's name.
  Status Check(const PolicySet& set, const spec::Policy& policy);
  /// Runs the enabled policies (compiling those not compiled yet) at `now`, several at once
  /// (one DuckDB connection per core); the result does not depend on their order.
  Result<Evaluation> Evaluate(const PolicySet& set, const std::string& now);

  /// The view names policy SQL may read, as the resolver knows them.
  static std::vector<std::string> ViewNames();

  struct State;  ///< evaluator_internal.h

 private:
  /// The views `read` exports (those `set` reads, when given) in the warm views of the home at
  /// `warm` (its root), or, when empty or they cannot be used, in a new in-memory database.
  static Result<std::unique_ptr<Evaluator>> Load(
      const std::function<Status(catalog::ViewSink&)>& read, const PolicySet* set,
      const std::string& warm = "");
  explicit Evaluator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// The apply gate: evaluates the mesh being applied, keeps the policy set and the evaluation
/// with the apply, and refuses (kFailedPrecondition, nothing applied) when a product the apply
/// creates or updates has a block violation. `lines` receives one line per violation that is
/// not info ("refused: " for the blocking ones, "warning: " for the others); `out` (may be
/// null) the evaluation.
catalog::ApplyGate MakeApplyGate(const PolicySet& set, const std::string& actor,
                                 std::vector<std::string>* lines, Evaluation* out = nullptr);

/// Evaluates the applied policies (Catalog::GovernancePolicies) now and records the evaluation
/// (trigger: schedule, report...; empty: not recorded). `set` (may be null) receives the
/// policies. kNotFound when nothing was ever applied with governance. `store`: kWarm in a
/// process that evaluates again and again (plexus serve).
Result<Evaluation> EvaluateApplied(catalog::Catalog& catalog, const std::string& trigger,
                                   const std::string& actor, PolicySet* set = nullptr,
                                   ViewStore store = ViewStore::kMemory);

/// The report of an evaluation with the trend of the evaluations before it (newest first):
/// JSON (scores per domain and per policy, violations), a text table and an HTML page.
nlohmann::json ReportJson(const Evaluation& evaluation, const PolicySet& set,
                          const std::vector<catalog::GovernanceEvaluationRecord>& history);
std::string ReportText(const nlohmann::json& report);
/// The applied policies evaluated now (recorded under `trigger` unless empty) as the report
/// `principal` may see, with the trend of the 30 evaluations before: what `plexus governance
/// report` prints and GET /api/v1/governance/report answers.
Result<nlohmann::json> EvaluateReport(catalog::Catalog& catalog, const std::string& trigger,
                                      const access::Principal& principal,
                                      ViewStore store = ViewStore::kMemory);
/// Leaves in the report only the violations `principal` may see: all for mesh admins, those of
/// the domains it belongs to for the others (scores stay: they name no product).
void RestrictReport(nlohmann::json& report, const access::Principal& principal);
std::string ReportHtml(const nlohmann::json& report);

/// "block", "warn", "info" -> 3, 2, 1: how much a severity weighs in a score.
int SeverityWeight(const std::string& severity);

}  // namespace plexus::governance
