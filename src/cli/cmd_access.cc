// access, principal, group, token, audit: the administrative side of access control. Every
// command signs in (cli.h: SignIn) and goes through access::AccessAdmin, which checks the
// actor's rights and audits the change; the HTTP API calls the same functions.
#include <iostream>

#include "cli/cli.h"

namespace plexus::cli {
namespace {

void PrintRequest(const catalog::AccessRequestRecord& r) {
  std::cout << "#" << r.id << "  " << r.status << "  " << r.principal << " -> " << r.target
            << "  purpose: " << r.purpose << "  expires: " << OrDash(r.expires_at);
  if (!r.decided_by.empty()) std::cout << "  decided by " << r.decided_by << " " << r.decided_at;
  if (!r.reason.empty()) std::cout << " (" << r.reason << ")";
  if (r.grant_id != 0) std::cout << "  grant #" << r.grant_id;
  std::cout << "\n";
}

void PrintGrant(const catalog::GrantRecord& g) {
  std::cout << "#" << g.id << "  " << g.grantee_kind << " " << g.grantee << " -> " << g.target
            << "  expires: " << OrDash(g.expires_at) << "  by " << g.granted_by;
  if (!g.revoked_at.empty()) std::cout << "  REVOKED " << g.revoked_at << " by " << g.revoked_by;
  if (!g.purpose.empty()) std::cout << "  purpose: " << g.purpose;
  std::cout << "\n";
}

void SetupAccessRequest(CLI::App& access, Context& ctx) {
  auto target = std::make_shared<std::string>();
  auto purpose = std::make_shared<std::string>();
  auto expires = std::make_shared<std::string>();
  auto* sub = access.add_subcommand("request", "Ask for access to a product or port");
  sub->add_option("target", *target, "domain.product or domain.product.port")->required();
  sub->add_option("--purpose", *purpose, "Why you need it (required)")->required();
  sub->add_option("--expires", *expires, "Until when (YYYY-MM-DD or ISO 8601)");
  AdminLeaf(sub, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(int64_t id,
                              admin.RequestAccess(actor, *target, *purpose, *expires));
      std::cout << "requested access to " << *target << ": request #" << id
                << " waits for an owner of the product's domain\n";
      return Status::OK();
    };
  });
}

void SetupAccessDecide(CLI::App& access, Context& ctx, const char* name, bool approve) {
  auto id = std::make_shared<int64_t>(0);
  auto reason = std::make_shared<std::string>();
  auto* sub = access.add_subcommand(
      name, approve ? "Approve an access request (owners, admins)"
                    : "Deny an access request (owners, admins)");
  sub->add_option("id", *id, "The request's number")->required();
  sub->add_option("--reason", *reason, "A note for the requester");
  AdminLeaf(sub, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto request, admin.Decide(actor, *id, approve, *reason));
      PrintRequest(request);
      return Status::OK();
    };
  });
}

void SetupAccessGrant(CLI::App& access, Context& ctx) {
  auto grant = std::make_shared<catalog::GrantRecord>();
  auto to = std::make_shared<std::string>();
  auto group = std::make_shared<std::string>();
  auto* sub = access.add_subcommand("grant", "Grant access directly (owners, admins)");
  sub->add_option("target", grant->target, "domain.product or domain.product.port")->required();
  auto* to_opt = sub->add_option("--to", *to, "A principal");
  auto* group_opt = sub->add_option("--group", *group, "A group");
  to_opt->excludes(group_opt);
  sub->add_option("--purpose", grant->purpose, "Why (required)")->required();
  sub->add_option("--expires", grant->expires_at, "Until when");
  AdminLeaf(sub, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      catalog::GrantRecord g = *grant;
      g.grantee = group->empty() ? *to : *group;
      g.grantee_kind = group->empty() ? "principal" : "group";
      if (g.grantee.empty()) return InvalidArgument("say who: --to PRINCIPAL or --group GROUP");
      PLEXUS_ASSIGN_OR_RETURN(int64_t id, admin.Grant(actor, g));
      std::cout << "granted " << g.target << " to " << g.grantee_kind << " " << g.grantee
                << ": grant #" << id << "\n";
      return Status::OK();
    };
  });
}

void SetupAccessLists(CLI::App& access, Context& ctx) {
  auto status = std::make_shared<std::string>();
  auto* requests = access.add_subcommand("requests", "List access requests you may see");
  requests->add_option("--status", *status, "pending, approved, denied");
  AdminLeaf(requests, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto list, admin.ListRequests(actor, *status));
      for (const auto& r : list) PrintRequest(r);
      if (list.empty()) std::cout << "no access requests\n";
      return Status::OK();
    };
  });
  auto all = std::make_shared<bool>(false);
  auto* grants = access.add_subcommand("grants", "List grants you may see (active ones)");
  grants->add_flag("--all", *all, "Also expired and revoked grants");
  AdminLeaf(grants, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto list, admin.ListGrants(actor, !*all));
      for (const auto& g : list) PrintGrant(g);
      if (list.empty()) std::cout << "no grants\n";
      return Status::OK();
    };
  });
  auto id = std::make_shared<int64_t>(0);
  auto* revoke = access.add_subcommand("revoke", "Revoke a grant (owners, admins)");
  revoke->add_option("grant", *id, "The grant's number")->required();
  AdminLeaf(revoke, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_RETURN_IF_ERROR(admin.Revoke(actor, *id));
      std::cout << "revoked grant #" << *id << "\n";
      return Status::OK();
    };
  });
}

}  // namespace

void SetupAccess(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  SetupAccessRequest(sub, ctx);
  SetupAccessDecide(sub, ctx, "approve", true);
  SetupAccessDecide(sub, ctx, "deny", false);
  SetupAccessGrant(sub, ctx);
  SetupAccessLists(sub, ctx);
}

}  // namespace plexus::cli
