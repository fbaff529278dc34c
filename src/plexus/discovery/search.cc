#include "plexus/discovery/search.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "plexus/common/text.h"
#include "plexus/discovery/usage.h"

namespace plexus::discovery {
namespace {

constexpr size_t kMaxWords = 16;
constexpr size_t kMaxCorrections = 3;  ///< nearest terms a misspelt word is replaced by
constexpr int kGlossaryHits = 5;
constexpr size_t kSnippetBytes = 160;  ///< a description's highlight: about this much around
constexpr size_t kFacetValues = 20;    ///< values listed per facet, most frequent first

/// A value id per distinct text of one facet (lower case for matching, as written for display).
struct FacetValues {
  std::vector<std::string> display;
  std::unordered_map<std::string, uint32_t> ids;  ///< lower case -> id
  uint32_t Intern(const std::string& value) {
    std::string key = AsciiLower(value);
    auto [it, added] = ids.emplace(key, static_cast<uint32_t>(display.size()));
    if (added) display.push_back(value);
    return it->second;
  }
};

enum Facet { kDomain, kTag, kStatus, kClassification, kOwner, kFacetCount };

}  // namespace

struct SearchIndex::Snapshot {
  struct Doc {
    int64_t id = 0;  ///< the catalog's document id
    uint32_t product = 0;
    bool private_port = false;  ///< only the domain may know it exists
    std::string port;
  };
  /// A product as results show it; its facet values are in `hot`.
  struct Product {
    std::string qualified, id, domain, name, status;
    std::vector<std::string> tags;
    std::vector<uint32_t> docs;
    double trust = 0;
    double doc_trust = 0;  ///< TrustOf its documents: the trust when none was computed
    double status_factor = 1;
    double boost = 1;  ///< trust x usage x status factors: the score is relevance x boost
    int64_t queries = 0, readers = 0;
  };
  /// What the facet loop reads of each product, packed (a search touches thousands of
  /// products: their values are spans of `pool`).
  struct Span {
    uint32_t at = 0, size = 0;
  };
  struct Hot {
    uint32_t domain_id = 0, status_id = 0;
    /// Classifications of its columns: of every port, and of its public and restricted ones
    /// (what a principal outside the domain may know of).
    Span tags, owners, classifications, open_classifications;
    bool has_private = false;
  };
  std::vector<Hot> hot;
  std::vector<uint32_t> pool;
  Span Add(const std::vector<uint32_t>& values) {
    Span span{static_cast<uint32_t>(pool.size()), static_cast<uint32_t>(values.size())};
    pool.insert(pool.end(), values.begin(), values.end());
    return span;
  }
  std::vector<uint32_t> private_domains;  ///< domain ids with a private port
  std::vector<int32_t> doc_index;  ///< catalog doc id -> docs index (-1: none)
  /// Catalog doc id -> its product | kPrivateDoc when private (kNoDoc: none): all a match
  /// reads, packed.
  std::vector<uint32_t> doc_hot;
  static constexpr uint32_t kPrivateDoc = 0x80000000u, kNoDoc = 0xFFFFFFFFu;
  std::vector<Doc> docs;
  std::vector<Product> products;
  FacetValues facets[kFacetCount];
  std::vector<std::string> terms;  ///< the vocabulary, sorted
  std::vector<int64_t> term_docs;
  /// Terms by first byte: where misspellings are looked for.
  std::vector<uint32_t> by_first[256];
};

bool IsSearchWordByte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

std::vector<std::string> SearchWords(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i <= text.size(); i++) {
    unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (IsSearchWordByte(c)) {
      word += static_cast<char>(std::tolower(c));
      continue;
    }
    if (!word.empty() && words.size() < kMaxWords) words.push_back(word);
    word.clear();
  }
  return words;
}

int EditDistance(const std::string& a, const std::string& b, int max) {
  int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  if (std::abs(n - m) > max) return max + 1;
  std::vector<int> two(m + 1), prev(m + 1), cur(m + 1);
  for (int j = 0; j <= m; j++) prev[j] = j;
  for (int i = 1; i <= n; i++) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= m; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], two[j - 2] + 1);
      }
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > max) return max + 1;
    std::swap(two, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[m], max + 1);
}

