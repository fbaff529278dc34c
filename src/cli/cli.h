// File: cli/cli.h
//
// What every subcommand shares: the global options, opening the home and the catalog, and
// how a Status becomes an exit code (0 ok, 1 a user error with a one-line reason, 2 bad usage,
// which CLI11 handles).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "plexus/access/access_admin.h"
#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/observe/progress.h"
#include "plexus/observe/service.h"
#include "plexus/server/http_client.h"
#include "plexus/spec/parse.h"

namespace plexus::cli {

struct GlobalOptions {
  std::string mesh = ".";  ///< the mesh folder (holding mesh.yaml)
  std::string home;        ///< default: <mesh>/.plexus
  /// --token, or PLEXUS_TOKEN: act as that token's principal. Set but empty is a bad token,
  /// never "no token": a script whose token variable came out empty must not run as admin.
  std::optional<std::string> token;
  /// --server, or PLEXUS_SERVER: the URL of a running plexus server to talk to.
  std::string server;
};

/// The chosen subcommand's work; set by the subcommand's callback, run by main.
using Action = std::function<Status()>;

struct Context {
  GlobalOptions global;
  Action action;

  std::string HomeDir() const { return global.home.empty() ? global.mesh + "/.plexus" : global.home; }
  Result<catalog::Home> OpenHome() const { return catalog::Home::Prepare(HomeDir()); }
  Result<std::unique_ptr<catalog::Catalog>> OpenCatalog() const;
  /// Who the command acts as: the principal of --token (or PLEXUS_TOKEN); without a token,
  /// the home's mesh admin `admin` (local peer authentication: whoever can open the home's
  /// files is its owner), created on first use.
  Result<access::Principal> SignIn(catalog::Catalog& catalog) const;
  /// The running server the command goes through, if any: --server (or PLEXUS_SERVER) with
  /// the token of --token (or PLEXUS_TOKEN); else the live server holding the home
  /// (<home>/server.json), as --token's principal or else the home's admin (the file's token,
  /// readable only by the home's owner). nullopt: work on the home's files.
  Result<std::optional<server::RemoteServer>> Server() const;
};

/// The home's mesh admin `admin`, created on first use (the local CLI without a token).
Result<access::Principal> LocalAdmin(catalog::Catalog& catalog);

/// Work done as the signed-in principal, through the access layer's administrative door.
using AdminWork = std::function<Status(access::AccessAdmin&, const access::Principal&)>;
/// Opens the catalog, signs in and runs `work` as the signed-in principal.
Status AsActor(const Context& ctx, const AdminWork& work);
/// Makes `sub` run make()'s work as the signed-in principal (bound once options are parsed).
void AdminLeaf(CLI::App* sub, Context& ctx, std::function<AdminWork()> make);

/// `text`, or "-" when empty (a column of a listing).
inline std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

/// The name of the mesh admin a home is created with.
inline constexpr const char* kLocalAdmin = "admin";

/// Prints the problems (one per line, file:line:column: field: message) to stderr.
void PrintProblems(const std::vector<spec::Diagnostic>& problems);

/// The observability of runs made by this process (plexus run, ingest and backfill without a
/// server): OpenLineage events and run alerts while it lives, delivered (for up to a few
/// seconds) as it ends. A server holding the home observes its own runs instead.
Result<std::unique_ptr<observe::ObserveService>> ObserveLocalRuns(const catalog::Home& home,
                                                                  catalog::Catalog* catalog);

/// Progress of a long command (common.cc): one line on stderr, redrawn in place with the
/// time elapsed since the last Begin, and cleared at the end. Nothing at all when stderr is
/// not a terminal, so pipes and tests stay clean. Thread safe: Show may be called from any
/// thread while a watcher thread redraws it (elapsed time, or Track's bar) every 150 ms.
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();  ///< clears the line
  bool active() const { return active_; }
  /// Starts a new step (`label`, e.g. "running sales.orders"), its clock from now.
  void Begin(const std::string& label);
  /// The step's details (e.g. "120000 events applied, 95000 events/s, 12 batches").
  void Show(const std::string& detail);
  /// Show for a CDC catch-up: "<events> events applied, <rate> events/s, <batches> batches".
  void ShowEvents(int64_t events, int64_t batches);
  void Clear();
  /// Where the figures come from (DuckDB's progress of the running statement, bytes read...):
  /// while set, the watcher asks it every 150 ms and draws a bar with the rate and an ETA
  /// (observe/progress.h) after the label; null: back to the details and the time elapsed.
  /// The source runs on the watcher thread and must not call this ProgressLine; an elapsed_s
  /// of 0 is filled with the time since Begin.
  using FiguresSource = std::function<observe::ProgressFigures()>;
  void Track(FiguresSource source);

