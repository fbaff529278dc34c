// search: finding data products by words (issue 4), ranked, with facets and highlights.
#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "plexus/discovery/search.h"
#include "plexus/discovery/search_json.h"
#include "plexus/discovery/usage.h"

namespace plexus::cli {
namespace {

struct SearchArgs {
  std::vector<std::string> words;
  std::vector<std::string> filters[std::size(discovery::kFacets)];
  size_t limit = 10;
  size_t offset = 0;
  std::string format = "table";
};

std::string Highlighted(const std::string& text, bool terminal) {
  return terminal ? discovery::RenderHighlight(text, "\033[1m", "\033[0m", false)
                  : discovery::RenderHighlight(text, "[", "]", false);
}

void PrintTable(const discovery::SearchResponse& found, const SearchArgs& args,
                const std::string& text) {
  bool terminal = isatty(STDOUT_FILENO) != 0;
  for (const auto& c : found.corrections) std::cout << "searched instead: " << c << "\n";
  for (const auto& w : found.ignored) {
    std::cout << "no product mentions \"" << w << "\" or a word near it: left out\n";
  }
  if (found.total == 0) {
    std::cout << "no data product matches \"" << text << "\"\n";
  } else {
    size_t last = args.offset + found.results.size();
    std::cout << found.total << (found.total == 1 ? " product matches" : " products match")
              << " \"" << text << "\"";
    if (found.results.size() < static_cast<size_t>(found.total)) {
      std::cout << " (showing " << args.offset + 1 << "-" << last << ")";
    }
    std::cout << "\n";
  }
  size_t rank = args.offset;
  for (const auto& r : found.results) {
    std::ostringstream score;
    score << std::fixed << std::setprecision(2) << r.score;
    std::cout << "\n" << ++rank << ". " << r.product << "  (" << r.status << ", trust "
              << static_cast<int>(r.trust + 0.5) << ", " << r.queries_30d << " queries by "
              << r.readers_30d << (r.readers_30d == 1 ? " reader" : " readers")
              << " in 30 days)  score " << score.str() << "\n";
    if (!r.ports.empty()) {
      std::cout << "   ports: ";
      for (size_t i = 0; i < r.ports.size(); i++) {
        std::cout << (i ? ", " : "") << r.product << "." << r.ports[i];
      }
      std::cout << "\n";
    }
    for (const auto& [field, highlight] : r.highlights) {
      std::cout << "   " << field << ": " << Highlighted(highlight, terminal) << "\n";
    }
  }
  if (!found.terms.empty()) {
    std::cout << "\nglossary terms (plexus glossary TERM):\n";
    for (const auto& t : found.terms) {
      std::cout << "   " << t.id << "  " << Highlighted(t.name, terminal) << ": "
                << Highlighted(t.definition, terminal) << "\n";
    }
  }
  if (found.total > 0) {
    std::cout << "\nrefine with:\n";
    for (const char* facet : discovery::kFacets) {
      auto it = found.facets.find(facet);
      if (it == found.facets.end() || it->second.empty()) continue;
      std::cout << "   --" << facet << " ";
      size_t shown = 0;
      for (const auto& v : it->second) {
        if (shown++ == 8) {
          std::cout << " ...";
          break;
        }
        std::cout << (shown > 1 ? ", " : "") << v.value << " (" << v.count << ")";
      }
      std::cout << "\n";
    }
  }
}

Status Search(const Context& ctx, const SearchArgs& args) {
  std::string text;
  for (const auto& w : args.words) text += (text.empty() ? "" : " ") + w;
  if (args.format != "table" && args.format != "json") {
    return InvalidArgument("--format must be table or json, not " + args.format);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(*catalog));
  // Usage is counted from the audit trail up to now, so ranking sees the latest reads.
  PLEXUS_ASSIGN_OR_RETURN(auto counter, discovery::UsageCounter::Open(catalog.get()));
  PLEXUS_RETURN_IF_ERROR(counter->Count().status());
  discovery::SearchOptions options;
  options.text = text;
  options.limit = args.limit;
  options.offset = args.offset;
  for (size_t f = 0; f < std::size(discovery::kFacets); f++) {
    if (!args.filters[f].empty()) options.filters[discovery::kFacets[f]] = args.filters[f];
  }
  discovery::SearchIndex index(catalog.get());
  PLEXUS_ASSIGN_OR_RETURN(discovery::SearchResponse found, index.Search(principal, options));
  if (args.format == "json") {
    nlohmann::json body = discovery::SearchResponseJson(found);
    body["query"] = text;
    body["results"] = nlohmann::json::array();
    for (const auto& r : found.results) body["results"].push_back(discovery::SearchResultJson(r));
    std::cout << body.dump(2) << "\n";
    return Status::OK();
  }
  PrintTable(found, args, text);
  return Status::OK();
}

}  // namespace

void SetupSearch(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<SearchArgs>();
  sub.add_option("text", args->words,
                 "Words to find in names, tags, columns, business names, descriptions, owners "
                 "and glossary terms (every word must match; prefixes and typos are fine)")
      ->required();
  for (size_t f = 0; f < std::size(discovery::kFacets); f++) {
    std::string facet = discovery::kFacets[f];
    sub.add_option("--" + facet, args->filters[f],
                   "Only products with this " + facet + " (repeat for any of several)");
  }
  sub.add_option("--limit,-n", args->limit, "Results to show")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  sub.add_option("--offset", args->offset, "Results to skip (the next page)");
  sub.add_option("--format,-f", args->format, "table or json")->capture_default_str();
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Search(ctx, *args); }; });
}

}  // namespace plexus::cli
