// The business glossary over HTTP (issue 4), as `plexus glossary` prints it:
//   GET /api/v1/glossary            every term, with how many columns the caller may see link to
//                                   it (paged)
//   GET /api/v1/glossary/{term}     one term (id, or name in any case) with its linked columns
// A term is visible to every signed-in principal; a linked column only when its port is (a
// private port is left out for principals outside its domain, as everywhere in the API).
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "plexus/access/query_service.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"
#include "plexus/server/product_json.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// The URL of a term: /api/v1/glossary/{id} (ids are [a-z0-9_-], nothing to encode).
std::string TermUrl(const std::string& id) { return "/api/v1/glossary/" + id; }

json TermJson(const catalog::GlossaryTermRecord& term) {
  return {{"id", term.id},
          {"self", TermUrl(term.id)},
          {"name", term.name},
          {"definition", term.definition},
          {"owners", term.owners},
          {"synonyms", term.synonyms},
          {"url", term.url},
          {"related", term.related}};
}

/// The port majors the caller may see.
using VisibleMajors = std::set<std::tuple<std::string, std::string, int>>;

Result<VisibleMajors> LoadVisibleMajors(const catalog::Catalog& catalog,
                                        access::QueryService& queries,
                                        const access::Principal& principal) {
  PLEXUS_ASSIGN_OR_RETURN(auto policy, CurrentPolicy(queries));
  PLEXUS_ASSIGN_OR_RETURN(auto products, VisibleProducts(catalog, *policy, principal));
  VisibleMajors majors;
  for (const auto& product : products) {
    for (const auto& port : product.outputs) majors.insert({product.id, port.name, port.major});
  }
  return majors;
}

/// The links of `term_id` (empty: every term) to columns the caller may see.
Result<std::vector<catalog::ColumnTermRecord>> VisibleLinks(const catalog::Catalog& catalog,
                                                            const VisibleMajors& majors,
                                                            const std::string& term_id) {
  PLEXUS_ASSIGN_OR_RETURN(auto links, catalog.ListColumnTerms(term_id));
  std::erase_if(links, [&](const catalog::ColumnTermRecord& link) {
    return majors.count({link.product_id, link.port, link.major}) == 0;
  });
  return links;
}

json LinkJson(const catalog::ColumnTermRecord& link) {
  return {{"id", address::ColumnId(link.product, link.port, link.column)},
          {"self", address::ColumnUrl(link.product, link.port, link.column)},
          {"product", link.product},
          {"port", link.port},
          {"major", link.major},
          {"version_sql_name",
           link.product + "." + link.port + "__v" + std::to_string(link.major)},
          {"column", link.column},
          {"link", link.link}};
}

}  // namespace

void GlossaryRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes.Get("/api/v1/glossary",
             "The mesh's business glossary: every term, with the number of columns linked to "
             "it that the caller may see",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto majors = LoadVisibleMajors(*catalog, *queries, principal);
               if (!majors.ok()) return SendError(res, majors.status());
               auto links = VisibleLinks(*catalog, *majors, "");
               if (!links.ok()) return SendError(res, links.status());
               std::map<std::string, int> counts;
               for (const auto& link : *links) counts[link.term_id]++;
               SendPage(req, res, catalog->ListGlossaryTerms(), "terms",
                        [&counts](const catalog::GlossaryTermRecord& term) {
                          json item = TermJson(term);
                          auto count = counts.find(term.id);
                          item["linked_columns"] = count == counts.end() ? 0 : count->second;
                          return item;
                        });
             })
      .Tag("glossary")
      .Paged();
  routes.Get("/api/v1/glossary/{term}",
             "One glossary term (by id, or by name in any case) with the columns linked to it "
             "that the caller may see",
             [catalog, queries](const auto& req, auto& res, const auto& principal) {
               auto majors = LoadVisibleMajors(*catalog, *queries, principal);
               if (!majors.ok()) return SendError(res, majors.status());
               auto term = catalog->GetGlossaryTerm(req.matches[1].str());
               if (!term.ok()) {
                 return SendError(res, term.status().code() == StatusCode::kNotFound
                                           ? NotFound("unknown glossary term " +
                                                      req.matches[1].str() +
                                                      " (see /api/v1/glossary)")
                                           : term.status());
               }
               auto links = VisibleLinks(*catalog, *majors, term->id);
               if (!links.ok()) return SendError(res, links.status());
               json body = TermJson(*term);
               json columns = json::array();
               for (const auto& link : *links) columns.push_back(LinkJson(link));
               body["columns"] = columns;
               SendJson(res, body);
             })
      .Tag("glossary");
}

}  // namespace plexus::server::internal
