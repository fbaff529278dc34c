// The access model's resolution rules: a column's effective mask and a port's visibility, from
// what the contract says and the mesh's defaults (mesh.yaml `access`).
#include "plexus/common/text.h"
#include "plexus/spec/model.h"

namespace plexus::spec {

std::string EffectiveMask(const MeshAccess& access, const Property& property,
                          std::vector<std::string>* clear_for) {
  auto rule = access.masks.find(AsciiLower(property.classification));
  bool has_rule = !property.classification.empty() && rule != access.masks.end();
  if (clear_for != nullptr) {
    *clear_for = has_rule ? rule->second.clear_for : std::vector<std::string>{};
  }
  if (!property.mask.empty()) return property.mask;
  return has_rule ? rule->second.mask : std::string();
}

std::string EffectiveVisibility(const MeshAccess& access, const Contract& contract) {
  return contract.visibility.empty() ? access.default_visibility : contract.visibility;
}

}  // namespace plexus::spec
