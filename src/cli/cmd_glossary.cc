// glossary: the mesh's business vocabulary (issue 4).
#include "cli/cli.h"

namespace plexus::cli {

void SetupGlossary(CLI::App& sub, Context& ctx) {
  (void)sub;
  (void)ctx;
}

}  // namespace plexus::cli
