// alerts: placeholder until its owner fills it (issue 9).
#include "cli/cli.h"

namespace plexus::cli {

void SetupAlerts(CLI::App& app, Context& ctx) {
  app.callback([&ctx] { ctx.action = [] { return Internal("not yet"); }; });
}

}  // namespace plexus::cli
