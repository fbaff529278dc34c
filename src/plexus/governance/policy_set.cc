// The mesh's policy set: the built-in pack, the global and the domain policy files, the mesh's
// settings and the domains' parameters, checked against the ranges the mesh allows; stored in
// the catalog as JSON with each apply.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "plexus/governance/governance.h"

namespace plexus::governance {

using nlohmann::json;

namespace {

void Report(std::vector<spec::Diagnostic>* problems, const spec::SourceLocation& at,
            const std::string& field, const std::string& message) {
  if (problems != nullptr) problems->push_back({at, field, message});
}

std::string Number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

/// The range a parameter allows, in words: "between 1 and 50", "one of [a, b]".
std::string RangeText(const spec::PolicyParameter& p) {
  if (p.min || p.max) {
    if (p.min && p.max) return "between " + Number(*p.min) + " and " + Number(*p.max);
    return p.min ? "at least " + Number(*p.min) : "at most " + Number(*p.max);
  }
  std::string text;
  for (const auto& a : p.allowed) text += (text.empty() ? "" : ", ") + a;
  return "made of [" + text + "]";
}

bool HasRange(const spec::PolicyParameter& p) { return p.min || p.max || !p.allowed.empty(); }

/// Why `value` may not be set for `p` (empty: it may). `floor` is the mesh's value: a list set
/// by a domain must keep every item of it (a domain tightens, it does not loosen).
std::string OutOfRange(const spec::PolicyParameter& p, const spec::PolicyValue& value,
                       const spec::PolicyValue* floor) {
  using Kind = spec::PolicyValue::Kind;
  if (value.kind != p.default_value.kind) {
    return "expected a value like " + p.default_value.ToString() + ", found " + value.ToString();
  }
  if (value.kind == Kind::kNumber) {
    if ((p.min && value.number < *p.min) || (p.max && value.number > *p.max)) {
      return Number(value.number) + " is outside the range the mesh allows: " + RangeText(p);
    }
    return "";
  }
  auto allowed = [&](const std::string& v) {
    return p.allowed.empty() || std::find(p.allowed.begin(), p.allowed.end(), v) != p.allowed.end();
  };
  if (value.kind == Kind::kText && !allowed(value.text)) {
    return value.text + " is not a value the mesh allows: " + RangeText(p);
  }
  if (value.kind == Kind::kList) {
    for (const auto& v : value.list) {
      if (!allowed(v)) return v + " is not a value the mesh allows: " + RangeText(p);
    }
    if (floor != nullptr) {
      for (const auto& v : floor->list) {
        if (std::find(value.list.begin(), value.list.end(), v) == value.list.end()) {
          return "it leaves out " + v + ": a domain may add to " + floor->ToString() +
                 ", not take from it";
        }
      }
    }
  }
  return "";
}

json ValueJson(const spec::PolicyValue& v) {
  using Kind = spec::PolicyValue::Kind;
  switch (v.kind) {
    case Kind::kNumber: return v.number;
    case Kind::kBool: return v.boolean;
    case Kind::kList: return v.list;
    case Kind::kText: break;
  }
  return v.text;
}

Result<spec::PolicyValue> ValueFromJson(const json& j) {
  spec::PolicyValue v;
  using Kind = spec::PolicyValue::Kind;
  if (j.is_number()) {
    v.kind = Kind::kNumber;
    v.number = j.get<double>();
  } else if (j.is_boolean()) {
    v.kind = Kind::kBool;
    v.boolean = j.get<bool>();
  } else if (j.is_array()) {
    v.kind = Kind::kList;
    v.list = j.get<std::vector<std::string>>();
  } else if (j.is_string()) {
    v.text = j.get<std::string>();
  } else {
    return InvalidArgument("a stored policy parameter has an unknown type");
  }
  return v;
}

json LocationJson(const spec::SourceLocation& at) {
  return {{"file", at.file}, {"line", at.line}, {"column", at.column}};
}

spec::SourceLocation LocationFromJson(const json& j) {
  return {j.value("file", ""), j.value("line", 0), j.value("column", 0)};
}

}  // namespace

const spec::Policy* PolicySet::Find(const std::string& id) const {
  for (const auto& p : policies) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

json PolicySet::ToJson() const {
  json out = {{"policies", json::array()}, {"domains", json::object()}, {"exemptions", json::array()}};
  for (const auto& p : policies) {
    json params = json::array();
    for (const auto& param : p.parameters) {
      json j = {{"name", param.name}, {"description", param.description},
                {"default", ValueJson(param.default_value)}, {"allowed", param.allowed}};
      if (param.min) j["min"] = *param.min;
      if (param.max) j["max"] = *param.max;
      params.push_back(std::move(j));
    }
    out["policies"].push_back({{"id", p.id}, {"title", p.title}, {"rationale", p.rationale},
                               {"severity", p.severity}, {"scope", p.scope},
                               {"enabled", p.enabled}, {"exemptible", p.exemptible},
                               {"quarantine", p.quarantine}, {"builtin", p.builtin},
                               {"parameters", params}, {"sql", p.sql},
                               {"location", LocationJson(p.location)},
                               {"sql_location", LocationJson(p.sql_location)}});
  }
  for (const auto& [domain, by_policy] : domain_parameters) {
    for (const auto& [policy, values] : by_policy) {
      for (const auto& [name, value] : values) out["domains"][domain][policy][name] = ValueJson(value);
    }
  }
  for (const auto& e : exemptions) {
    out["exemptions"].push_back({{"policy", e.policy}, {"entity", e.entity},
                                 {"justification", e.justification},
                                 {"approved_by", e.approved_by}, {"expires", e.expires},
                                 {"location", LocationJson(e.location)}});
  }
  return out;
}

Result<PolicySet> PolicySet::FromJson(const json& j) {
  PolicySet set;
  try {
    for (const auto& p : j.at("policies")) {
      spec::Policy policy;
      policy.id = p.at("id");
      policy.title = p.value("title", "");
      policy.rationale = p.value("rationale", "");
      policy.severity = p.value("severity", "warn");
      policy.scope = p.value("scope", "global");
      policy.enabled = p.value("enabled", true);
      policy.exemptible = p.value("exemptible", true);
      policy.quarantine = p.value("quarantine", false);
      policy.builtin = p.value("builtin", false);
      policy.sql = p.value("sql", "");
      policy.location = LocationFromJson(p.value("location", json::object()));
      policy.sql_location = LocationFromJson(p.value("sql_location", json::object()));
      for (const auto& param : p.value("parameters", json::array())) {
        spec::PolicyParameter parameter;
        parameter.name = param.at("name");
        parameter.description = param.value("description", "");
        PLEXUS_ASSIGN_OR_RETURN(parameter.default_value, ValueFromJson(param.at("default")));
        if (param.contains("min")) parameter.min = param["min"].get<double>();
        if (param.contains("max")) parameter.max = param["max"].get<double>();
        parameter.allowed = param.value("allowed", std::vector<std::string>{});
        policy.parameters.push_back(std::move(parameter));
      }
      set.policies.push_back(std::move(policy));
    }
    const json domains = j.value("domains", json::object());
    for (const auto& [domain, by_policy] : domains.items()) {
      for (const auto& [policy, values] : by_policy.items()) {
        for (const auto& [name, value] : values.items()) {
          PLEXUS_ASSIGN_OR_RETURN(set.domain_parameters[domain][policy][name], ValueFromJson(value));
        }
      }
    }
    for (const auto& e : j.value("exemptions", json::array())) {
      set.exemptions.push_back({e.at("policy"), e.at("entity"), e.value("justification", ""),
                                e.value("approved_by", ""), e.value("expires", ""),
                                LocationFromJson(e.value("location", json::object()))});
    }
  } catch (const json::exception& e) {
    return Internal(std::string("the catalog's stored policies cannot be read: ") + e.what());
  }
  return set;
}

Result<PolicySet> ResolvePolicies(const spec::Mesh& mesh, std::vector<spec::Diagnostic>* problems) {
  std::vector<spec::Diagnostic> local;
  std::vector<spec::Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PolicySet set;
  if (mesh.governance.builtin) set.policies = BuiltinPolicies();
  std::set<std::string> global_ids;
  for (const auto& p : set.policies) global_ids.insert(p.id);
  for (const auto& p : mesh.governance.policies) {
    if (global_ids.count(p.id)) {
      Report(sink, p.location, "policies.id",
             "policy id " + p.id + " is a built-in policy's: tune it in mesh.yaml "
             "governance.policies." + p.id + " or choose another id");
      continue;
    }
    global_ids.insert(p.id);
    set.policies.push_back(p);
  }

  // The mesh's settings: switch, re-grade and tune global policies.
  for (const auto& setting : mesh.governance.settings) {
    auto it = std::find_if(set.policies.begin(), set.policies.end(),
                           [&](const spec::Policy& p) { return p.id == setting.policy; });
    if (it == set.policies.end()) {
      Report(sink, setting.location, "governance.policies." + setting.policy,
             "no policy " + setting.policy + " (built-in or in the mesh's policy files)");
      continue;
    }
    if (setting.enabled) it->enabled = *setting.enabled;
    if (!setting.severity.empty()) it->severity = setting.severity;
    if (setting.exemptible) it->exemptible = *setting.exemptible;
    if (setting.quarantine) it->quarantine = *setting.quarantine;
    for (const auto& [name, value] : setting.parameters) {
      auto param = std::find_if(it->parameters.begin(), it->parameters.end(),
                                [&](const spec::PolicyParameter& p) { return p.name == name; });
      auto at = setting.parameter_locations.count(name) ? setting.parameter_locations.at(name)
                                                        : setting.location;
      std::string field = "governance.policies." + setting.policy + ".parameters." + name;
      if (param == it->parameters.end()) {
        Report(sink, at, field, "policy " + setting.policy + " has no parameter " + name);
        continue;
      }
      if (value.kind != param->default_value.kind) {
        Report(sink, at, field, OutOfRange(*param, value, nullptr));
        continue;
      }
      param->default_value = value;  // the mesh sets the value; the range stays the author's
    }
  }

  // The domains: their own policies, and parameters of the others within the ranges.
  for (const auto& domain : mesh.domains) {
    for (const auto& p : domain.policies) {
      if (global_ids.count(p.id)) {
        Report(sink, p.location, "policies.id",
               "policy id " + p.id + " is a global policy's: a domain may not redefine or "
               "weaken it (set its parameters in domain.yaml governance.parameters, within "
               "the mesh's ranges)");
        continue;
      }
      spec::Policy own = p;
      own.scope = domain.name;
      set.policies.push_back(std::move(own));
    }
    for (const auto& setting : domain.policy_settings) {
      const spec::Policy* policy = nullptr;
      for (const auto& p : set.policies) {
        if (p.id == setting.policy && (p.scope == "global" || p.scope == domain.name)) policy = &p;
      }
      std::string base = "governance.parameters." + setting.policy;
      if (policy == nullptr) {
        Report(sink, setting.location, base, "no policy " + setting.policy + " applies to domain " +
                                                 domain.name);
        continue;
      }
      for (const auto& [name, value] : setting.parameters) {
        auto at = setting.parameter_locations.count(name) ? setting.parameter_locations.at(name)
                                                          : setting.location;
        auto param = std::find_if(policy->parameters.begin(), policy->parameters.end(),
                                  [&](const spec::PolicyParameter& p) { return p.name == name; });
        if (param == policy->parameters.end()) {
          Report(sink, at, base + "." + name, "policy " + setting.policy + " has no parameter " + name);
          continue;
        }
        if (policy->scope == "global" && !HasRange(*param)) {
          Report(sink, at, base + "." + name,
                 "the mesh does not let domains set " + name + " of " + setting.policy +
                     " (it has no range)");
          continue;
        }
        std::string why = OutOfRange(*param, value,
                                     policy->scope == "global" ? &param->default_value : nullptr);
        if (!why.empty()) {
          Report(sink, at, base + "." + name, why);
          continue;
        }
        set.domain_parameters[domain.name][setting.policy][name] = value;
      }
    }
  }

  for (const auto& e : mesh.governance.exemptions) {
    const spec::Policy* policy = set.Find(e.policy);
    if (policy == nullptr) {
      Report(sink, e.location, "exemptions.policy", "no policy " + e.policy);
      continue;
    }
    if (!policy->exemptible) {
      Report(sink, e.location, "exemptions.policy",
             "policy " + e.policy + " is not exemptible: no exemption applies to it");
      continue;
    }
    set.exemptions.push_back(e);
  }
  std::sort(set.policies.begin(), set.policies.end(),
            [](const spec::Policy& a, const spec::Policy& b) { return a.id < b.id; });
  PLEXUS_RETURN_IF_ERROR(spec::ProblemsStatus(*sink, first));
  return set;
}

int SeverityWeight(const std::string& severity) {
  if (severity == "block") return 3;
  if (severity == "warn") return 2;
  return 1;
}

}  // namespace plexus::governance
