// File: plexus/spec/parse_policy.cc
//
// Governance as a mesh writes it (docs/governance.md): policy files (`kind: Policies`, named by
// mesh.yaml's or a domain.yaml's `policies`), mesh.yaml `governance` (switching and tuning
// policies) and domain.yaml `governance` (parameters only). A policy is SQL over the catalog's
// views; running it is the governance module's work, reading and checking it per file is here.
//
//   apiVersion: plexus/v1
//   kind: Policies
//   policies:
//     - id: purpose-length                  # [a-z][a-z0-9-]*, at most 63; required
//       title: Products explain their purpose   # required
//       severity: warn                      # block | warn | info
//       parameters:
//         min_length: {default: 20, min: 10, max: 200}
//       sql: SELECT ... AS entity, ... AS message FROM products WHERE ...   # required
//   exemptions:                             # global files only
//     - policy: purpose-length
//       entity: marketing.customer_lifetime_value
//       justification: Rewritten next sprint.
//       approvedBy: governance-board
//       expires: 2027-01-31                 # or 2027-01-31T12:00:00Z
#include <algorithm>
#include <charconv>
#include <chrono>
#include <regex>

#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {
namespace {

/// The shortest text that reads back as `number`: 10, 2.5, 1e+21.
std::string NumberText(double number) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), number);
  return std::string(buffer, end);
}

/// The policy file in `doc`, or the status of the problems added to `sink` from `first` on.
Result<PolicyFile> CheckedPolicyFile(const internal::YamlDocument& doc, const std::string& scope,
                                     std::vector<Diagnostic>* sink, size_t first) {
  internal::PolicyIds defined;
  PolicyFile file = internal::ReadPolicies(doc, scope, &defined, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return file;
}

}  // namespace

std::string PolicyValue::ToString() const {
  switch (kind) {
    case Kind::kNumber:
      return NumberText(number);
    case Kind::kBool:
      return boolean ? "true" : "false";
    case Kind::kList: {
      std::string out = "[";
      for (const std::string& item : list) {
        if (out.size() > 1) out += ", ";
        out += item;
      }
      return out + "]";
    }
    case Kind::kText:
      break;
  }
  return text;
}

namespace internal {
namespace {

const KeyList kPolicyFileKeys = {"apiVersion", "kind", "policies", "exemptions"};
const KeyList kPolicyKeys = {"id",         "title",      "rationale",  "severity", "enabled",
                             "exemptible", "quarantine", "parameters", "sql"};
const KeyList kParameterKeys = {"description", "default", "min", "max", "allowed"};
const KeyList kExemptionKeys = {"policy", "entity", "justification", "approvedBy", "expires"};
const KeyList kSeverities = {"block", "warn", "info"};
const KeyList kMeshGovernanceKeys = {"builtin", "policies"};
const KeyList kSettingKeys = {"enabled", "severity", "exemptible", "quarantine", "parameters"};
constexpr std::string_view kGlobalScope = "global";

using Entry = std::pair<YAML::Node, YAML::Node>;

/// True when `name` is a lower-case letter followed by lower-case letters, digits and
/// `separator`.
bool IsLowerName(const std::string& name, char separator) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == separator)) return false;
  }
  return true;
}

bool IsPolicyId(const std::string& id) { return id.size() <= 63 && IsLowerName(id, '-'); }

/// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS(.fff)Z, naming a day of the calendar.
bool IsExpiry(const std::string& text) {
  static const std::regex kExpiry(
      "([0-9]{4})-([0-9]{2})-([0-9]{2})"
      "(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?Z)?");
  std::smatch m;
  if (!std::regex_match(text, m, kExpiry)) return false;
  std::chrono::year_month_day day{std::chrono::year(std::stoi(m[1])),
                                  std::chrono::month(static_cast<unsigned>(std::stoi(m[2]))),
                                  std::chrono::day(static_cast<unsigned>(std::stoi(m[3])))};
  return day.ok();
}

