// File: plexus/server/product_json.h
//
// How products look in the HTTP API: a summary for lists, a detail with ports, columns,
// inputs and recent runs, one port, one port version, one column. One place, so every route
// and version of the API agrees, and the one place that builds ids and URLs.
//
// The addressing scheme (src/plexus/server/README.md): each thing has a stable id, the SQL name
// it already has where it has one, and a stable URL (`self` in its JSON):
//
//   product   ODPS id (`name`: domain.product)  /api/v1/products/{domain.product}
//   port      domain.product.port               /api/v1/products/{domain.product}/ports/{port}
//   version   domain.product.port@vN            .../ports/{port}/versions/{N}
//   column    domain.product.port.column        .../ports/{port}/columns/{column}
//
// A version's SQL name is domain.product.port__vN; `{ref}` in a URL is the product's id or
// domain.product alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"

namespace plexus::server {

/// Ids and URLs of the addressing scheme; `product` is domain.product. URLs are paths under
/// the server's root, each segment percent-encoded.
namespace address {
std::string ProductUrl(std::string_view product);
std::string PortId(std::string_view product, std::string_view port);
std::string PortUrl(std::string_view product, std::string_view port);
std::string VersionId(std::string_view product, std::string_view port, int major);
std::string VersionUrl(std::string_view product, std::string_view port, int major);
std::string ColumnId(std::string_view product, std::string_view port, std::string_view column);
std::string ColumnUrl(std::string_view product, std::string_view port, std::string_view column);
}  // namespace address

nlohmann::json ProductSummaryJson(const catalog::ProductRecord& product);
nlohmann::json ProductDetailJson(const catalog::ProductRecord& product,
                                 const std::vector<catalog::RunRecord>& runs);

/// The majors of output port `port` of `product`, newest first (empty: no such port).
std::vector<const catalog::OutputPortRecord*> PortMajors(const catalog::ProductRecord& product,
                                                         std::string_view port);
/// The major the plain SQL name serves: the newest one not retired (else the newest).
/// `majors` as PortMajors returns them, not empty.
const catalog::OutputPortRecord& ServedMajor(
    const std::vector<const catalog::OutputPortRecord*>& majors);

/// One port: its id, URL and SQL name, the served major's fields and columns, and every major
/// as a version (id, self, major, version, status, sql_name). `majors` as PortMajors returns.
nlohmann::json PortDetailJson(const catalog::ProductRecord& product,
                              const std::vector<const catalog::OutputPortRecord*>& majors);
/// One port major as applied (its lifecycle), with the columns of `port` when not null.
nlohmann::json PortVersionJson(const catalog::ProductRecord& product,
                               const catalog::PortVersionRecord& version,
                               const catalog::OutputPortRecord* port);
/// One column of a port: id, self, type, constraints, classification, description, business
/// name and glossary terms.
nlohmann::json ColumnJson(const catalog::OutputPortRecord& port,
                          const catalog::ColumnRecord& column);

/// The product's current trust score (observe::TrustScoreJson), or null when none was computed
/// (or it cannot be read: the score is an addition, never a reason to fail an answer).
nlohmann::json ProductTrustJson(const catalog::Catalog& catalog, const std::string& product_id);

}  // namespace plexus::server
