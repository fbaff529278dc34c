// glossary: the mesh's business vocabulary (issue 4).
//
//   plexus glossary [--format table|json]         every term, with how many columns it names
//   plexus glossary TERM [--format table|json]    one term (id or name) and its linked columns
//
// A term is visible to every signed-in principal; a linked column only when its port is (a
// private port is left out for principals outside its domain, as by plexus show).
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cli/cli.h"

namespace plexus::cli {
namespace {

using nlohmann::json;

struct GlossaryOptions {
  std::string term;
  std::string format = "table";
};

/// The port majors the signed-in principal may see, and each port's newest visible major.
struct VisiblePorts {
  std::set<std::tuple<std::string, std::string, int>> majors;  ///< product id, port, major
  std::map<std::pair<std::string, std::string>, int> newest;   ///< (product id, port) -> major

  bool Shows(const catalog::ColumnTermRecord& link) const {
    return majors.count({link.product_id, link.port, link.major}) != 0;
  }
  /// domain.product.port.column, the port suffixed __vN when N is not its newest major (the
  /// SQL name that reads that major).
  std::string ColumnName(const catalog::ColumnTermRecord& link) const {
    auto it = newest.find({link.product_id, link.port});
    bool older = it != newest.end() && link.major < it->second;
    return link.product + "." + link.port + (older ? "__v" + std::to_string(link.major) : "") +
           "." + link.column;
  }
};

Result<VisiblePorts> LoadVisiblePorts(const Context& ctx, catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(auto products, VisibleProducts(ctx, catalog));
  VisiblePorts visible;
  for (const auto& product : products) {
    for (const auto& port : product.outputs) {
      visible.majors.insert({product.id, port.name, port.major});
      int& newest = visible.newest[{product.id, port.name}];
      newest = std::max(newest, port.major);
    }
  }
  return visible;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

json TermJson(const catalog::GlossaryTermRecord& term) {
  return {{"id", term.id},           {"name", term.name},       {"definition", term.definition},
          {"owners", term.owners},   {"synonyms", term.synonyms}, {"url", term.url},
          {"related", term.related}};
}

Status ListTerms(const Context& ctx, const GlossaryOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(VisiblePorts visible, LoadVisiblePorts(ctx, *catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto terms, catalog->ListGlossaryTerms());
  PLEXUS_ASSIGN_OR_RETURN(auto links, catalog->ListColumnTerms());
  std::map<std::string, int> counts;
  for (const auto& link : links) counts[link.term_id] += visible.Shows(link) ? 1 : 0;
  if (options.format == "json") {
    json list = json::array();
    for (const auto& term : terms) {
      json item = TermJson(term);
      item["linked_columns"] = counts[term.id];
      list.push_back(std::move(item));
    }
    std::cout << json{{"terms", list}}.dump(2) << "\n";
    return Status::OK();
  }
  if (terms.empty()) {
    std::cout << "no glossary: name one in mesh.yaml (glossary: glossary.yaml) and run "
                 "plexus apply\n";
    return Status::OK();
  }
  std::cout << std::left << std::setw(26) << "TERM" << std::setw(30) << "NAME" << std::setw(24)
            << "OWNERS" << "COLUMNS\n";
  for (const auto& term : terms) {
    std::cout << std::left << std::setw(26) << term.id << std::setw(30) << term.name
              << std::setw(24) << OrDash(Join(term.owners)) << counts[term.id] << "\n";
  }
  return Status::OK();
}

Status ShowTerm(const Context& ctx, const GlossaryOptions& options) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(VisiblePorts visible, LoadVisiblePorts(ctx, *catalog));
  PLEXUS_ASSIGN_OR_RETURN(catalog::GlossaryTermRecord term,
                          catalog->GetGlossaryTerm(options.term));
  PLEXUS_ASSIGN_OR_RETURN(auto links, catalog->ListColumnTerms(term.id));
  std::erase_if(links, [&](const auto& link) { return !visible.Shows(link); });
  // Related terms by name, for reading; an id the catalog lacks is shown as is.
  std::vector<std::string> related;
  for (const auto& id : term.related) {
    auto other = catalog->GetGlossaryTerm(id);
    related.push_back(other.ok() && other->id == id ? other->name + " (" + id + ")" : id);
  }
  if (options.format == "json") {
    json out = TermJson(term);
    json columns = json::array();
    for (const auto& link : links) {
      columns.push_back({{"column", visible.ColumnName(link)},
                         {"product", link.product},
                         {"port", link.port},
                         {"major", link.major},
                         {"name", link.column},
                         {"link", link.link}});
    }
    out["columns"] = columns;
    std::cout << out.dump(2) << "\n";
    return Status::OK();
  }
  std::cout << term.name << "  (" << term.id << ")\n"
            << "  definition: " << term.definition << "\n";
  if (!term.synonyms.empty()) std::cout << "  synonyms:   " << Join(term.synonyms) << "\n";
  std::cout << "  owners:     " << OrDash(Join(term.owners)) << "\n";
  if (!term.url.empty()) std::cout << "  url:        " << term.url << "\n";
  if (!related.empty()) std::cout << "  related:    " << Join(related) << "\n";
  if (links.empty()) {
    std::cout << "  columns:    none linked\n";
    return Status::OK();
  }
  std::cout << "  columns (" << links.size() << "):\n";
  size_t width = 0;
  for (const auto& link : links) width = std::max(width, visible.ColumnName(link).size());
  for (const auto& link : links) {
    std::cout << "    " << std::left << std::setw(static_cast<int>(width + 2))
              << visible.ColumnName(link) << "by " << link.link << "\n";
  }
  return Status::OK();
}

}  // namespace

void SetupGlossary(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<GlossaryOptions>();
  sub.add_option("term", options->term, "a term's id or name: show it and its columns");
  sub.add_option("--format,-f", options->format, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  sub.callback([&ctx, options] {
    ctx.action = [&ctx, options] {
      return options->term.empty() ? ListTerms(ctx, *options) : ShowTerm(ctx, *options);
    };
  });
}

}  // namespace plexus::cli
