// File: plexus/access/access_admin.h
//
// The administrative side of access control, for every door (CLI and HTTP call the same
// functions): principals, groups, tokens, passwords, access requests, grants, the audit trail.
// Each function checks that the acting principal may do it, then asks the catalog, which
// stores the change and its audit record in one transaction. A refusal is audited here.
//
//   AccessAdmin admin(catalog.get());
//   PLEXUS_ASSIGN_OR_RETURN(int64_t id, admin.RequestAccess(nora, "marketing.clv", "churn study", ""));
//   PLEXUS_ASSIGN_OR_RETURN(auto decided, admin.Decide(alice, id, true, "ok"));
//
// Who may do what (docs/adr/0006-access-control.md):
// - mesh admins: everything;
// - owners of a domain: decide requests for and grant or revoke access to its products, list
//   them; preview (query --as) what a principal sees of their domains;
// - any principal: request access to what it can see, withdraw its own requests, list its own
//   requests and grants, issue and revoke its own tokens, set its own password.
// Thread safety: as the catalog (calls are serialised there).
#pragma once

#include <string>
#include <vector>

#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog.h"

namespace plexus::access {

class AccessAdmin {
 public:
  explicit AccessAdmin(catalog::Catalog* catalog) : catalog_(catalog) {}

  // ---- principals and groups (admins) ----
  Status CreatePrincipal(const Principal& actor, const catalog::PrincipalRecord& principal);
  Status SetAttribute(const Principal& actor, const std::string& name, const std::string& key,
                      const std::string& value);
  Status SetAdmin(const Principal& actor, const std::string& name, bool admin);
  Status SetDisabled(const Principal& actor, const std::string& name, bool disabled);
  Status AddGroupMember(const Principal& actor, const std::string& group,
                        const std::string& name);
  Status RemoveGroupMember(const Principal& actor, const std::string& group,
                           const std::string& name);
  /// Admins see every principal; others only themselves.
  Result<std::vector<catalog::PrincipalRecord>> ListPrincipals(const Principal& actor);

  // ---- credentials (admins, or the principal itself) ----
  Result<std::string> IssueToken(const Principal& actor, const std::string& principal,
                                 const std::string& label, const std::string& expires_at);
  Result<std::vector<catalog::TokenRecord>> ListTokens(const Principal& actor,
                                                       const std::string& principal);
  Status RevokeToken(const Principal& actor, const std::string& token_id);
  Status SetPassword(const Principal& actor, const std::string& principal,
                     const std::string& password);

  // ---- requests and grants ----
  /// The actor asks for itself. `target` is domain.product or domain.product.port; a target
  /// the actor cannot see reads as unknown.
  Result<int64_t> RequestAccess(const Principal& actor, const std::string& target,
                                const std::string& purpose, const std::string& expires_at);
  /// Owners of the target's domain, or admins.
  Result<catalog::AccessRequestRecord> Decide(const Principal& actor, int64_t request_id,
                                              bool approve, const std::string& reason);
  /// Admins: all; owners: those on their domains' products; others: their own.
  Result<std::vector<catalog::AccessRequestRecord>> ListRequests(const Principal& actor,
                                                                 const std::string& status);
  /// A direct grant (no request) to a principal or a group: owners of the target's domain, or
  /// admins. grant.granted_by, granted_at and request_id are set here, never by the caller.
  Result<int64_t> Grant(const Principal& actor, catalog::GrantRecord grant);
  Status Revoke(const Principal& actor, int64_t grant_id);
  /// Admins: all; owners: on their domains; others: their own (and their groups').
  Result<std::vector<catalog::GrantRecord>> ListGrants(const Principal& actor,
                                                       bool active_only);

  // ---- audit (admins) ----
  Result<std::vector<catalog::AuditRecord>> SearchAudit(const Principal& actor,
                                                        const catalog::AuditFilter& filter);
  Result<catalog::AuditVerification> VerifyAudit(const Principal& actor);

  /// The principal an actor previews (query --as): admins preview anyone; owners preview
  /// anyone but only over their own domains (`only_domains` receives them).
  Result<Principal> Preview(const Principal& actor, const std::string& name,
                            std::vector<std::string>* only_domains);

 private:
  /// Audits the refusal and returns it.
  Status Refuse(const Principal& actor, const std::string& action, const std::string& object,
                const std::string& why);
  Status RequireAdmin(const Principal& actor, const std::string& action,
                      const std::string& object);
  /// The domain of a target (domain.product[.port]) after checking it exists and the actor
  /// can see it.
  Result<std::string> TargetDomain(const Principal& actor, const std::string& target) const;
  /// Owners of the domain, or admins.
  Status RequireOwner(const Principal& actor, const std::string& domain,
                      const std::string& action, const std::string& object);

  catalog::Catalog* catalog_;
};

}  // namespace plexus::access
