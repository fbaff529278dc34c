// test: a product's ODCS quality rules checked on demand against its published
// tables.
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "plexus/pipeline/quality_check.h"

namespace plexus::cli {

namespace {

std::string Measured(const catalog::QualityResultRecord &r) {
  if (!r.has_measured)
    return "-";
  char buf[64];
  if (r.measured == std::floor(r.measured) && std::fabs(r.measured) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", r.measured);
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", r.measured);
  }
  std::string out = buf;
  if (r.unit == "percent")
    return out + "%";
  if (r.unit == "rows")
    return out + " rows";
  return out;
}

} // namespace

std::string QualityLine(const catalog::QualityResultRecord &r) {
  std::ostringstream out;
  std::string what = r.check + (r.column.empty() ? "" : " on " + r.column);
  out << std::left << std::setw(14) << r.status << std::setw(9) << r.severity
      << std::setw(14) << Measured(r) << std::setw(28)
      << (r.threshold.empty() ? "-" : r.threshold) << r.rule;
  if (r.rule != what)
    out << " (" << what << ")";
  if (!r.message.empty())
    out << "\n      " << r.message;
  if (r.status == "failed" && r.samples != "[]" && !r.samples.empty()) {
    out << "\n      failing rows: " << r.samples;
  }
  return out.str();
}

namespace {

Status Test(const Context &ctx, const std::string &ref) {
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, ctx.OpenHome());
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(auto product, catalog->GetProduct(ref));
  PLEXUS_ASSIGN_OR_RETURN(
      auto results, pipeline::TestPublishedQuality(home, catalog.get(), ref));
  std::cout << product.QualifiedName() << ": " << results.size()
            << " quality rule(s) checked against the published data\n";
  std::string port;
  int passed = 0, failed = 0, not_evaluated = 0;
  for (const auto &r : results) {
    std::string name = product.QualifiedName() + "." + r.port;
    if (name != port) {
      port = name;
      std::cout << "  " << port << "\n    " << std::left << std::setw(14)
                << "STATUS" << std::setw(9) << "SEVERITY" << std::setw(14)
                << "MEASURED" << std::setw(28) << "THRESHOLD"
                << "RULE\n";
    }
    std::cout << "    " << QualityLine(r) << "\n";
    (r.status == "passed"   ? passed
     : r.status == "failed" ? failed
                            : not_evaluated)++;
  }
  std::cout << passed << " passed, " << failed << " failed, " << not_evaluated
            << " not evaluated\n";
  Status verdict = pipeline::QualityVerdict(results);
  if (!verdict.ok()) {
    return FailedPrecondition(
        product.QualifiedName() +
        " fails its contract's quality rules: " + verdict.message());
  }
  return Status::OK();
}

} // namespace

void SetupTest(CLI::App &sub, Context &ctx) {
  auto ref = std::make_shared<std::string>();
  sub.add_option("product", *ref, "domain.product or id")->required();
  sub.callback(
      [&ctx, ref] { ctx.action = [&ctx, ref] { return Test(ctx, *ref); }; });
}

} // namespace plexus::cli
