#include "plexus/server/product_search.h"

#include <algorithm>
#include <sstream>

#include "plexus/common/text.h"

namespace plexus::server {
namespace {

bool Contains(const std::string& lower_text, const std::string& word) {
  return lower_text.find(word) != std::string::npos;
}

/// The score of one word against one product (0: no match): its best match, so a word found
/// in many columns weighs no more than one found once. Notes every place it matched.
double ScoreWord(const catalog::ProductRecord& p, const std::string& word,
                 std::vector<std::string>& matched) {
  double score = 0;
  std::string name = AsciiLower(p.QualifiedName());
  if (AsciiLower(p.name) == word || AsciiLower(p.domain) == word) {
    score = std::max(score, 10.0);
    matched.push_back("name");
  } else if (Contains(name, word)) {
    score = std::max(score, 6.0);
    matched.push_back("name");
  }
  for (const auto& tag : p.tags) {
    std::string t = AsciiLower(tag);
    if (t == word || Contains(t, word)) {
      score = std::max(score, t == word ? 5.0 : 3.0);
      matched.push_back("tag:" + tag);
    }
  }
  for (const auto& port : p.outputs) {
    for (const auto& c : port.columns) {
      std::string column = AsciiLower(c.name);
      if (column == word || Contains(column, word)) {
        score = std::max(score, column == word ? 3.0 : 2.0);
        matched.push_back("column:" + port.name + "." + c.name);
      } else if (Contains(AsciiLower(c.description + " " + c.business_name), word)) {
        score = std::max(score, 1.0);
        matched.push_back("column description:" + port.name + "." + c.name);
      }
    }
    if (Contains(AsciiLower(port.description), word)) {
      score = std::max(score, 1.0);
      matched.push_back("port description:" + port.name);
    }
  }
  if (Contains(AsciiLower(p.purpose + " " + p.usage), word)) {
    score = std::max(score, 1.5);
    matched.push_back("description");
  }
  return score;
}

}  // namespace

std::vector<SearchHit> SearchProducts(const std::vector<catalog::ProductRecord>& products,
                                      const std::string& query) {
  std::vector<std::string> words;
  std::istringstream in(AsciiLower(query));
  for (std::string word; in >> word;) words.push_back(word);
  std::vector<SearchHit> hits;
  if (words.empty()) return hits;
  for (const auto& p : products) {
    SearchHit hit{&p, 0, {}};
    bool all = true;
    for (const auto& word : words) {
      double score = ScoreWord(p, word, hit.matched);
      all = all && score > 0;
      hit.score += score;
    }
    if (!all) continue;
    std::sort(hit.matched.begin(), hit.matched.end());
    hit.matched.erase(std::unique(hit.matched.begin(), hit.matched.end()), hit.matched.end());
    hits.push_back(std::move(hit));
  }
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.product->QualifiedName() < b.product->QualifiedName();
  });
  return hits;
}

}  // namespace plexus::server
