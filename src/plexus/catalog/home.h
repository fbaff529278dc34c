// File: plexus/catalog/home.h
//
// The platform's home folder: the catalog and one DuckDB data file per domain.
//
//   <home>/catalog.db             SQLite catalog (WAL)
//   <home>/data/<domain>.duckdb   the domain's published tables (and its pipeline staging)
//   <home>/tmp/                   DuckDB spill space
#pragma once

#include <string>

#include "plexus/common/status.h"

namespace plexus::catalog {

class Home {
 public:
  /// Creates the folders if missing; `root` becomes absolute.
  static Result<Home> Prepare(const std::string& root);

  const std::string& root() const { return root_; }
  std::string CatalogPath() const { return root_ + "/catalog.db"; }
  std::string DataDir() const { return root_ + "/data"; }
  std::string TempDir() const { return root_ + "/tmp"; }
  std::string DomainDataPath(const std::string& domain) const {
    return DataDir() + "/" + domain + ".duckdb";
  }
  /// The name a domain's data file is attached under in an engine: plx_<domain>.
  static std::string AttachName(const std::string& domain) { return "plx_" + domain; }

 private:
  explicit Home(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace plexus::catalog
