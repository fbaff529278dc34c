#include "plexus/access/access_admin.h"

#include <algorithm>

#include "plexus/common/text.h"

namespace plexus::access {
namespace {

bool Owns(const Principal& actor, const std::string& domain) {
  return actor.admin || actor.OwnsDomain(domain);
}

/// domain.product of a target domain.product[.port].
std::string ProductOf(const std::string& target) {
  size_t first = target.find('.');
  size_t second = first == std::string::npos ? first : target.find('.', first + 1);
  return second == std::string::npos ? target : target.substr(0, second);
}

/// domain of a target domain.product[.port].
std::string DomainOf(const std::string& target) { return target.substr(0, target.find('.')); }

}  // namespace

Status AccessAdmin::Refuse(const Principal& actor, const std::string& action,
                           const std::string& object, const std::string& why) {
  catalog::AuditRecord record;
  record.principal = actor.name;
  record.action = action;
  record.object = object;
  record.decision = "deny";
  record.detail = why;
  (void)catalog_->AppendAudit(std::move(record));
  return PermissionDenied(why);
}

Status AccessAdmin::RequireAdmin(const Principal& actor, const std::string& action,
                                 const std::string& object) {
  if (actor.admin) return Status::OK();
  return Refuse(actor, action, object, action + " needs a mesh admin");
}

Status AccessAdmin::RequireOwner(const Principal& actor, const std::string& domain,
                                 const std::string& action, const std::string& object) {
  if (Owns(actor, domain)) return Status::OK();
  return Refuse(actor, action, object,
                action + " needs an owner of domain " + domain + " or a mesh admin");
}

Result<std::string> AccessAdmin::TargetDomain(const Principal& actor,
                                              const std::string& target) const {
  std::string lower = AsciiLower(target);
  auto unknown = NotFound("unknown data product or port " + target +
                          " (write domain.product or domain.product.port)");
  auto product = catalog_->GetProduct(ProductOf(lower));
  if (!product.ok()) return unknown;
  bool port_ok = lower == ProductOf(lower);
  bool visible = actor.admin || actor.InDomain(product->domain);
  for (const auto& port : product->outputs) {
    bool shown = actor.InDomain(product->domain) || port.visibility != "private";
    if (AsciiLower(port.SqlName()) == lower && shown) port_ok = true;
    if (shown) visible = true;
  }
  if (!visible || !port_ok) return unknown;  // a private product reads as unknown
  return product->domain;
}

Status AccessAdmin::CreatePrincipal(const Principal& actor,
                                    const catalog::PrincipalRecord& principal) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "principal.create", principal.name));
  return catalog_->CreatePrincipal(principal, actor.name);
}

Status AccessAdmin::SetAttribute(const Principal& actor, const std::string& name,
                                 const std::string& key, const std::string& value) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "principal.attribute", name + " " + key));
  return catalog_->SetPrincipalAttribute(name, key, value, actor.name);
}

Status AccessAdmin::SetAdmin(const Principal& actor, const std::string& name, bool admin) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "principal.admin", name));
  return catalog_->SetPrincipalAdmin(name, admin, actor.name);
}

Status AccessAdmin::SetDisabled(const Principal& actor, const std::string& name,
                                bool disabled) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "principal.disable", name));
  return catalog_->SetPrincipalDisabled(name, disabled, actor.name);
}

Status AccessAdmin::AddGroupMember(const Principal& actor, const std::string& group,
                                   const std::string& name) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "group.add", group + " " + name));
  return catalog_->AddGroupMember(group, name, actor.name);
}

Status AccessAdmin::RemoveGroupMember(const Principal& actor, const std::string& group,
                                      const std::string& name) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "group.remove", group + " " + name));
  return catalog_->RemoveGroupMember(group, name, actor.name);
}

Result<std::vector<catalog::PrincipalRecord>> AccessAdmin::ListPrincipals(
    const Principal& actor) {
  if (!actor.admin) {
    PLEXUS_ASSIGN_OR_RETURN(auto self, catalog_->GetPrincipal(actor.name));
    return std::vector<catalog::PrincipalRecord>{self};
  }
  return catalog_->ListPrincipals();
}

Result<std::string> AccessAdmin::IssueToken(const Principal& actor, const std::string& principal,
                                            const std::string& label,
                                            const std::string& expires_at) {
  if (AsciiLower(principal) != AsciiLower(actor.name)) {
    PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "token.issue", principal));
  }
  return catalog_->IssueToken(principal, label, expires_at, actor.name);
}

Result<std::vector<catalog::TokenRecord>> AccessAdmin::ListTokens(const Principal& actor,
                                                                  const std::string& principal) {
  std::string whose = principal.empty() ? actor.name : principal;
  if (AsciiLower(whose) != AsciiLower(actor.name)) {
    PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "token.list", whose));
  }
  return catalog_->ListTokens(whose);
}

Status AccessAdmin::RevokeToken(const Principal& actor, const std::string& token_id) {
  if (!actor.admin) {
    PLEXUS_ASSIGN_OR_RETURN(auto mine, catalog_->ListTokens(actor.name));
    bool owned = std::any_of(mine.begin(), mine.end(),
                             [&](const auto& t) { return t.id == token_id; });
    if (!owned) return Refuse(actor, "token.revoke", token_id, "no token " + token_id + " of yours");
  }
  return catalog_->RevokeToken(token_id, actor.name);
}

