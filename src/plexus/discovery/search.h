// File: plexus/discovery/search.h
//
// Finding data products by words (issue 4). The catalog keeps a SQLite FTS5 index, one document
// per output port (catalog_search.cc); this file turns what a person types into an FTS5
// expression that can never fail, matches it, keeps what the principal may see, ranks by
// relevance, trust and usage, counts facets and highlights the best matches.
//
//   SearchIndex index(catalog);
//   PLEXUS_ASSIGN_OR_RETURN(SearchResponse found, index.Search(principal, {.text = "sign-up"}));
//   for (const auto& hit : found.results) ...hit.product, hit.score, hit.highlights...
//
// Words: split on everything but letters and digits, like the index. Each word matches as a
// prefix ("cust" finds customer); a word no indexed term starts with is corrected to the
// nearest terms (edit distance 1, 2 from eight letters on; e.g. "custmer" -> customer), or
// left out when none is near, and the response says so. Every remaining word must match
// (AND); several words also score the exact phrase. FTS5 operators, quotes, brackets and
// control characters are text, never syntax.
//
// Ranking (higher first): score = relevance x trust factor x usage factor x status factor.
// - relevance: BM25 over the fields with catalog::kSearchFields' weights (name 8, tags 4,
//   columns 3, business names and descriptions 3, glossary terms 3, owners 2, description 1.5),
//   the best of the product's visible ports;
// - trust factor: 0.75 + 0.5 x trust / 100 (the product's trust score, or TrustOf below when
//   none was computed; reloaded with usage, every usage interval);
// - usage factor: 1 + 0.1 x ln(1 + queries in the last 30 days), at most 1.5;
// - status factor: deprecated 0.6, retired 0.3, anything else 1.
// Ties by name.
//
// Visibility: a port's document counts only when the principal may know the port exists
// (access::AccessPolicy::PortVisible); a product nobody lets it see is never matched, counted or
// highlighted. Facets (domain, tag, status, classification, owner) count products; each facet
// is counted under the other facets' filters, not its own, so its other values stay in view.
//
// Thread safety: Search and Refresh may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog.h"

namespace plexus::discovery {

/// The facets, in the order responses list them.
inline constexpr const char* kFacets[] = {"domain", "tag", "status", "classification", "owner"};

struct SearchOptions {
  std::string text;
  /// facet -> accepted values (any of them; case-insensitive); facets combine with AND.
  std::map<std::string, std::vector<std::string>> filters;
  size_t limit = 20;
  size_t offset = 0;
  bool highlight = true;
};

/// Markers around matched words in highlights; Render turns them into text or HTML.
inline constexpr const char* kMarkOpen = "\x02";
inline constexpr const char* kMarkClose = "\x03";

struct SearchResult {
  std::string product;     ///< domain.product
  std::string product_id;
  std::string domain;
  std::string name;
  std::string status;
  std::vector<std::string> tags;
  std::vector<std::string> ports;  ///< the matching ports the principal may see, best first
  double score = 0;
  double relevance = 0;
  double trust = 0;                ///< 0..100
  int64_t queries_30d = 0;         ///< queries that read the product in the last 30 days
  int64_t readers_30d = 0;         ///< distinct principals among them
  /// Where the words matched, e.g. {"columns", "order_<b>date</b>"}: field -> highlighted text
  /// (list fields: only their matching lines), with kMarkOpen / kMarkClose around matches.
  std::vector<std::pair<std::string, std::string>> highlights;
};

struct FacetCount {
  std::string value;
  int64_t count = 0;
};

struct GlossaryHit {
  std::string id;
  std::string name;        ///< highlighted
  std::string definition;  ///< a highlighted snippet
};

struct SearchResponse {
  int64_t total = 0;  ///< products matching (visible, filtered), before paging
  std::vector<SearchResult> results;
  std::map<std::string, std::vector<FacetCount>> facets;  ///< most products first
  std::vector<GlossaryHit> terms;          ///< glossary terms matching the words
  std::vector<std::string> corrections;    ///< e.g. "custmer: customer"
  std::vector<std::string> ignored;        ///< words nothing in the catalog is near
  std::string expression;                  ///< the FTS5 expression matched ("" when none)
};

/// A byte of a word as the index splits text: an ASCII letter or digit, or any non-ASCII byte.
bool IsSearchWordByte(unsigned char c);
/// The words of a text as the index splits them (lower case), at most 16.
std::vector<std::string> SearchWords(const std::string& text);
/// Damerau-Levenshtein (optimal string alignment) distance, or max + 1 when above `max`.
int EditDistance(const std::string& a, const std::string& b, int max);

/// Trust, 0..100, of a product no trust score was computed for (the computed one,
/// Catalog::ListTrustScores, is used when there is one; docs/slo-and-trust.md): 40 x the share
/// of the last quality checks passed (0.5 when never checked), 30 x the share of columns
/// described, 30 when published.
double TrustOf(const catalog::SearchDocRecord& doc);

/// `text` with kMarkOpen / kMarkClose around each word that `marks` name ((word, true): the
/// word starts with it; (word, false): it is the word), compared in lower case. `window` > 0:
/// only about `window` bytes around the first match, cut at words, with "…" where cut.
std::string Highlight(const std::string& text,
                      const std::vector<std::pair<std::string, bool>>& marks, size_t window = 0);
/// The lines of `text` (a list field: one item a line) that hold a word `marks` names,
/// highlighted as Highlight does.
std::vector<std::string> HighlightLines(const std::string& text,
                                        const std::vector<std::pair<std::string, bool>>& marks);
/// Replaces the markers with `open`/`close`; html: the text is HTML-escaped first.
std::string RenderHighlight(const std::string& text, const std::string& open,
                            const std::string& close, bool html);

class SearchIndex {
 public:
  explicit SearchIndex(const catalog::Catalog* catalog) : catalog_(catalog) {}

  /// Matches, ranks, counts facets and highlights for `principal`. Never fails on the text:
  /// an empty or all-symbol text finds nothing. kInvalidArgument for an unknown facet.
  Result<SearchResponse> Search(const access::Principal& principal, const SearchOptions& options);

  /// The FTS5 expression Search matches for `text` as `principal` (benchmark and tests).
  Result<std::string> Expression(const access::Principal& principal, const std::string& text);

  /// Reloads the documents' facts and vocabulary when the catalog changed, and the usage
  /// counts at most every `usage_interval` (Search calls it).
  Status Refresh();
  void set_usage_interval(std::chrono::seconds interval) { usage_interval_ = interval; }

 private:
  struct Snapshot;
  struct Built {
    std::string expression;
    std::vector<std::string> corrections;
    std::vector<std::string> ignored;
    /// What a highlighted word must be: (word, true) a prefix of it, (word, false) all of it.
    std::vector<std::pair<std::string, bool>> marks;
  };
  Result<std::shared_ptr<const Snapshot>> Current();
  /// Whether a document the principal may see matches an FTS5 phrase; null: it sees all.
  using Visible = std::function<bool(const std::string& phrase)>;
  Visible VisibleFor(const Snapshot& snapshot, const access::Principal& principal) const;
  static Built BuildExpression(const Snapshot& snapshot, const std::string& text,
                               const Visible& visible);

  const catalog::Catalog* catalog_;
  std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;
  int64_t generation_ = -1;
  std::chrono::steady_clock::time_point usage_loaded_{};
  std::chrono::seconds usage_interval_{60};
};

}  // namespace plexus::discovery
