// Observability routes (issue 9): placeholder until its owner fills it.
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {

void SloRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {}

}  // namespace plexus::server::internal
