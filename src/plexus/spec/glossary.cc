// File: plexus/spec/glossary.cc
//
// The business glossary's linking rule (glossary.h) and its checks across terms.
#include "plexus/spec/glossary.h"

#include <set>

#include "plexus/common/text.h"

namespace plexus::spec {
namespace {

/// Lower case, blanks around removed: how business names compare.
std::string NameKey(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return AsciiLower(text.substr(begin, end - begin + 1));
}

}  // namespace

bool IsGlossaryTermId(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string GlossaryIdOfUrl(std::string_view url) {
  if (!url.starts_with(kGlossaryUrlPrefix)) return "";
  return std::string(url.substr(kGlossaryUrlPrefix.size()));
}

GlossaryIndex::GlossaryIndex(const std::vector<GlossaryTerm>& terms) : terms_(terms) {
  for (size_t i = 0; i < terms.size(); ++i) {
    const GlossaryTerm& term = terms[i];
    by_id_.emplace(term.id, i);  // a duplicate id keeps its first term (ValidateGlossary says so)
    if (!term.url.empty()) by_url_.emplace(term.url, i);
    std::set<std::string> names;
    for (const std::string& name : term.synonyms) names.insert(NameKey(name));
    names.insert(NameKey(term.name));
    names.erase("");
    for (const std::string& name : names) by_name_.emplace(name, i);
  }
}

const GlossaryTerm* GlossaryIndex::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &terms_[it->second];
}

std::vector<GlossaryLink> GlossaryIndex::LinksOf(const Property& property) const {
  std::vector<GlossaryLink> links;
  std::set<size_t> linked;
  auto add = [&](size_t index, std::string_view how) {
    if (linked.insert(index).second) links.push_back({terms_[index].id, std::string(how)});
  };
  for (const AuthoritativeDefinition& definition : property.authoritative_definitions) {
    if (definition.url.empty()) continue;
    if (definition.url.starts_with(kGlossaryUrlPrefix)) {
      auto it = by_id_.find(GlossaryIdOfUrl(definition.url));
      if (it != by_id_.end()) add(it->second, kLinkByDefinition);
      continue;
    }
    auto [begin, end] = by_url_.equal_range(definition.url);
    for (auto it = begin; it != end; ++it) add(it->second, kLinkByDefinition);
  }
  std::string name = NameKey(property.business_name);
  if (!name.empty()) {
    auto [begin, end] = by_name_.equal_range(name);
    std::set<size_t> named;  // in the glossary's order
    for (auto it = begin; it != end; ++it) named.insert(it->second);
    for (size_t index : named) add(index, kLinkByBusinessName);
  }
  return links;
}

std::vector<std::string> GlossaryTermsOf(const std::vector<GlossaryTerm>& terms,
                                         const Property& property) {
  std::vector<std::string> ids;
  for (GlossaryLink& link : GlossaryIndex(terms).LinksOf(property)) {
    ids.push_back(std::move(link.term_id));
  }
  return ids;
}

Status ValidateGlossary(const std::vector<GlossaryTerm>& terms,
                        std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < terms.size(); ++i) {
    const GlossaryTerm& term = terms[i];
    if (term.id.empty()) continue;  // the parser reports it
    auto [it, inserted] = seen.emplace(term.id, i);
    if (!inserted) {
      sink->push_back(Diagnostic{term.location, "terms[" + std::to_string(i) + "].id",
                                 "term id '" + term.id + "' is already used by terms[" +
                                     std::to_string(it->second) + "] (line " +
                                     std::to_string(terms[it->second].location.line) + ")"});
    }
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    const GlossaryTerm& term = terms[i];
    for (size_t j = 0; j < term.related.size(); ++j) {
      const std::string& related = term.related[j];
      std::string field = "terms[" + std::to_string(i) + "].related[" + std::to_string(j) + "]";
      if (related == term.id) {
        sink->push_back(Diagnostic{term.related_location, field,
                                   "a term is not related to itself ('" + related + "')"});
      } else if (seen.count(related) == 0) {
        sink->push_back(Diagnostic{term.related_location, field,
                                   "unknown glossary term '" + related + "'"});
      }
    }
  }
  return ProblemsStatus(*sink, first);
}

}  // namespace plexus::spec
