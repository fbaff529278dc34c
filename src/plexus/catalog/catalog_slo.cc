// SLO status and history, trust scores, quality history (issue 9).
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

Status Catalog::CreateSloTables() { return Status::OK(); }

}  // namespace plexus::catalog
