// search: finding data products by words (issue 4).
#include "cli/cli.h"

namespace plexus::cli {

void SetupSearch(CLI::App& sub, Context& ctx) {
  (void)sub;
  (void)ctx;
}

}  // namespace plexus::cli