double TrustOf(const catalog::SearchDocRecord& doc) {
  double quality = doc.quality < 0 ? 0.5 : doc.quality;
  return 40 * quality + 30 * doc.documented + (doc.published ? 30 : 0);
}

Status SearchIndex::Refresh() { return Current().status(); }

Result<std::shared_ptr<const SearchIndex::Snapshot>> SearchIndex::Current() {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto generation, catalog_->Generation());
  auto now = std::chrono::steady_clock::now();
  bool stale = snapshot_ == nullptr || generation.first != generation_;
  bool usage_due = snapshot_ == nullptr || now - usage_loaded_ >= usage_interval_;
  if (!stale && !usage_due) return snapshot_;
  std::shared_ptr<Snapshot> next;
  if (stale) {
    next = std::make_shared<Snapshot>();
    PLEXUS_ASSIGN_OR_RETURN(auto docs, catalog_->ListSearchDocs());
    std::unordered_map<std::string, uint32_t> product_of;
    // What only the load needs, per product: its facet values, its trust summed over its
    // documents, and per document its classifications.
    struct Loading {
      std::vector<uint32_t> tags, owners;
      double trust = 0;
    };
    std::vector<Loading> loading;
    std::vector<std::vector<uint32_t>> doc_classes;
    for (const auto& d : docs) {
      auto [it, added] = product_of.emplace(d.product_id, next->products.size());
      if (added) {
        Snapshot::Product p;
        p.qualified = d.domain + "." + d.product;
        p.id = d.product_id;
        p.domain = d.domain;
        p.name = d.product;
        p.status = d.status;
        p.tags = d.tags;
        std::string status = AsciiLower(d.status);
        p.status_factor = status == "deprecated" ? 0.6 : status == "retired" ? 0.3 : 1.0;
        next->products.push_back(std::move(p));
        Snapshot::Hot h;
        h.domain_id = next->facets[kDomain].Intern(d.domain);
        h.status_id = next->facets[kStatus].Intern(d.status);
        next->hot.push_back(h);
        Loading l;
        for (const auto& tag : d.tags) l.tags.push_back(next->facets[kTag].Intern(tag));
        for (const auto& owner : d.owners) l.owners.push_back(next->facets[kOwner].Intern(owner));
        loading.push_back(std::move(l));
      }
      Snapshot::Doc doc;
      doc.id = d.doc;
      doc.product = it->second;
      doc.private_port = d.visibility != "public" && d.visibility != "restricted";
      doc.port = d.port;
      std::vector<uint32_t> classes;
      for (const auto& c : d.classifications) {
        classes.push_back(next->facets[kClassification].Intern(c));
      }
      doc_classes.push_back(std::move(classes));
      if (d.doc >= static_cast<int64_t>(next->doc_index.size())) {
        next->doc_index.resize(d.doc + 1, -1);
        next->doc_hot.resize(d.doc + 1, Snapshot::kNoDoc);
      }
      next->doc_index[d.doc] = static_cast<int32_t>(next->docs.size());
      next->doc_hot[d.doc] = doc.product | (doc.private_port ? Snapshot::kPrivateDoc : 0);
      next->products[doc.product].docs.push_back(static_cast<uint32_t>(next->docs.size()));
      next->docs.push_back(std::move(doc));
      loading[it->second].trust += TrustOf(d);
    }
    for (size_t i = 0; i < next->products.size(); i++) {
      Snapshot::Product& p = next->products[i];
      Snapshot::Hot& h = next->hot[i];
      p.doc_trust = loading[i].trust / std::max<size_t>(1, p.docs.size());
      std::vector<uint32_t> classes, open;
      for (uint32_t d : p.docs) {
        h.has_private = h.has_private || next->docs[d].private_port;
        for (uint32_t c : doc_classes[d]) {
          classes.push_back(c);
          if (!next->docs[d].private_port) open.push_back(c);
        }
      }
      for (auto* list : {&classes, &open}) {
        std::sort(list->begin(), list->end());
        list->erase(std::unique(list->begin(), list->end()), list->end());
      }
      if (h.has_private) next->private_domains.push_back(h.domain_id);
      h.tags = next->Add(loading[i].tags);
      h.owners = next->Add(loading[i].owners);
      h.classifications = next->Add(classes);
      h.open_classifications = next->Add(open);
    }
    std::sort(next->private_domains.begin(), next->private_domains.end());
    next->private_domains.erase(
        std::unique(next->private_domains.begin(), next->private_domains.end()),
        next->private_domains.end());
    PLEXUS_ASSIGN_OR_RETURN(auto vocabulary, catalog_->SearchVocabulary());
    for (auto& [term, count] : vocabulary) {
      if (!term.empty()) {
        next->by_first[static_cast<unsigned char>(term[0])].push_back(next->terms.size());
      }
      next->terms.push_back(std::move(term));
      next->term_docs.push_back(count);
    }
  } else {
    next = std::make_shared<Snapshot>(*snapshot_);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto usage, catalog_->ListUsage(DaysAgo(30)));
  // Issue 9: the trust score computed with the SLOs (observe/trust.h), reloaded with usage.
  std::unordered_map<std::string, double> computed;
  PLEXUS_ASSIGN_OR_RETURN(auto scores, catalog_->ListTrustScores());
  for (const auto& t : scores) computed[t.product_id] = t.score;
  for (auto& p : next->products) {
    auto score = computed.find(p.id);
    p.trust = score == computed.end() ? p.doc_trust : score->second;
    auto it = usage.find(p.qualified);
    p.queries = it == usage.end() ? 0 : it->second.queries;
    p.readers = it == usage.end() ? 0 : it->second.readers;
    double usage_factor = std::min(1.5, 1 + 0.1 * std::log1p(static_cast<double>(p.queries)));
    p.boost = (0.75 + 0.5 * p.trust / 100) * usage_factor * p.status_factor;
  }
  usage_loaded_ = now;
  generation_ = generation.first;
  snapshot_ = std::move(next);
  return snapshot_;
}

