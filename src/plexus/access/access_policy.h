// File: plexus/access/access_policy.h
//
// Who may read which port, and what they see. One policy object is built from the catalog
// (ports with their visibility, masks and row filters; active grants; the mask salt) and asked,
// per principal, for a RelationResolver: the guard then rewrites each port the principal reads
// into the derived table that applies its masks and row filter (masks.h).
//
//   PLEXUS_ASSIGN_OR_RETURN(Principal alice, LoadPrincipal(*catalog, "alice"));
//   PrincipalResolver resolver(policy, alice, NowUtc());
//   PLEXUS_ASSIGN_OR_RETURN(GuardedQuery q, guard.Check(sql, resolver));
//
// The rules (docs/adr/0006-access-control.md):
// - members, owners and the service principal of a port's domain read it in the clear;
// - private ports exist for nobody else: they resolve like unknown names;
// - public ports: any signed-in principal; restricted ports: mesh admins and principals with
//   an active grant (to them or one of their groups) on the product or the port;
// - outside the domain, masks apply unless the principal is in the rule's clearFor (a group,
//   or `admin` for mesh admins), and the row filter applies unless it is in rowFilterExempt.
// Anything unexpected denies.
//
// What it reads: Load lists the ports without their columns, the grants (indexed by target),
// the salt and the quarantines (after a mere publication, only the publications, over the
// previous policy); a port's columns (its masks) are read from the catalog the
// first time a decision needs them and kept (Columns). They are those of the listing's
// snapshot: the catalog's columns generation is read with the listing and again with each
// port's columns, and a port whose columns changed since is refused, never mixed in.
// Thread safety: an AccessPolicy is immutable but for that cache, which a mutex guards; share
// it (shared_ptr<const AccessPolicy>) across threads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"

namespace plexus::access {

/// A signed-in principal, as the access layer judges it.
struct Principal {
  std::string name;
  std::string kind;  ///< user or service
  bool admin = false;
  std::map<std::string, std::string> attributes;
  std::vector<std::string> groups;                  ///< sorted
  std::map<std::string, std::string> domain_roles;  ///< domain -> owner, member, service
  std::shared_ptr<const PrincipalContext> context;  ///< for row filters

  /// True when the principal is an owner, member or the service principal of `domain`.
  bool InDomain(const std::string& domain) const { return domain_roles.count(domain) != 0; }
  bool OwnsDomain(const std::string& domain) const;
  /// True when one of `roles` names a group of the principal, or is `admin` and it is a mesh
  /// admin, or `service` and it is a service principal.
  bool HasAnyRole(const std::vector<std::string>& roles) const;
};

Principal PrincipalFrom(const catalog::PrincipalRecord& record);
/// True when `grant` goes to the principal or to one of its groups (active or not).
bool GrantedTo(const catalog::GrantRecord& grant, const Principal& principal);
/// kUnauthenticated ("unknown principal NAME") when unknown or disabled.
Result<Principal> LoadPrincipal(const catalog::Catalog& catalog, const std::string& name);
/// kUnauthenticated with one message for every bad token.
Result<Principal> AuthenticateToken(const catalog::Catalog& catalog, const std::string& secret);

/// How a principal may read one port major.
enum class PortAccess { kHidden, kDenied, kClear, kSecured };

class AccessPolicy {
 public:
  /// A policy over `ports` with their columns (nothing is read later: a port not among them
  /// has no columns to give, and is refused where its columns are needed).
  AccessPolicy(std::vector<catalog::OutputPortRecord> ports,
               std::vector<catalog::GrantRecord> grants, std::string salt,
               std::map<std::string, std::string> quarantined = {});
  ~AccessPolicy();
  /// Reads the ports without their columns, the grants not revoked, the mask salt and the
  /// products governance quarantines from `catalog`, which must outlive the policy (Columns
  /// reads from it). `previous` (may be null), a policy loaded from the same catalog: the
  /// columns it has read are shared when no column changed since (a publication, a run or a
  /// CDC micro-batch changes no column); when nothing but publications changed since (the
  /// catalog's access and columns generations have not moved), its ports, grants, salt and
  /// quarantines are kept and only the publications are read again.
  static Result<std::shared_ptr<const AccessPolicy>> Load(const catalog::Catalog& catalog,
                                                          const AccessPolicy* previous = nullptr);

