// File: plexus/server/product_json.h
//
// How products look in the HTTP API: a summary for lists, a detail with ports, columns,
// inputs and recent runs. One place, so every route and version of the API agrees.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"

namespace plexus::server {

nlohmann::json ProductSummaryJson(const catalog::ProductRecord& product);
nlohmann::json ProductDetailJson(const catalog::ProductRecord& product,
                                 const std::vector<catalog::RunRecord>& runs);

}  // namespace plexus::server
