// The business glossary over HTTP (issue 4).
#include "plexus/access/query_service.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {

void GlossaryRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  (void)routes;
  (void)catalog;
  (void)queries;
}

}  // namespace plexus::server::internal