/// A scalar written without quotes or a tag, which YAML may read as a number or a boolean.
bool IsPlain(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

std::string_view KindWord(PolicyValue::Kind kind) {
  switch (kind) {
    case PolicyValue::Kind::kNumber:
      return "a number";
    case PolicyValue::Kind::kBool:
      return "a boolean";
    case PolicyValue::Kind::kList:
      return "a list";
    case PolicyValue::Kind::kText:
      break;
  }
  return "text";
}

/// Where the key `key` of `map` is written (the map's location when absent).
SourceLocation KeyLocation(const YamlReader& r, const YAML::Node& map, std::string_view key) {
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return r.LocationOf(entry.first);
  }
  return r.LocationOf(map);
}

/// The entries of a map keyed by names the document chooses (policy ids, parameter names):
/// duplicate and non-text keys are reported, and only each key's first entry is returned.
std::vector<Entry> DistinctEntries(YamlReader& r, const YAML::Node& map, const std::string& path) {
  r.CheckKeys(map, path, {}, {});
  std::vector<Entry> out;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) continue;
    auto same = [&](const Entry& seen) { return seen.first.Scalar() == entry.first.Scalar(); };
    if (std::none_of(out.begin(), out.end(), same)) out.emplace_back(entry.first, entry.second);
  }
  return out;
}

/// A parameter value: a plain scalar YAML reads as a boolean or a number is one, any other
/// scalar is text, a list of scalars is a list of texts. `at` is where the value is written (its
/// key when it is empty).
bool ReadPolicyValue(YamlReader& r, const YAML::Node& node, const SourceLocation& at,
                     const std::string& field, PolicyValue* out) {
  if (node.IsSequence()) {
    out->kind = PolicyValue::Kind::kList;
    size_t index = 0;
    bool ok = true;
    for (const auto& item : node) {
      if (item.IsScalar()) {
        out->list.push_back(item.Scalar());
      } else {
        r.Report(item, ItemPath(field, index),
                 "expected text, found " + std::string(KindName(item)));
        ok = false;
      }
      ++index;
    }
    return ok;
  }
  if (!node.IsScalar()) {
    r.Report(at, field,
             "expected a number, text, true or false, or a list of texts, found " +
                 std::string(KindName(node)));
    return false;
  }
  if (IsPlain(node) && YAML::convert<bool>::decode(node, out->boolean)) {
    out->kind = PolicyValue::Kind::kBool;
  } else if (IsPlain(node) && YAML::convert<double>::decode(node, out->number)) {
    out->kind = PolicyValue::Kind::kNumber;
  } else {
    out->kind = PolicyValue::Kind::kText;
    out->text = node.Scalar();
  }
  return true;
}

/// `min` and `max` of a parameter: numbers, for a number parameter, around its default.
void ReadRange(YamlReader& r, const YAML::Node& spec, const std::string& path, bool has_default,
               PolicyParameter* out) {
  const PolicyValue& value = out->default_value;
  for (std::string_view key : {"min", "max"}) {
    if (!r.Number(spec, key, path)) continue;
    if (has_default && value.kind != PolicyValue::Kind::kNumber) {
      r.Report(r.ValueLocation(spec, key), FieldPath(path, key),
               std::string(key) + " applies to number parameters only (the default is " +
                   std::string(KindWord(value.kind)) + ")");
      continue;
    }
    (key == "min" ? out->min : out->max) = r.Find(spec, key).as<double>();
  }
  if (out->min && out->max && *out->min > *out->max) {
    r.Report(r.ValueLocation(spec, "min"), FieldPath(path, "min"),
             "min " + NumberText(*out->min) + " is above max " + NumberText(*out->max));
  }
  if (!has_default || value.kind != PolicyValue::Kind::kNumber) return;
  SourceLocation at = r.ValueLocation(spec, "default");
  if (out->min && value.number < *out->min) {
    r.Report(at, FieldPath(path, "default"),
             "default " + value.ToString() + " is below min " + NumberText(*out->min));
  }
  if (out->max && value.number > *out->max) {
    r.Report(at, FieldPath(path, "default"),
             "default " + value.ToString() + " is above max " + NumberText(*out->max));
  }
}