 private:
  struct State;
  bool active_ = false;
  std::unique_ptr<State> state_;
};

/// One subcommand: its name, its one-line summary, and how it declares its options.
struct Command {
  const char* name;
  const char* summary;
  void (*setup)(CLI::App& sub, Context& ctx);
};

void SetupInit(CLI::App& sub, Context& ctx);
void SetupValidate(CLI::App& sub, Context& ctx);
void SetupApply(CLI::App& sub, Context& ctx);
void SetupRun(CLI::App& sub, Context& ctx);
void SetupRuns(CLI::App& sub, Context& ctx);      ///< cmd_run.cc: the run history
void SetupPipeline(CLI::App& sub, Context& ctx);  ///< cmd_run.cc: status, pause, resume
void SetupIngest(CLI::App& sub, Context& ctx);  ///< cmd_ingest.cc: CDC events from a file
// Observability (issue 9): cmd_status.cc, cmd_metrics.cc, cmd_slo.cc, cmd_alerts.cc.
void SetupStatus(CLI::App& app, Context& ctx);
void SetupMetrics(CLI::App& app, Context& ctx);
void SetupSlo(CLI::App& app, Context& ctx);
void SetupAlerts(CLI::App& app, Context& ctx);
/// plexus show's lines of issue 9 (cmd_slo.cc): the product's trust score with its parts, each
/// objective of the ports it shows with its status, and each quality rule's trend.
Status PrintTrustAndSlos(catalog::Catalog& catalog, const catalog::ProductRecord& product);
void SetupBackfill(CLI::App& sub, Context& ctx);  ///< cmd_run.cc: re-read a CDC input
void SetupProducts(CLI::App& sub, Context& ctx);
void SetupShow(CLI::App& sub, Context& ctx);
void SetupLineage(CLI::App& sub, Context& ctx);
void SetupQuery(CLI::App& sub, Context& ctx);
void SetupServe(CLI::App& sub, Context& ctx);
void SetupGenerate(CLI::App& sub, Context& ctx);
void SetupDiff(CLI::App& sub, Context& ctx);  ///< cmd_diff.cc
// cmd_access.cc: principals, groups, tokens, access requests and grants, the audit trail.
void SetupPrincipal(CLI::App& sub, Context& ctx);
void SetupGroup(CLI::App& sub, Context& ctx);
void SetupToken(CLI::App& sub, Context& ctx);
void SetupAccess(CLI::App& sub, Context& ctx);
void SetupAudit(CLI::App& sub, Context& ctx);

/// The version gate of apply (cmd_diff.cc): refuses, printing each breaking change and the
/// downstream columns that read it, when a port cannot move to its new contract; prints the
/// warnings otherwise. Returns the mesh's column lineage, for the catalog.
Result<std::vector<catalog::ColumnLineageRecord>> GateApply(const spec::Mesh& mesh,
                                                            const catalog::Catalog& catalog);
void SetupFmt(CLI::App& sub, Context& ctx);       ///< cmd_contract.cc
void SetupContract(CLI::App& sub, Context& ctx);  ///< cmd_contract.cc: export, infer
void SetupTest(CLI::App& sub, Context& ctx);

/// The products the signed-in principal may see, hidden ports left out (cmd_products.cc).
Result<std::vector<catalog::ProductRecord>> VisibleProducts(const Context& ctx,
                                                            catalog::Catalog& catalog);
/// One product, if the signed-in principal may see it (an unknown and a hidden one read alike).
Result<catalog::ProductRecord> VisibleProduct(const Context& ctx, catalog::Catalog& catalog,
                                              const std::string& ref);
void SetupSearch(CLI::App& sub, Context& ctx);    ///< cmd_search.cc
void SetupGlossary(CLI::App& sub, Context& ctx);  ///< cmd_glossary.cc
void SetupGovernance(CLI::App& sub, Context& ctx);  ///< cmd_governance.cc

/// One quality result as a line: status, severity, measured, threshold, rule (cmd_test.cc);
/// the message and failing rows, when any, on indented lines below.
std::string QualityLine(const catalog::QualityResultRecord& result);

}  // namespace plexus::cli
