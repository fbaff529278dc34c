// File: plexus/spec/versions.h
//
// Semantic versions of ports and contracts, and the lifecycle of a product or a port's major
// version: the status order (proposed, draft, active, deprecated, retired), which moves between
// them are allowed, and the end-of-support / end-of-life dates a contract declares.
//
//   auto v = ParseSemVer("2.1.0");          // {2, 1, 0}
//   if (CompareSemVer(*v, *old) > 0) ...
//   Status moved = CheckStatusTransition("retired", "active", "product orders.orders");
//
// Thread safety: free functions over values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"

namespace plexus::spec {

/// MAJOR.MINOR.PATCH[-prerelease][+build]; a leading "v" and a missing minor/patch are accepted.
struct SemVer {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string prerelease;  ///< after '-', without the build metadata

  std::string ToString() const;
};

/// nullopt when `text` is not a semantic version.
std::optional<SemVer> ParseSemVer(std::string_view text);
/// <0, 0, >0 as `a` is older than, the same as, or newer than `b` (build metadata ignored; a
/// prerelease is older than its release, prereleases compare as text).
int CompareSemVer(const SemVer& a, const SemVer& b);

/// Rank of a lifecycle status: proposed 0, draft 1, active 2, deprecated 3, retired 4;
/// -1 for an empty or unknown status (free text in ODCS, e.g. "production").
int LifecycleRank(std::string_view status);
/// The later of two statuses in the lifecycle (a retired product retires its ports).
std::string LaterStatus(const std::string& a, const std::string& b);
/// OK when a product or port may move from `from` to `to`: forward moves, and deprecated back
/// to active (a reprieve). Refused: leaving retired, going back to draft/proposed from active
/// or later. `what` names the thing in the message ("product orders.orders").
Status CheckStatusTransition(std::string_view from, std::string_view to, const std::string& what);

/// How long a major version is served, from its contract (docs/mesh-format.md, "Versions").
struct MajorLifecycle {
  int major = 0;
  std::string status;          ///< empty: unchanged
  std::string end_of_support;  ///< ISO date: deprecated from this day on
  std::string end_of_life;     ///< ISO date: retired (no longer served) from this day on
};

/// What a contract's text says about lifecycle: its own slaProperties `endOfSupport` and
/// `endOfLife`, and the customProperties entry `previousMajors` (a list of {major, status,
/// endOfSupport, endOfLife}) about the majors it supersedes. Unreadable parts are left out:
/// the contract has been validated before.
struct ContractLifecycle {
  std::string end_of_support;
  std::string end_of_life;
  std::vector<MajorLifecycle> previous_majors;
};
ContractLifecycle ReadContractLifecycle(const std::string& contract_text);

/// The lifecycle status on `today` (YYYY-MM-DD...): retired when `end_of_life` is on or before
/// it, deprecated when `end_of_support` is, else `status`.
std::string StatusOn(const std::string& status, const std::string& end_of_support,
                     const std::string& end_of_life, const std::string& today);

}  // namespace plexus::spec