namespace {

/// Whether a document the principal may see holds a word starting with `word` (the vocabulary's
/// terms from `first` on start with it). Its most frequent completions are tried one by one as
/// exact terms (reading the start of one list each), the prefix itself last: a prefix query
/// merges the lists of every completion first, milliseconds for a common word.
bool PrefixVisible(const std::vector<std::string>& terms, const std::vector<int64_t>& docs,
                   size_t first, const std::string& word,
                   const std::function<bool(const std::string&)>& visible) {
  constexpr size_t kScanned = 64, kTried = 4;
  std::vector<std::pair<int64_t, size_t>> completions;
  for (size_t i = first; i < terms.size() && i < first + kScanned && terms[i].starts_with(word);
       i++) {
    completions.emplace_back(-docs[i], i);
  }
  size_t tried = std::min(completions.size(), kTried);
  std::partial_sort(completions.begin(), completions.begin() + tried, completions.end());
  for (size_t k = 0; k < tried; k++) {
    if (visible("\"" + terms[completions[k].second] + "\"")) return true;
  }
  return visible("\"" + word + "\"*");
}

}  // namespace

SearchIndex::Built SearchIndex::BuildExpression(const Snapshot& s, const std::string& text,
                                                const Visible& visible) {
  Built built;
  std::vector<std::string> parts, phrase;
  bool exact_phrase = true;
  for (const auto& word : SearchWords(text)) {
    bool ascii = std::all_of(word.begin(), word.end(),
                             [](unsigned char c) { return c < 0x80; });
    // A word FTS5 tokenizes itself (non-ASCII: folded by unicode61) goes in as a prefix.
    if (!ascii || word.size() == 1) {
      parts.push_back("\"" + word + "\"" + (word.size() > 1 ? "*" : ""));
      phrase.push_back(word);
      built.marks.emplace_back(word, word.size() > 1);
      continue;
    }
    auto at = std::lower_bound(s.terms.begin(), s.terms.end(), word);
    if (at != s.terms.end() && at->starts_with(word) &&
        (!visible || PrefixVisible(s.terms, s.term_docs, at - s.terms.begin(), word, visible))) {
      parts.push_back("\"" + word + "\"*");
      phrase.push_back(word);
      built.marks.emplace_back(word, true);
      continue;
    }
    // No term starts with the word: the nearest terms, among those sharing its first or
    // second letter (a typo rarely hits both), most common first.
    int max = word.size() >= 8 ? 2 : word.size() >= 4 ? 1 : 0;
    std::vector<uint32_t> candidates;
    if (max > 0) {
      for (unsigned char first : {static_cast<unsigned char>(word[0]),
                                  static_cast<unsigned char>(word[1])}) {
        for (uint32_t i : s.by_first[first]) candidates.push_back(i);
        if (word[0] == word[1]) break;
      }
    }
    std::vector<std::tuple<int, int64_t, uint32_t>> found;
    for (uint32_t i : candidates) {
      const std::string& term = s.terms[i];
      if (std::abs(static_cast<int>(term.size()) - static_cast<int>(word.size())) > max) continue;
      int distance = EditDistance(word, term, max);
      if (distance <= max) found.emplace_back(distance, -s.term_docs[i], i);
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    // Only words of documents the principal may see: a correction must not reveal a word
    // only a private port holds.
    if (visible) {
      std::vector<std::tuple<int, int64_t, uint32_t>> seen;
      for (const auto& f : found) {
        if (seen.size() == kMaxCorrections) break;
        if (visible("\"" + s.terms[std::get<2>(f)] + "\"")) seen.push_back(f);
      }
      found = std::move(seen);
    }
    if (found.empty()) {
      built.ignored.push_back(word);
      continue;
    }
    std::string alternatives, shown;
    size_t kept = std::min(found.size(), kMaxCorrections);
    for (size_t k = 0; k < kept; k++) {
      const std::string& term = s.terms[std::get<2>(found[k])];
      alternatives += (k == 0 ? "\"" : " OR \"") + term + "\"";
      shown += (k == 0 ? "" : ", ") + term;
      built.marks.emplace_back(term, false);
    }
    parts.push_back(kept == 1 ? alternatives : "(" + alternatives + ")");
    built.corrections.push_back(word + ": " + shown);
    phrase.push_back(s.terms[std::get<2>(found[0])]);
    exact_phrase = false;
  }
  if (parts.empty()) return built;
  std::string all;
  for (const auto& part : parts) all += (all.empty() ? "" : " AND ") + part;
  if (parts.size() > 1 && exact_phrase) {
    // The words side by side, in order, score again: "number of orders" ranks the column
    // named so above a product that merely mentions numbers and orders.
    std::string words;
    for (const auto& w : phrase) words += (words.empty() ? "" : " ") + w;
    built.expression = "(" + all + ") OR \"" + words + "\"";
  } else {
    built.expression = all;
  }
  return built;
}

SearchIndex::Visible SearchIndex::VisibleFor(const Snapshot& s,
                                             const access::Principal& principal) const {
  bool sees_all = true;
  for (uint32_t d : s.private_domains) {
    sees_all = sees_all && access::AccessPolicy::PortVisible(
                               principal, s.facets[kDomain].display[d], "private");
  }
  if (sees_all) return nullptr;
  return [this, &s, &principal](const std::string& phrase) {
    auto found = catalog_->AnyMatch(phrase, [&](int64_t id) {
      if (id < 0 || id >= static_cast<int64_t>(s.doc_index.size()) || s.doc_index[id] < 0) {
        return false;
      }
      const Snapshot::Doc& doc = s.docs[s.doc_index[id]];
      return !doc.private_port ||
             access::AccessPolicy::PortVisible(principal, s.products[doc.product].domain,
                                               "private");
    });
    if (!found.ok()) return false;  // fail closed: an error reveals nothing
    if (*found) return true;
    // Glossary terms are everyone's.
    auto terms = catalog_->MatchGlossary(phrase, kMarkOpen, kMarkClose, 1);
    return terms.ok() && !terms->empty();
  };
}

Result<std::string> SearchIndex::Expression(const access::Principal& principal,
                                            const std::string& text) {
  PLEXUS_ASSIGN_OR_RETURN(auto snapshot, Current());
  return BuildExpression(*snapshot, text, VisibleFor(*snapshot, principal)).expression;
}

Result<SearchResponse> SearchIndex::Search(const access::Principal& principal,
                                           const SearchOptions& options) {
  // The filters, as value ids per facet (a value nobody has matches nothing).
  for (const auto& [facet, values] : options.filters) {
    bool known = false;
    for (const char* name : kFacets) known = known || facet == name;
    if (!known) {
      return InvalidArgument("unknown facet " + facet +
                             " (facets: domain, tag, status, classification, owner)");
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto snapshot, Current());
  const Snapshot& s = *snapshot;
  SearchResponse response;
  Built built = BuildExpression(s, options.text, VisibleFor(s, principal));
  response.corrections = built.corrections;
  response.ignored = built.ignored;
  response.expression = built.expression;
  if (built.expression.empty()) return response;

  std::vector<std::set<uint32_t>> accepted(kFacetCount);
  std::vector<bool> filtered(kFacetCount, false);
  for (const auto& [facet, values] : options.filters) {
    int f = 0;
    while (std::string(kFacets[f]) != facet) f++;
    if (values.empty()) continue;
    filtered[f] = true;
    for (const auto& value : values) {
      auto it = s.facets[f].ids.find(AsciiLower(value));
      if (it != s.facets[f].ids.end()) accepted[f].insert(it->second);
    }
  }

  // Which domains' private ports the principal may know of.
  std::vector<int8_t> in_domain(s.facets[kDomain].display.size(), -1);
  auto in_domain_of = [&](uint32_t domain_id) {
    int8_t& known = in_domain[domain_id];
    if (known < 0) {
      known = access::AccessPolicy::PortVisible(principal, s.facets[kDomain].display[domain_id],
                                                "private")
                  ? 1
                  : 0;
    }
    return known == 1;
  };
  auto may_see = [&](const Snapshot::Doc& doc) {
    return !doc.private_port || in_domain_of(s.hot[doc.product].domain_id);
  };

  // Per product: its best relevance and document. Reused between searches of a thread (a
  // search sets only the entries it touches, and puts them back).
  thread_local std::vector<double> best;
  thread_local std::vector<int32_t> best_doc;
  if (best.size() < s.products.size()) {
    best.assign(s.products.size(), -1);
    best_doc.assign(s.products.size(), -1);
  }
  std::vector<uint32_t> touched;
  struct Reset {
    std::vector<uint32_t>& touched;
    ~Reset() {
      for (uint32_t p : touched) {
        best[p] = -1;
        best_doc[p] = -1;
      }
    }
  } reset{touched};
  double* best_of = best.data();
  int32_t* best_doc_of = best_doc.data();
  PLEXUS_RETURN_IF_ERROR(catalog_->MatchSearch(built.expression, [&](int64_t id, double rel) {
    if (id < 0 || id >= static_cast<int64_t>(s.doc_hot.size())) return;
    uint32_t hot = s.doc_hot[id];
    if (hot == Snapshot::kNoDoc) return;
    uint32_t p = hot & ~Snapshot::kPrivateDoc;
    if ((hot & Snapshot::kPrivateDoc) && !in_domain_of(s.hot[p].domain_id)) return;
    if (best_of[p] < 0) touched.push_back(p);
    if (rel > best_of[p]) {
      best_of[p] = rel;
      best_doc_of[p] = s.doc_index[id];
    }
  }));

  // Facet values of a product: its classifications are those of the ports it may see.
  auto values_of = [&](uint32_t p, int f, uint32_t* one) -> std::pair<const uint32_t*, uint32_t> {
    const Snapshot::Hot& h = s.hot[p];
    Snapshot::Span span;
    switch (f) {
      case kDomain: *one = h.domain_id; return {one, 1};
      case kStatus: *one = h.status_id; return {one, 1};
      case kTag: span = h.tags; break;
      case kOwner: span = h.owners; break;
      default:
        span = !h.has_private || in_domain_of(h.domain_id) ? h.classifications
                                                                       : h.open_classifications;
    }
    return {s.pool.data() + span.at, span.size};
  };
  std::vector<std::vector<int64_t>> counts(kFacetCount);
  std::vector<std::vector<char>> accepts(kFacetCount);
  for (int f = 0; f < kFacetCount; f++) {
    counts[f].assign(s.facets[f].display.size(), 0);
    accepts[f].assign(s.facets[f].display.size(), 0);
    for (uint32_t v : accepted[f]) accepts[f][v] = 1;
  }
  const unsigned all = (1u << kFacetCount) - 1;
  std::vector<uint32_t> hits;
  // Matches come by document id, and products are numbered in document order: `touched` is in
  // memory order already (sorted, should that ever change).
  if (!std::is_sorted(touched.begin(), touched.end())) std::sort(touched.begin(), touched.end());
  for (uint32_t p : touched) {
    std::pair<const uint32_t*, uint32_t> values[kFacetCount];
    uint32_t singles[kFacetCount];
    unsigned passed = 0;
    for (int f = 0; f < kFacetCount; f++) {
      values[f] = values_of(p, f, &singles[f]);
      bool ok = !filtered[f];
      for (uint32_t i = 0; i < values[f].second && !ok; i++) ok = accepts[f][values[f].first[i]];
      if (ok) passed |= 1u << f;
    }
    for (int f = 0; f < kFacetCount; f++) {
      if ((passed | (1u << f)) != all) continue;  // another facet's filter leaves it out
      for (uint32_t i = 0; i < values[f].second; i++) counts[f][values[f].first[i]]++;
    }
    if (passed == all) hits.push_back(p);
  }
  for (int f = 0; f < kFacetCount; f++) {
    // The most frequent values (ties by name), at most kFacetValues.
    std::vector<std::pair<int64_t, uint32_t>> nonzero;
    for (size_t v = 0; v < counts[f].size(); v++) {
      if (counts[f][v] > 0) nonzero.emplace_back(-counts[f][v], static_cast<uint32_t>(v));
    }
    auto by_count = [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return s.facets[f].display[a.second] < s.facets[f].display[b.second];
    };
    size_t kept = std::min(nonzero.size(), kFacetValues);
    std::partial_sort(nonzero.begin(), nonzero.begin() + kept, nonzero.end(), by_count);
    auto& list = response.facets[kFacets[f]];
    for (size_t i = 0; i < kept; i++) {
      list.push_back({s.facets[f].display[nonzero[i].second], -nonzero[i].first});
    }
  }

  auto score_of = [&](uint32_t p) { return best[p] * s.products[p].boost; };
  std::vector<std::pair<double, uint32_t>> ranked;
  ranked.reserve(hits.size());
  for (uint32_t p : hits) ranked.emplace_back(score_of(p), p);
  response.total = static_cast<int64_t>(ranked.size());
  size_t end = std::min(ranked.size(), options.offset + options.limit);
  auto better = [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return s.products[a.second].qualified < s.products[b.second].qualified;
  };
  std::partial_sort(ranked.begin(), ranked.begin() + end, ranked.end(), better);

  std::vector<int64_t> highlight_docs;
  for (size_t i = options.offset; i < end; i++) {
    uint32_t p = ranked[i].second;
    const Snapshot::Product& product = s.products[p];
    SearchResult r;
    r.product = product.qualified;
    r.product_id = product.id;
    r.domain = product.domain;
    r.name = product.name;
    r.status = product.status;
    r.tags = product.tags;
    r.score = ranked[i].first;
    r.relevance = best[p];
    r.trust = product.trust;
    r.queries_30d = product.queries;
    r.readers_30d = product.readers;
    const std::string& best_port = s.docs[best_doc[p]].port;
    if (!best_port.empty()) r.ports.push_back(best_port);
    for (uint32_t d : product.docs) {
      if (s.docs[d].port != best_port && !s.docs[d].port.empty() && may_see(s.docs[d])) {
        r.ports.push_back(s.docs[d].port);
      }
    }
    response.results.push_back(std::move(r));
    highlight_docs.push_back(s.docs[best_doc[p]].id);
  }

  if (options.highlight && !highlight_docs.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(auto texts, catalog_->SearchDocTexts(highlight_docs));
    for (size_t i = 0; i < texts.size() && i < response.results.size(); i++) {
      for (int f = 0; f < catalog::kSearchFieldCount; f++) {
        std::string field = catalog::kSearchFields[f].name;
        if (field == "description") {  // prose: a window around the first match
          std::string snippet = Highlight(texts[i][f], built.marks, kSnippetBytes);
          std::replace(snippet.begin(), snippet.end(), '\n', ' ');  // purpose, usage: one line
          if (snippet.find(kMarkOpen) != std::string::npos) {
            response.results[i].highlights.emplace_back(field, std::move(snippet));
          }
          continue;
        }
        // A list field: only its lines that matched.
        for (auto& line : HighlightLines(texts[i][f], built.marks)) {
          response.results[i].highlights.emplace_back(field, std::move(line));
        }
      }
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto terms, catalog_->MatchGlossary(built.expression, kMarkOpen,
                                                              kMarkClose, kGlossaryHits));
  for (auto& t : terms) {
    response.terms.push_back({std::move(t.id), std::move(t.name), std::move(t.definition)});
  }
  return response;
}

}  // namespace plexus::discovery