  using PortMap = std::map<std::string, std::vector<catalog::OutputPortRecord>>;
  /// The ports (all majors) by lower-case domain.product.port, newest major first, without
  /// their columns (Columns has them). Their rows and published_at are those of the listing,
  /// which a later policy may share: PublishedRows has the policy's own.
  const PortMap& ports() const { return *ports_; }
  /// The rows `port` last published, as of this policy; -1 when it never published.
  int64_t PublishedRows(const catalog::OutputPortRecord& port) const;
  /// The columns of `port` (by product id, name and major) as of the policy's listing, read
  /// from the catalog on first use and kept. Any thread. Fails, so whatever needed them is
  /// refused, when the catalog cannot be read, when the port's columns changed since the
  /// listing (kFailedPrecondition: load the policy again) or, for a policy built from records,
  /// when the port was not among them.
  Result<std::shared_ptr<const std::vector<catalog::ColumnRecord>>> Columns(
      const catalog::OutputPortRecord& port) const;
  /// The decision for one port major at `now` (ISO 8601). `grant_expiry` (may be null)
  /// receives the expiry of the grant relied on, when it expires.
  PortAccess Decide(const Principal& principal, const catalog::OutputPortRecord& port,
                    const std::string& now, std::string* grant_expiry = nullptr) const;
  /// True when the principal may know that a port of `domain` with `visibility` exists: its
  /// domain's principals always, anyone signed in for public and restricted ports.
  static bool PortVisible(const Principal& principal, const std::string& domain,
                          const std::string& visibility);
  /// True when the principal may know the product exists (it has a port that is not hidden).
  /// Judged from the product's own ports: no policy needs loading for it.
  static bool CanSee(const Principal& principal, const catalog::ProductRecord& product);
  /// The product as the principal may see it, hidden ports left out; kNotFound (worded as for
  /// an unknown name) when it may not know the product exists. Static, as CanSee.
  static Result<catalog::ProductRecord> Visible(const Principal& principal,
                                                catalog::ProductRecord product);
  /// Why governance quarantines a product (domain.product: "policy: message"); nullptr when
  /// it does not. A quarantined product is served to its own domain and to mesh admins only.
  const std::string* Quarantined(const std::string& product) const;
  /// The SELECT that applies the principal's masks and row filter to the port; empty when
  /// nothing applies (the physical table is read as is). The port's columns come from Columns
  /// (its errors refuse).
  Result<std::string> SecuredSelectFor(const Principal& principal,
                                       const catalog::OutputPortRecord& port) const;
  /// The port's columns the principal reads unmasked, with their types (for
  /// ResolvedRelation::clear_columns): the same mask decision as SecuredSelectFor.
  Result<std::vector<PlainColumn>> ClearColumnsFor(const Principal& principal,
                                                   const catalog::OutputPortRecord& port) const;

 private:
  struct ColumnCache;
  AccessPolicy(std::vector<catalog::OutputPortRecord> ports,
               std::vector<catalog::GrantRecord> grants, std::string salt,
               std::map<std::string, std::string> quarantined,
               std::shared_ptr<ColumnCache> columns);
  /// `previous`'s ports (shared) with `publications` over them, everything else kept: the
  /// listing must be of `previous`'s access and columns generations.
  AccessPolicy(const AccessPolicy& previous, catalog::PublicationListing publications);
  bool HasGrant(const Principal& principal, const catalog::OutputPortRecord& port,
                const std::string& now, std::string* grant_expiry) const;

  std::shared_ptr<const PortMap> ports_;  ///< shared with later policies of the same ports
  /// Null: the ports' own publications are current. Else every publication since, sorted by
  /// product id, port and major (a refresh after publications only).
  std::shared_ptr<const std::vector<catalog::PortPublication>> publications_;
  /// Active or not (expiry is judged per decision), by target (lower-case domain.product or
  /// domain.product.port).
  std::unordered_map<std::string, std::vector<catalog::GrantRecord>> grants_;
  std::string salt_;
  std::map<std::string, std::string> quarantined_;
  std::shared_ptr<ColumnCache> columns_;  ///< shared with later policies of the same columns
  /// The catalog's access generation when the ports were listed; -1: built from records.
  int64_t access_generation_ = -1;
};

/// Resolves the port names a principal may read (PortResolver's naming and version rules),
/// each to the relation the principal sees. A hidden port reads as an unknown name; a
/// restricted one without a grant is refused with how to ask for access.
class PrincipalResolver : public RelationResolver {
 public:
  /// `only_domains` non-empty: only ports of those domains resolve (an owner previewing
  /// another principal's view sees no more than its own domains).
  PrincipalResolver(std::shared_ptr<const AccessPolicy> policy, const Principal& principal,
                    std::string now, std::vector<std::string> only_domains = {});
  Result<ResolvedRelation> Resolve(const TableName& name) const override;

  /// The earliest expiry of the grants the resolved names relied on; empty: none.
  const std::string& valid_until() const { return valid_until_; }

 private:
  std::shared_ptr<const AccessPolicy> policy_;
  const Principal& principal_;
  std::string now_;
  std::string today_;
  std::vector<std::string> only_domains_;
  mutable std::string valid_until_;
};

}  // namespace plexus::access
