// run and generate: building products.
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "plexus/pipeline/runner.h"
#include "tools/jaffle_generator.h"

namespace plexus::cli {
namespace {

struct RunArgs {
  std::vector<std::string> products;
  bool all = false;
};

Status Run(const Context& ctx, const RunArgs& args) {
  if (args.products.empty() && !args.all) {
    return InvalidArgument("name the products to run (domain.product), or --all");
  }
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  pipeline::PipelineRunner runner(home, catalog.get());
  PLEXUS_ASSIGN_OR_RETURN(auto reports, runner.Run(args.all ? std::vector<std::string>{} : args.products));
  if (reports.empty()) return FailedPrecondition("no product with a pipeline: apply a mesh first");
  int failed = 0;
  for (const auto& r : reports) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.2fs", r.seconds);
    if (r.status == "succeeded") {
      std::cout << "ok      " << r.product;
      for (const auto& [port, rows] : r.rows) std::cout << "  " << port << ": " << rows << " rows";
      std::cout << "  (" << seconds << ")\n";
      for (const auto& q : r.quality) {
        if (q.status != "failed") continue;
        std::cout << "        quality " << q.severity << ": " << QualityLine(q) << "\n";
      }
    } else {
      failed++;
      std::cout << (r.status == "skipped" ? "skipped " : "FAILED  ") << r.product << ": "
                << r.reason << "\n";
    }
  }
  if (failed > 0) {
    return FailedPrecondition(std::to_string(failed) + " of " + std::to_string(reports.size()) +
                              " products did not publish; their previous data is still served");
  }
  return Status::OK();
}

}  // namespace

void SetupRun(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<RunArgs>();
  sub.add_option("products", args->products, "Products to run (domain.product or id)");
  sub.add_flag("--all", args->all, "Run every product that has a pipeline");
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Run(ctx, *args); }; });
}

void SetupGenerate(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<tools::JaffleOptions>();
  sub.add_option("--customers", options->customers, "Customers to generate")->capture_default_str();
  sub.add_option("--orders", options->orders, "Orders to generate")->capture_default_str();
  sub.add_option("--seed", options->seed, "Random seed (same seed, same files)")->capture_default_str();
  sub.callback([&ctx, options] {
    ctx.action = [&ctx, options] {
      options->mesh_dir = ctx.global.mesh;
      PLEXUS_RETURN_IF_ERROR(tools::GenerateJaffleSeeds(*options));
      std::cout << "wrote " << options->customers << " customers and " << options->orders
                << " orders (seed " << options->seed << ") into " << ctx.global.mesh << "\n";
      return Status::OK();
    };
  });
}

}  // namespace plexus::cli
