// query and serve: the consumers' doors.
#include <iostream>

#include "cli/cli.h"
#include "plexus/access/query_service.h"
#include "plexus/engine/result_writer.h"
#include "plexus/server/http_server.h"
#include "plexus/server/serve.h"

namespace plexus::cli {
namespace {

struct QueryArgs {
  std::string sql;
  std::string format = "table";
  std::string as;  ///< preview another principal's view (admins, owners)
};

Status Query(const Context& ctx, const QueryArgs& args) {
  PLEXUS_ASSIGN_OR_RETURN(engine::ResultFormat format, engine::ParseResultFormat(args.format));
  PLEXUS_ASSIGN_OR_RETURN(auto remote, ctx.Server());
  if (remote.has_value()) {  // a running server holds the home's files: ask it
    std::ios::sync_with_stdio(false);
    return server::RemoteQuery(*remote, args.sql, args.format, args.as, std::cout, std::cerr);
  }
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  access::QueryRequest request{&actor, "cli", "", {}};
  access::Principal previewed;
  if (!args.as.empty()) {
    access::AccessAdmin admin(catalog.get());
    PLEXUS_ASSIGN_OR_RETURN(previewed, admin.Preview(actor, args.as, &request.only_domains));
    request.principal = &previewed;
    request.previewed_by = actor.name;
  }
  PLEXUS_ASSIGN_OR_RETURN(auto service, access::QueryService::Open(home, catalog.get()));
  PLEXUS_ASSIGN_OR_RETURN(auto cursor, service->Query(request, args.sql));
  for (const auto& warning : cursor->query.warnings) {
    std::cerr << "plexus: warning: " << warning << "\n";
  }
  std::ios::sync_with_stdio(false);
  auto rows = engine::WriteResult(*cursor->result, format, std::cout);
  cursor->Finish(rows.ok() ? *rows : 0, rows.status());
  return rows.status();
}

}  // namespace

void SetupQuery(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<QueryArgs>();
  sub.add_option("sql", args->sql, "One SELECT over domain.product.port names")->required();
  sub.add_option("--format,-f", args->format,
                 "table, csv, json, ndjson or arrow (an Arrow IPC stream: binary, redirect it)")
      ->capture_default_str();
  sub.add_option("--as", args->as,
                 "Preview what this principal sees (admins; owners over their own domains)");
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Query(ctx, *args); }; });
}

void SetupServe(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<server::ServeOptions>();
  sub.add_option("--host", options->http.host, "Address of the HTTP API")->capture_default_str();
  sub.add_option("--port", options->http.port, "HTTP port (0: any free port)")
      ->capture_default_str();
  sub.add_option("--pg-host", options->pg.host, "Address of the PostgreSQL wire protocol")
      ->capture_default_str();
  auto pg_port = sub.add_option("--pg-port", options->pg.port,
                                "PostgreSQL wire protocol port (0: any free port)")
                     ->capture_default_str();
  sub.add_option("--tls-cert", options->pg.tls_cert,
                 "PEM certificate for the wire protocol (default: a self-signed one made in "
                 "<home>/tls/)");
  sub.add_option("--tls-key", options->pg.tls_key, "PEM key of --tls-cert");
  sub.add_option("--max-connections", options->pg.max_connections,
                 "Wire protocol connections at once; the next ones are refused (53300)")
      ->capture_default_str();
  auto statement_timeout = std::make_shared<double>(0);
  auto idle_timeout = std::make_shared<double>(0);
  sub.add_option("--statement-timeout", *statement_timeout,
                 "Seconds a wire statement may run before it is cancelled (0: no limit)");
  sub.add_option("--idle-timeout", *idle_timeout,
                 "Seconds an idle wire session is kept before it is closed (0: no limit)");
  sub.add_flag("--allow-cleartext-password", options->pg.allow_cleartext_password,
               "Ask wire clients for their password in clear inside TLS (default: SCRAM)");
  sub.add_flag("--no-pg", [options](int64_t) { options->pg_enabled = false; },
               "Serve HTTP only");
  sub.add_option("--slo-interval", options->slo_interval_s,
                 "Seconds between SLO evaluations (default: mesh.yaml observability.sloInterval, "
                 "else 60)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--governance-interval", options->governance_interval_s,
                 "Seconds between evaluations of the mesh's policies (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--max-runs", options->max_runs,
                 "Scheduled pipeline runs at once (runs asked for by hand and continuous CDC "
                 "streams are not held back)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--log-file", options->log_file,
                 "Append the JSON log lines (requests, connections, runs) to this file instead "
                 "of stderr");
  sub.add_option("--log-level", options->log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  sub.callback([&ctx, options, statement_timeout, idle_timeout, pg_port] {
    options->mesh_dir = ctx.global.mesh;
    options->pg_port_required = pg_port->count() > 0;
    options->pg.statement_timeout_ms = static_cast<int64_t>(*statement_timeout * 1000);
    options->pg.idle_timeout_ms = static_cast<int64_t>(*idle_timeout * 1000);
    ctx.action = [&ctx, options] {
      PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
      return server::Serve(home, *options);
    };
  });
}

}  // namespace plexus::cli