/// `allowed` of a parameter: texts, for a text or list parameter, that include its default.
void ReadAllowed(YamlReader& r, const YAML::Node& spec, const std::string& path, bool has_default,
                 PolicyParameter* out) {
  if (!r.Find(spec, "allowed").IsDefined()) return;
  r.TextList(spec, "allowed", path, &out->allowed);
  if (!has_default) return;
  const PolicyValue& value = out->default_value;
  if (value.kind == PolicyValue::Kind::kNumber || value.kind == PolicyValue::Kind::kBool) {
    r.Report(r.ValueLocation(spec, "allowed"), FieldPath(path, "allowed"),
             "allowed applies to text and list parameters only (the default is " +
                 std::string(KindWord(value.kind)) + ")");
    return;
  }
  KeyList allowed(out->allowed.begin(), out->allowed.end());
  std::vector<std::string> values =
      value.kind == PolicyValue::Kind::kList ? value.list : std::vector<std::string>{value.text};
  for (const std::string& item : values) {
    if (Contains(allowed, item)) continue;
    r.Report(r.ValueLocation(spec, "default"), FieldPath(path, "default"),
             "'" + item + "' is not among the allowed values (" + JoinKeys(allowed) + ")");
  }
}

void ReadParameter(YamlReader& r, const Entry& entry, const std::string& path,
                   PolicyParameter* out) {
  out->name = entry.first.Scalar();
  out->location = r.LocationOf(entry.first);
  if (!IsLowerName(out->name, '_')) {
    r.Report(entry.first, path,
             "'" + out->name +
                 "' is not a valid parameter name (lowercase letters, digits and _, starting "
                 "with a letter)");
  }
  const YAML::Node& spec = entry.second;
  if (!r.ExpectMap(spec, path)) return;
  r.CheckKeys(spec, path, kParameterKeys, {"default"});
  r.Text(spec, "description", path, &out->description);
  YAML::Node value = r.Find(spec, "default");
  bool has_default =
      value.IsDefined() && ReadPolicyValue(r, value, r.ValueLocation(spec, "default"),
                                           FieldPath(path, "default"), &out->default_value);
  ReadRange(r, spec, path, has_default, out);
  ReadAllowed(r, spec, path, has_default, out);
}

/// A policy's id: well formed, and not defined before (in this file or another of the mesh).
void ReadPolicyId(YamlReader& r, const YAML::Node& node, const std::string& path,
                  PolicyIds* defined, std::string* id) {
  if (!r.NonEmptyText(node, "id", path, id)) return;
  SourceLocation at = r.ValueLocation(node, "id");
  std::string field = FieldPath(path, "id");
  if (!IsPolicyId(*id)) {
    r.Report(at, field,
             "'" + *id +
                 "' is not a valid policy id (lowercase letters, digits and -, starting with a "
                 "letter, at most 63 characters)");
    return;
  }
  auto [first, inserted] = defined->emplace(*id, at);
  if (!inserted) {
    r.Report(at, field,
             "policy id '" + *id + "' is already defined in " + first->second.file + ":" +
                 std::to_string(first->second.line));
  }
}

