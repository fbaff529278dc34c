// File: plexus/spec/glossary.h
//
// The mesh's business glossary: terms with definitions and owners, written in one mesh-level
// file (mesh.yaml `glossary: glossary.yaml`, `kind: Glossary`, docs in the spec README), and
// the rule that links a contract's columns to them.
//
// The linking rule, in one place (GlossaryIndex::LinksOf): a column (an ODCS property) is
// linked to a term when
//   - one of its authoritativeDefinitions has `url: glossary:<term-id>`, or a url equal to the
//     term's `url` (link "authoritativeDefinition"), or
//   - its businessName equals the term's name or one of its synonyms, ignoring ASCII case and
//     surrounding blanks (link "businessName").
// A term linked both ways is listed once, as "authoritativeDefinition".
//
//   spec::GlossaryIndex index(mesh.glossary);
//   for (const spec::GlossaryLink& link : index.LinksOf(property)) ...
//
// Thread safety: values; a GlossaryIndex is immutable once built (it points into the terms it
// was built from, which must outlive it).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"
#include "plexus/spec/parse.h"

namespace plexus::spec {

/// The scheme of an authoritativeDefinition url that names a glossary term: glossary:<id>.
inline constexpr std::string_view kGlossaryUrlPrefix = "glossary:";
/// How a column links to a term (GlossaryLink::link, the catalog's column_terms.link).
inline constexpr std::string_view kLinkByDefinition = "authoritativeDefinition";
inline constexpr std::string_view kLinkByBusinessName = "businessName";

/// One term a column is linked to, and how.
struct GlossaryLink {
  std::string term_id;
  std::string link;  ///< kLinkByDefinition or kLinkByBusinessName
};

/// The terms looked up by id, by url and by lower-case name and synonym, so that linking a
/// column costs a few map lookups however large the glossary is.
class GlossaryIndex {
 public:
  explicit GlossaryIndex(const std::vector<GlossaryTerm>& terms);

  /// The term with this id; null when there is none.
  const GlossaryTerm* Find(std::string_view id) const;
  /// The terms the property is linked to (the rule above): by its authoritativeDefinitions
  /// first, in their order, then by its businessName, in the glossary's order; each term once.
  std::vector<GlossaryLink> LinksOf(const Property& property) const;

 private:
  const std::vector<GlossaryTerm>& terms_;
  std::map<std::string, size_t, std::less<>> by_id_;
  std::multimap<std::string, size_t> by_url_;
  std::multimap<std::string, size_t> by_name_;  ///< lower-case, trimmed name and synonyms
};

/// The ids of the terms the property is linked to (GlossaryIndex::LinksOf, for one column).
std::vector<std::string> GlossaryTermsOf(const std::vector<GlossaryTerm>& terms,
                                         const Property& property);

/// True when `id` may name a term: [a-z0-9_-]+, at most 63 characters.
bool IsGlossaryTermId(std::string_view id);
/// The id a `glossary:<id>` url names; empty when the url is not a glossary url.
std::string GlossaryIdOfUrl(std::string_view url);

/// The glossary's own checks across its terms: ids unique, `related` naming terms of the
/// glossary (and not the term itself). The per-term checks (required fields, id pattern) are
/// the parser's.
Status ValidateGlossary(const std::vector<GlossaryTerm>& terms, std::vector<Diagnostic>* problems);

/// Parses a glossary file (`apiVersion: plexus/v1`, `kind: Glossary`, `terms`) and runs
/// ValidateGlossary on it. Problems and the returned Status as every parse.h function.
Result<std::vector<GlossaryTerm>> ParseGlossaryFile(const std::string& path,
                                                    std::vector<Diagnostic>* problems);

}  // namespace plexus::spec
