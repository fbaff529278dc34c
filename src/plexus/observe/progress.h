// File: plexus/observe/progress.h
//
// The text of a terminal progress bar for long CLI operations (plexus run, ingest, backfill):
//
//   [##########..........]  50%  1.2M rows  350k rows/s  ETA 12s
//
// Pure formatting: the CLI's ProgressLine (cli/common.cc) draws it on stderr, in place, only
// when stderr is a terminal. Thread safety: every function is pure.
#pragma once

#include <cstdint>
#include <string>

namespace plexus::observe {

/// What is known of an operation's progress; unknown parts are negative.
struct ProgressFigures {
  double fraction = -1;   ///< 0 to 1 done; < 0: unknown (no bar, no ETA unless eta_s is set)
  int64_t done = -1;      ///< units done (rows, events, bytes); < 0: unknown
  int64_t total = -1;     ///< units in all; < 0: unknown
  double elapsed_s = 0;   ///< since the operation (or the statement) started
  double eta_s = -1;      ///< an estimate from elsewhere (a previous run); < 0: from fraction
  std::string unit = "rows";
};

/// The bar, the percentage, the count done, the rate and the ETA, each left out when unknown;
/// `bar_width` is the number of cells between the brackets (0: no bar).
std::string FormatProgress(const ProgressFigures& figures, int bar_width);

/// "[#####.....]": `fraction` (clamped to 0..1) of `width` cells filled.
std::string FormatBar(double fraction, int width);
/// 950, 12.3k, 4.5M, 1.2G (units of 1000).
std::string FormatCount(double count);
/// "350k rows/s"; "" when `seconds` is too short to tell.
std::string FormatRate(double count, double seconds, const std::string& unit);
/// "12s", "3m05s", "2h07m".
std::string FormatDuration(double seconds);
/// Seconds left at this pace: elapsed * (1 - fraction) / fraction; -1 when it cannot tell.
double EstimateRemaining(double fraction, double elapsed_s);

}  // namespace plexus::observe
