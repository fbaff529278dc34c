// File: plexus/pipeline/cdc_postgres_internal.h
//
// What the PostgreSQL change source (cdc_postgres.cc) converts, apart so it can be tested
// without a server. Not part of the module's interface.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "plexus/common/status.h"

namespace plexus::pipeline::postgres_internal {

/// "16/B374D848" -> its 64-bit value.
Result<uint64_t> ParseLsn(std::string_view text);
/// The other way: "16/B374D848".
std::string FormatLsn(uint64_t lsn);
/// A number's text as JSON: an integer when it is one (and fits in 64 bits), a double when it
/// holds the value exactly (up to 15 significant digits), else the text itself; NaN and the
/// infinities: null.
nlohmann::json NumberFromText(const std::string& text);
/// Parses JSON keeping numbers exact: a float with more significant digits than a double
/// holds becomes its text (a JSON string).
Result<nlohmann::json> ParseExact(const char* data, size_t size);
/// "2026-11-25 20:48:26.077566+00" (a UTC session's timestamptz) -> milliseconds since the
/// epoch; 0 when it is not one.
int64_t TimestampMillis(const std::string& text);
int64_t NowMillis();
/// A name for wal2json's add-tables: '.', ',', ' ', '\'' and '*' escaped.
std::string Wal2JsonName(const std::string& name);

}  // namespace plexus::pipeline::postgres_internal