Status AccessAdmin::SetPassword(const Principal& actor, const std::string& principal,
                                const std::string& password) {
  if (AsciiLower(principal) != AsciiLower(actor.name)) {
    PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "password.set", principal));
  }
  if (password.size() < 8) return InvalidArgument("a password needs at least 8 characters");
  return catalog_->SetPassword(principal, password, actor.name);
}

Result<int64_t> AccessAdmin::RequestAccess(const Principal& actor, const std::string& target,
                                           const std::string& purpose,
                                           const std::string& expires_at) {
  PLEXUS_ASSIGN_OR_RETURN(std::string domain, TargetDomain(actor, target));
  (void)domain;
  catalog::AccessRequestRecord request;
  request.principal = actor.name;
  request.target = AsciiLower(target);
  request.purpose = purpose;
  request.expires_at = expires_at;
  return catalog_->CreateAccessRequest(request, actor.name);
}

Result<catalog::AccessRequestRecord> AccessAdmin::Decide(const Principal& actor,
                                                         int64_t request_id, bool approve,
                                                         const std::string& reason) {
  auto request = catalog_->GetAccessRequest(request_id);
  std::string action = approve ? "request.approve" : "request.deny";
  if (!request.ok()) {
    return NotFound("no access request " + std::to_string(request_id));
  }
  auto product = catalog_->GetProduct(ProductOf(request->target));
  std::string domain = product.ok() ? product->domain : std::string();
  if (domain.empty() || !Owns(actor, domain)) {
    // Not the decider: say no more than that the request is not theirs to decide.
    (void)Refuse(actor, action, std::to_string(request_id), "not an owner of the target");
    return PermissionDenied("access request " + std::to_string(request_id) +
                            " is decided by the owners of its product's domain");
  }
  return catalog_->DecideAccessRequest(request_id, approve, reason, actor.name);
}

Result<std::vector<catalog::AccessRequestRecord>> AccessAdmin::ListRequests(
    const Principal& actor, const std::string& status) {
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog_->ListAccessRequests("", "", status));
  if (actor.admin) return all;
  std::vector<catalog::AccessRequestRecord> mine;
  for (auto& request : all) {
    std::string domain = DomainOf(request.target);
    if (AsciiLower(request.principal) == AsciiLower(actor.name) || actor.OwnsDomain(domain)) {
      mine.push_back(std::move(request));
    }
  }
  return mine;
}

Result<int64_t> AccessAdmin::Grant(const Principal& actor, catalog::GrantRecord grant) {
  PLEXUS_ASSIGN_OR_RETURN(std::string domain, TargetDomain(actor, grant.target));
  PLEXUS_RETURN_IF_ERROR(RequireOwner(actor, domain, "grant.create", grant.target));
  if (grant.grantee_kind != "principal" && grant.grantee_kind != "group") {
    return InvalidArgument("a grant goes to a principal or a group");
  }
  if (grant.purpose.empty()) return InvalidArgument("a grant needs a purpose");
  grant.target = AsciiLower(grant.target);
  grant.granted_by = actor.name;
  grant.granted_at.clear();
  grant.request_id = 0;
  grant.revoked_at.clear();
  grant.revoked_by.clear();
  return catalog_->CreateGrant(grant, actor.name);
}

Status AccessAdmin::Revoke(const Principal& actor, int64_t grant_id) {
  auto grant = catalog_->GetGrant(grant_id);
  if (!grant.ok()) return NotFound("no grant " + std::to_string(grant_id));
  std::string domain = DomainOf(grant->target);
  PLEXUS_RETURN_IF_ERROR(RequireOwner(actor, domain, "grant.revoke", std::to_string(grant_id)));
  return catalog_->RevokeGrant(grant_id, actor.name);
}

Result<std::vector<catalog::GrantRecord>> AccessAdmin::ListGrants(const Principal& actor,
                                                                  bool active_only) {
  PLEXUS_ASSIGN_OR_RETURN(auto all,
                          catalog_->ListGrants("", "", active_only ? catalog::NowUtc() : ""));
  if (actor.admin) return all;
  std::vector<catalog::GrantRecord> visible;
  for (auto& grant : all) {
    std::string domain = DomainOf(grant.target);
    if (GrantedTo(grant, actor) || actor.OwnsDomain(domain)) visible.push_back(std::move(grant));
  }
  return visible;
}

Result<std::vector<catalog::AuditRecord>> AccessAdmin::SearchAudit(
    const Principal& actor, const catalog::AuditFilter& filter) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "audit.search", ""));
  return catalog_->SearchAudit(filter);
}

Result<catalog::AuditVerification> AccessAdmin::VerifyAudit(const Principal& actor) {
  PLEXUS_RETURN_IF_ERROR(RequireAdmin(actor, "audit.verify", ""));
  return catalog_->VerifyAudit();
}

Result<Principal> AccessAdmin::Preview(const Principal& actor, const std::string& name,
                                       std::vector<std::string>* only_domains) {
  only_domains->clear();
  if (!actor.admin) {
    for (const auto& [domain, role] : actor.domain_roles) {
      if (role == "owner") only_domains->push_back(domain);
    }
    if (only_domains->empty()) {
      return Refuse(actor, "query.preview", name,
                    "previewing another principal's view needs a mesh admin or a domain owner");
    }
  }
  return LoadPrincipal(*catalog_, name);
}

}  // namespace plexus::access
