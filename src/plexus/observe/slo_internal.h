// File: plexus/observe/slo_internal.h (observe-internal)
//
// Text helpers the SLO evaluation and its tests share: clock times, offsets and the wording of
// durations in a status's detail.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace plexus::observe {

/// A UTC offset at text[pos] ("Z", "+02:00", "-0530", "+02"; nothing: 0) in seconds east of
/// UTC; std::nullopt when something else follows.
std::optional<double> ParseOffset(const std::string& text, size_t pos);
/// "HH:MM[:SS[.fff]]" at text[pos] in seconds after midnight; `end` is set past it.
std::optional<double> ParseClock(const std::string& text, size_t pos, size_t* end);
/// A duration as a person reads it: "45 seconds", "20 minutes", "3.5 hours", "2.0 days".
std::string Human(double seconds);
/// Seconds after midnight as "HH:MM".
std::string ClockText(double seconds_of_day);
/// "99.5%".
std::string Percent(double value);

}  // namespace plexus::observe
