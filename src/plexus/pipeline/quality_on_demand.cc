// plexus test: a product's quality rules checked against what it publishes now,
// without a run.
#include <filesystem>

#include "plexus/pipeline/quality_check.h"

namespace plexus::pipeline {

Result<std::vector<catalog::QualityResultRecord>>
TestPublishedQuality(const catalog::Home &home, catalog::Catalog *catalog,
                     const std::string &product_ref) {
  PLEXUS_ASSIGN_OR_RETURN(catalog::ProductRecord product,
                          catalog->GetProduct(product_ref));
  std::vector<const catalog::OutputPortRecord *> published;
  for (const auto &port : product.outputs) {
    if (port.rows >= 0)
      published.push_back(&port);
  }
  std::string data = home.DomainDataPath(product.domain);
  if (published.empty() || !std::filesystem::exists(data)) {
    return FailedPrecondition(
        product.QualifiedName() +
        " has no published data yet: run it first (plexus run " +
        product.QualifiedName() + ")");
  }
  engine::DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {home.DataDir(), home.TempDir()};
  options.temp_directory = home.TempDir();
  PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open(options));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
  std::string attach = catalog::Home::AttachName(product.domain);
  Status attached =
      conn->Execute("ATTACH " + engine::QuoteLiteral(data) + " AS " +
                    engine::QuoteIdentifier(attach) + " (READ_ONLY)");
  if (!attached.ok()) {
    return FailedPrecondition("cannot read the data of domain " +
                              product.domain + ": " + attached.message());
  }
  PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  access::SqlGuard guard;
  std::vector<catalog::QualityResultRecord> results;
  for (const auto *port : published) {
    PLEXUS_ASSIGN_OR_RETURN(auto checked,
                            EvaluatePortQuality(*conn, guard, *catalog, *port,
                                                PublishedTable(*port)));
    results.insert(results.end(), checked.begin(), checked.end());
  }
  PLEXUS_RETURN_IF_ERROR(catalog->RecordQualityResults(results));
  return results;
}

} // namespace plexus::pipeline
