// query and serve: the consumers' doors.
#include <iostream>

#include "cli/cli.h"
#include "plexus/access/query_service.h"
#include "plexus/engine/result_writer.h"
#include "plexus/server/http_server.h"

namespace plexus::cli {
namespace {

struct QueryArgs {
  std::string sql;
  std::string format = "table";
  std::string as;  ///< preview another principal's view (admins, owners)
};

Status Query(const Context& ctx, const QueryArgs& args) {
  PLEXUS_ASSIGN_OR_RETURN(engine::ResultFormat format, engine::ParseResultFormat(args.format));
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
  sub.add_option("--format,-f", args->format, "table, csv, json or ndjson")->capture_default_str();
  sub.add_option("--as", args->as,
                 "Preview what this principal sees (admins; owners over their own domains)");
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Query(ctx, *args); }; });
}

void SetupServe(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<server::HttpOptions>();
  sub.add_option("--host", options->host, "Address to listen on")->capture_default_str();
  sub.add_option("--port", options->port, "HTTP port")->capture_default_str();
  sub.callback([&ctx, options] {
    ctx.action = [&ctx, options] {
      PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
      return server::Serve(home, *options);
    };
  });
}

}  // namespace plexus::cli
