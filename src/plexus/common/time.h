// File: plexus/common/time.h
//
// The catalog's times as numbers. The catalog writes UTC times as ISO 8601 text
// ("2026-11-25T23:50:01.123Z", catalog::NowUtc); the CLI, the scheduler and /metrics read
// them back as seconds since the epoch through this one function.
#pragma once

#include <optional>
#include <string>

namespace plexus {

/// Seconds since the epoch of a UTC time "YYYY-MM-DDTHH:MM:SS" with optional ".mmm"
/// milliseconds (what follows is ignored); std::nullopt when `iso` does not start with one.
std::optional<double> UtcSeconds(const std::string& iso);

}  // namespace plexus