void ReadPolicy(YamlReader& r, const YAML::Node& node, const std::string& path, PolicyIds* defined,
                Policy* out) {
  r.CheckKeys(node, path, kPolicyKeys, {"id", "title", "sql"});
  out->location = r.LocationOf(node);
  ReadPolicyId(r, node, path, defined, &out->id);
  r.NonEmptyText(node, "title", path, &out->title);
  r.Text(node, "rationale", path, &out->rationale);
  std::string severity;
  if (r.Enum(node, "severity", path, kSeverities, &severity)) out->severity = severity;
  r.Bool(node, "enabled", path, &out->enabled);
  r.Bool(node, "exemptible", path, &out->exemptible);
  r.Bool(node, "quarantine", path, &out->quarantine);
  YAML::Node parameters = r.Find(node, "parameters");
  std::string field = FieldPath(path, "parameters");
  if (parameters.IsDefined() && r.ExpectMap(parameters, field)) {
    for (const Entry& entry : DistinctEntries(r, parameters, field)) {
      PolicyParameter parameter;
      ReadParameter(r, entry, FieldPath(field, entry.first.Scalar()), &parameter);
      out->parameters.push_back(std::move(parameter));
    }
  }
  if (r.NonEmptyText(node, "sql", path, &out->sql))
    out->sql_location = r.ValueLocation(node, "sql");
}

void ReadExemptions(YamlReader& r, const YAML::Node& root, const std::string& scope,
                    std::vector<Exemption>* out) {
  if (!r.Find(root, "exemptions").IsDefined()) return;
  if (scope != kGlobalScope) {
    r.Report(KeyLocation(r, root, "exemptions"), "exemptions",
             "exemptions are approved in the mesh's governance files, not in a domain's");
    return;
  }
  std::vector<YAML::Node> items = r.List(root, "exemptions", "");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = ItemPath("exemptions", i);
    if (!r.ExpectMap(items[i], path)) continue;
    r.CheckKeys(items[i], path, kExemptionKeys, kExemptionKeys);
    Exemption exemption;
    exemption.location = r.LocationOf(items[i]);
    r.NonEmptyText(items[i], "policy", path, &exemption.policy);
    r.NonEmptyText(items[i], "entity", path, &exemption.entity);
    r.NonEmptyText(items[i], "justification", path, &exemption.justification);
    r.NonEmptyText(items[i], "approvedBy", path, &exemption.approved_by);
    if (r.NonEmptyText(items[i], "expires", path, &exemption.expires) &&
        !IsExpiry(exemption.expires)) {
      r.Report(r.ValueLocation(items[i], "expires"), FieldPath(path, "expires"),
               "'" + exemption.expires +
                   "' is not a date (YYYY-MM-DD) or a UTC date-time (YYYY-MM-DDTHH:MM:SSZ)");
    }
    out->push_back(std::move(exemption));
  }
}

/// The values of a map of parameters (`{min_length: 30}`) into `setting`.
void ReadParameterValues(YamlReader& r, const YAML::Node& node, const std::string& field,
                         PolicySetting* setting) {
  if (!r.ExpectMap(node, field)) return;
  for (const Entry& entry : DistinctEntries(r, node, field)) {
    std::string name = entry.first.Scalar();
    SourceLocation at = r.LocationOf(entry.second.IsNull() ? entry.first : entry.second);
    PolicyValue value;
    if (!ReadPolicyValue(r, entry.second, at, FieldPath(field, name), &value)) continue;
    setting->parameters[name] = std::move(value);
    setting->parameter_locations[name] = at;
  }
}

void OptionalBool(YamlReader& r, const YAML::Node& map, std::string_view key,
                  const std::string& path, std::optional<bool>* out) {
  bool value = false;
  if (r.Bool(map, key, path, &value)) *out = value;
}

/// One entry of mesh.yaml `governance.policies`: a bare on/off, or a map of settings.
void ReadMeshSetting(YamlReader& r, const Entry& entry, const std::string& path,
                     PolicySetting* out) {
  const YAML::Node& node = entry.second;
  bool on = false;
  if (IsPlain(node) && YAML::convert<bool>::decode(node, on)) {
    out->enabled = on;
    return;
  }
  if (!node.IsMap()) {
    std::string found = node.IsScalar() ? "'" + node.Scalar() + "'" : std::string(KindName(node));
    r.Report(r.LocationOf(node.IsNull() ? entry.first : node), path,
             "expected on, off or a map of settings, found " + found);
    return;
  }
  r.CheckKeys(node, path, kSettingKeys, {});
  OptionalBool(r, node, "enabled", path, &out->enabled);
  std::string severity;
  if (r.Enum(node, "severity", path, kSeverities, &severity)) out->severity = severity;
  OptionalBool(r, node, "exemptible", path, &out->exemptible);
  OptionalBool(r, node, "quarantine", path, &out->quarantine);
  YAML::Node parameters = r.Find(node, "parameters");
  if (parameters.IsDefined()) {
    ReadParameterValues(r, parameters, FieldPath(path, "parameters"), out);
  }
}

}  // namespace

