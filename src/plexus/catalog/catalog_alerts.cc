// Alerts and the observability settings (issue 9).
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

Status Catalog::CreateAlertTables() { return Status::OK(); }

}  // namespace plexus::catalog
