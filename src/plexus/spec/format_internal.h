// File: plexus/spec/format_internal.h
//
// Private to the spec module: the canonical key order `plexus fmt` writes (format_order.cc)
// and the value checks that walk a document with the same object table (schema_formats.cc).
#pragma once

#include <string_view>

#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec::internal {

/// The keys of `object` ("odcs", "odcs.property", "server", "odps.outputPort"...) in the order
/// the standard lists them; nullptr for an object whose keys keep their written order.
const KeyList* KeyOrderOf(std::string_view object);

/// The object that `key` of a `parent` object holds (for a list: each item); "" when none.
std::string_view ObjectUnder(std::string_view parent, std::string_view key, bool is_list);

/// The value checks of the official schemas the typed readers leave out (schema_formats.cc):
/// formats (date, date-time, uri), StableId patterns, logicalTypeOptions value types.
/// `document` is "odcs" or "odps".
void CheckValueFormats(YamlReader& r, const YAML::Node& root, std::string_view document);

}  // namespace plexus::spec::internal
