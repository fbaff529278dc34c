// File: plexus/discovery/search_json.h
//
// A search response as the API and `plexus search --format json` answer it: highlights as
// HTML-escaped text with <mark> around the matches.
#pragma once

#include <nlohmann/json.hpp>

#include "plexus/discovery/search.h"

namespace plexus::discovery {

/// One result, named as in the products API: name (domain.product), id (ODPS), domain,
/// status, tags, ports, score, relevance, trust, usage
/// {queries_30d, readers_30d}, highlights [{field, text}].
nlohmann::json SearchResultJson(const SearchResult& result);
/// Everything but the results: total, facets {facet: [{value, count}]}, terms, corrections,
/// ignored.
nlohmann::json SearchResponseJson(const SearchResponse& response);

}  // namespace plexus::discovery
