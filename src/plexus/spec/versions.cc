#include "plexus/spec/versions.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>

#include "plexus/common/text.h"

namespace plexus::spec {
namespace {

constexpr std::array<std::string_view, 5> kLifecycle = {"proposed", "draft", "active",
                                                        "deprecated", "retired"};

bool ParseNumber(std::string_view text, int& out) {
  if (text.empty() || text.size() > 9) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string Scalar(const YAML::Node& map, const char* key) {
  if (!map.IsMap()) return "";
  YAML::Node value = map[key];
  return value && value.IsScalar() ? value.Scalar() : "";
}

}  // namespace

std::string SemVer::ToString() const {
  std::string out = std::to_string(major) + "." + std::to_string(minor) + "." +
                    std::to_string(patch);
  return prerelease.empty() ? out : out + "-" + prerelease;
}

std::optional<SemVer> ParseSemVer(std::string_view text) {
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.remove_prefix(1);
  if (size_t plus = text.find('+'); plus != std::string_view::npos) text = text.substr(0, plus);
  SemVer v;
  if (size_t dash = text.find('-'); dash != std::string_view::npos) {
    v.prerelease = std::string(text.substr(dash + 1));
    text = text.substr(0, dash);
    if (v.prerelease.empty()) return std::nullopt;
  }
  int* parts[] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (!ParseNumber(part, *parts[i])) return std::nullopt;
    if (dot == std::string_view::npos) return v;
    if (i == 2) return std::nullopt;  // a fourth part
    text.remove_prefix(dot + 1);
  }
  return v;
}

int CompareSemVer(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.prerelease == b.prerelease) return 0;
  if (a.prerelease.empty()) return 1;
  if (b.prerelease.empty()) return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

int LifecycleRank(std::string_view status) {
  std::string lower = AsciiLower(status);
  for (size_t i = 0; i < kLifecycle.size(); ++i) {
    if (kLifecycle[i] == lower) return static_cast<int>(i);
  }
  return -1;
}

std::string LaterStatus(const std::string& a, const std::string& b) {
  return LifecycleRank(b) > LifecycleRank(a) ? b : a;
}

Status CheckStatusTransition(std::string_view from, std::string_view to, const std::string& what) {
  int a = LifecycleRank(from);
  int b = LifecycleRank(to);
  if (a < 0 || b < 0 || a == b) return Status::OK();
  constexpr int kActive = 2, kDeprecated = 3, kRetired = 4;
  bool allowed = a == kRetired ? false : b > a || (a == kDeprecated && b == kActive) || a < kActive;
  if (allowed) return Status::OK();
  std::string message = what + " cannot go from " + std::string(from) + " to " + std::string(to);
  if (a == kRetired) message += ": a retired version stays retired (publish a new major instead)";
  else message += ": the lifecycle runs draft, active, deprecated, retired";
  return FailedPrecondition(message);
}

ContractLifecycle ReadContractLifecycle(const std::string& contract_text) {
  ContractLifecycle out;
  YAML::Node root;
  try {
    root = YAML::Load(contract_text);
  } catch (const YAML::Exception&) {
    return out;
  }
  if (!root.IsMap()) return out;
  if (YAML::Node sla = root["slaProperties"]; sla && sla.IsSequence()) {
    for (const auto& item : sla) {
      std::string property = AsciiLower(Scalar(item, "property"));
      if (property == "endofsupport") out.end_of_support = Scalar(item, "value");
      if (property == "endoflife") out.end_of_life = Scalar(item, "value");
    }
  }
  YAML::Node custom = root["customProperties"];
  if (!custom || !custom.IsSequence()) return out;
  for (const auto& item : custom) {
    if (Scalar(item, "property") != "previousMajors") continue;
    YAML::Node list = item["value"];
    if (!list || !list.IsSequence()) continue;
    for (const auto& entry : list) {
      MajorLifecycle major;
      if (!ParseNumber(Scalar(entry, "major"), major.major)) continue;
      major.status = Scalar(entry, "status");
      major.end_of_support = Scalar(entry, "endOfSupport");
      major.end_of_life = Scalar(entry, "endOfLife");
      out.previous_majors.push_back(std::move(major));
    }
  }
  return out;
}

std::string StatusOn(const std::string& status, const std::string& end_of_support,
                     const std::string& end_of_life, const std::string& today) {
  auto reached = [&](const std::string& date) {
    return !date.empty() && date.substr(0, 10) <= today.substr(0, 10);
  };
  if (reached(end_of_life)) return "retired";
  if (reached(end_of_support) && LifecycleRank(status) < 3) return "deprecated";
  return status;
}

}  // namespace plexus::spec
