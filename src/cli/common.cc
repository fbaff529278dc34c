#include <iostream>

#include "cli/cli.h"

namespace plexus::cli {

Result<std::unique_ptr<catalog::Catalog>> Context::OpenCatalog() const {
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, OpenHome());
  return catalog::Catalog::Open(home);
}

void PrintProblems(const std::vector<spec::Diagnostic>& problems) {
  for (const auto& problem : problems) std::cerr << problem.ToString() << "\n";
}

}  // namespace plexus::cli