PolicyFile ReadPolicies(const YamlDocument& doc, const std::string& scope, PolicyIds* defined,
                        std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  PolicyFile file;
  file.location = SourceLocation{doc.file, 1, 1};
  if (!r.ExpectDocument(doc.root)) return file;
  r.CheckKeys(doc.root, "", kPolicyFileKeys, {"apiVersion", "kind"});
  CheckPlexusHeader(r, doc.root, "Policies");
  std::vector<YAML::Node> items = r.List(doc.root, "policies", "");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = ItemPath("policies", i);
    if (!r.ExpectMap(items[i], path)) continue;
    Policy policy;
    policy.scope = scope;
    ReadPolicy(r, items[i], path, defined, &policy);
    file.policies.push_back(std::move(policy));
  }
  ReadExemptions(r, doc.root, scope, &file.exemptions);
  return file;
}

void ReadMeshGovernance(YamlReader& r, const YAML::Node& root, MeshGovernance* out) {
  YAML::Node node = r.Find(root, "governance");
  if (!node.IsDefined() || !r.ExpectMap(node, "governance")) return;
  r.CheckKeys(node, "governance", kMeshGovernanceKeys, {});
  r.Bool(node, "builtin", "governance", &out->builtin);
  YAML::Node policies = r.Find(node, "policies");
  if (!policies.IsDefined() || !r.ExpectMap(policies, "governance.policies")) return;
  for (const Entry& entry : DistinctEntries(r, policies, "governance.policies")) {
    PolicySetting setting;
    setting.policy = entry.first.Scalar();
    setting.location = r.LocationOf(entry.first);
    ReadMeshSetting(r, entry, FieldPath("governance.policies", setting.policy), &setting);
    out->settings.push_back(std::move(setting));
  }
}

void ReadDomainGovernance(YamlReader& r, const YAML::Node& root, std::vector<PolicySetting>* out) {
  YAML::Node node = r.Find(root, "governance");
  if (!node.IsDefined() || !r.ExpectMap(node, "governance")) return;
  for (const Entry& entry : DistinctEntries(r, node, "governance")) {
    if (entry.first.Scalar() == "parameters") continue;
    r.Report(entry.first, FieldPath("governance", entry.first.Scalar()),
             "a domain sets parameters only; switching or re-grading policies is the mesh's");
  }
  YAML::Node parameters = r.Find(node, "parameters");
  if (!parameters.IsDefined() || !r.ExpectMap(parameters, "governance.parameters")) return;
  for (const Entry& entry : DistinctEntries(r, parameters, "governance.parameters")) {
    PolicySetting setting;
    setting.policy = entry.first.Scalar();
    setting.location = r.LocationOf(entry.first);
    ReadParameterValues(r, entry.second, FieldPath("governance.parameters", setting.policy),
                        &setting);
    out->push_back(std::move(setting));
  }
}

}  // namespace internal

Result<PolicyFile> ParsePolicyFile(const std::string& path, const std::string& scope,
                                   std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::LoadYaml(path, sink));
  return CheckedPolicyFile(doc, scope, sink, first);
}

Result<PolicyFile> ParsePolicyText(const std::string& text, const std::string& name,
                                   const std::string& scope, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::ParseYamlText(text, name, sink));
  return CheckedPolicyFile(doc, scope, sink, first);
}

}  // namespace plexus::spec
