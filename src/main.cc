// plexus: the data mesh platform in one binary. This file is the table of subcommands;
// each lives in src/cli/.
#include <iostream>

#include "cli/cli.h"

namespace {

using plexus::cli::Command;

constexpr Command kCommands[] = {
    {"init", "Create a new mesh folder with one example domain and product",
     plexus::cli::SetupInit},
    {"validate", "Check a mesh folder or single .odps.yaml/.odcs.yaml/pipeline.yaml files",
     plexus::cli::SetupValidate},
    {"apply", "Validate the mesh and register its domains, products and contracts",
     plexus::cli::SetupApply},
    {"run", "Run products' pipelines in dependency order and publish their ports",
     plexus::cli::SetupRun},
    {"runs", "List pipeline runs, newest first: why each ran, its attempt, status and rows",
     plexus::cli::SetupRuns},
    {"pipeline", "Show, pause or resume a product's pipeline (schedules and CDC streams)",
     plexus::cli::SetupPipeline},
    {"ingest", "Apply Debezium change events from an NDJSON file to a product's http CDC input",
     plexus::cli::SetupIngest},
    {"backfill", "Re-read a product's files or kafka CDC input from a position, never rolling "
     "data back", plexus::cli::SetupBackfill},
    {"products", "List the registered data products", plexus::cli::SetupProducts},
    {"show", "Show one data product: ports, columns, lineage, runs", plexus::cli::SetupShow},
    {"test", "Check a product's published data against its contracts' quality rules",
     plexus::cli::SetupTest},
    {"search", "Find data products by words: ranked, with facets and highlights",
     plexus::cli::SetupSearch},
    {"lineage", "Show what a product reads and what reads it, by product or by column",
     plexus::cli::SetupLineage},
    {"glossary", "List the mesh's business terms, or show one with the columns it names",
     plexus::cli::SetupGlossary},
    {"diff", "Show how the mesh's contracts differ from the applied ones, and who it breaks",
     plexus::cli::SetupDiff},
    {"governance", "Check the mesh against its policies; report compliance per domain and policy",
     plexus::cli::SetupGovernance},
    {"query", "Run a SQL query across data products", plexus::cli::SetupQuery},
    {"serve", "Serve the HTTP API and the PostgreSQL wire protocol on localhost", plexus::cli::SetupServe},
    {"generate", "Write the example mesh's seed files at any size", plexus::cli::SetupGenerate},
    {"fmt", "Write ODCS/ODPS/Plexus YAML files in canonical form, losing no field",
     plexus::cli::SetupFmt},
    {"contract", "Export a contract as DDL or JSON Schema; infer one from a data file",
     plexus::cli::SetupContract},
    {"access", "Request, approve, deny, grant and revoke access to data products",
     plexus::cli::SetupAccess},
    {"principal", "Create and manage users and service principals (admins)",
     plexus::cli::SetupPrincipal},
    {"group", "Add principals to groups and remove them (admins)", plexus::cli::SetupGroup},
    {"token", "Issue, list and revoke API tokens", plexus::cli::SetupToken},
    {"audit", "Search the audit trail, or verify that nobody edited it",
     plexus::cli::SetupAudit},
    {"status", "The mesh's health at a glance: runs, freshness, quality, trust, alerts",
     plexus::cli::SetupStatus},
    {"metrics", "Show a product's pipeline metrics per port and processor, and their history",
     plexus::cli::SetupMetrics},
    {"slo", "Show products' service-level objectives (met, at risk, breached) and trust scores",
     plexus::cli::SetupSlo},
    {"alerts", "List alerts: SLO breaches, quality and pipeline failures, schema drift",
     plexus::cli::SetupAlerts},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Plexus: a data mesh platform. Domains publish data products described in "
               "ODPS/ODCS; consumers find and query them in SQL.",
               "plexus"};
  app.require_subcommand(1);
  plexus::cli::Context ctx;
  app.add_option("--mesh", ctx.global.mesh, "Mesh folder (holding mesh.yaml)")
      ->capture_default_str();
  app.add_option("--home", ctx.global.home, "Platform home (catalog and data); default <mesh>/.plexus");
  app.add_option("--token", ctx.global.token,
                 "Act as this API token's principal (default: $PLEXUS_TOKEN, else the home's "
                 "admin)");
  app.add_option("--server", ctx.global.server,
                 "Talk to this running plexus server (default: $PLEXUS_SERVER, else the server "
                 "holding the home, if one runs)");
  for (const Command& command : kCommands) {
    command.setup(*app.add_subcommand(command.name, command.summary), ctx);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the usage error
    return code == 0 ? 0 : 2;
  }
  if (!ctx.action) return 2;
  plexus::Status status;
  try {
    status = ctx.action();
  } catch (const std::exception& e) {
    status = plexus::Internal(e.what());
  }
  if (!status.ok()) {
    std::cerr << "plexus: error: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
