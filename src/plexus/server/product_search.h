// File: plexus/server/product_search.h
//
// Finding data products by words: the one ranking function behind GET /api/v1/search (issue 4
// replaces the ranking; callers only see SearchProducts). It ranks what it is given: pass it
// only the products the caller may see, hidden ports already left out.
#pragma once

#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"

namespace plexus::server {

struct SearchHit {
  const catalog::ProductRecord* product = nullptr;  ///< points into the searched list
  double score = 0;
  std::vector<std::string> matched;  ///< where the words matched: name, tag:x, column:port.col
};

/// The products matching `query` (words, case-insensitive; every word must match somewhere),
/// best first: a word in the product's name weighs most, then tags, column names, and the
/// purpose and descriptions. Ties by name. An empty query matches nothing.
std::vector<SearchHit> SearchProducts(const std::vector<catalog::ProductRecord>& products,
                                      const std::string& query);

}  // namespace plexus::server
