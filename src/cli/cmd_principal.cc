// principal, group, token, audit: who exists, their credentials, and the audit trail.
#include <iostream>

#include "cli/cli.h"

namespace plexus::cli {
namespace {

void PrintPrincipal(const catalog::PrincipalRecord& p) {
  std::cout << p.name << "  " << p.kind << (p.admin ? "  admin" : "")
            << (p.disabled ? "  DISABLED" : "");
  for (const auto& [domain, role] : p.domain_roles) std::cout << "  " << role << ":" << domain;
  for (const auto& group : p.groups) std::cout << "  group:" << group;
  for (const auto& [key, value] : p.attributes) std::cout << "  " << key << "=" << value;
  std::cout << "\n";
}

/// "key=value" -> (key, value).
Result<std::pair<std::string, std::string>> SplitAttribute(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("write attributes as key=value, not '" + text + "'");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

void SetupPrincipalCreate(CLI::App& parent, Context& ctx) {
  auto record = std::make_shared<catalog::PrincipalRecord>();
  auto attributes = std::make_shared<std::vector<std::string>>();
  auto token = std::make_shared<bool>(false);
  record->kind = "user";
  auto* sub = parent.add_subcommand("create", "Create a user or service principal");
  sub->add_option("name", record->name, "Its name")->required();
  sub->add_option("--kind", record->kind, "user or service")->capture_default_str();
  sub->add_flag("--admin", record->admin, "A mesh admin");
  sub->add_option("--attr", *attributes, "An attribute, key=value (repeatable)");
  sub->add_flag("--token", *token, "Also issue an API token (shown once)");
  AdminLeaf(sub, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      catalog::PrincipalRecord p = *record;
      for (const auto& text : *attributes) {
        PLEXUS_ASSIGN_OR_RETURN(auto kv, SplitAttribute(text));
        p.attributes[kv.first] = kv.second;
      }
      PLEXUS_RETURN_IF_ERROR(admin.CreatePrincipal(actor, p));
      std::cout << "created " << p.kind << " " << p.name << "\n";
      if (*token) {
        PLEXUS_ASSIGN_OR_RETURN(std::string secret, admin.IssueToken(actor, p.name, "", ""));
        std::cout << "token (shown once): " << secret << "\n";
      }
      return Status::OK();
    };
  });
}

void SetupPrincipalChanges(CLI::App& parent, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto attributes = std::make_shared<std::vector<std::string>>();
  auto* set = parent.add_subcommand("set", "Set attributes (key=value; key= removes)");
  set->add_option("name", *name)->required();
  set->add_option("attributes", *attributes, "key=value ...")->required();
  AdminLeaf(set, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      for (const auto& text : *attributes) {
        PLEXUS_ASSIGN_OR_RETURN(auto kv, SplitAttribute(text));
        PLEXUS_RETURN_IF_ERROR(admin.SetAttribute(actor, *name, kv.first, kv.second));
      }
      std::cout << "updated " << *name << "\n";
      return Status::OK();
    };
  });
  for (bool disable : {true, false}) {
    auto* sub = parent.add_subcommand(disable ? "disable" : "enable",
                                      disable ? "Stop a principal signing in and reading"
                                              : "Let a disabled principal back in");
    sub->add_option("name", *name)->required();
    AdminLeaf(sub, ctx, [=] {
      return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
        PLEXUS_RETURN_IF_ERROR(admin.SetDisabled(actor, *name, disable));
        std::cout << (disable ? "disabled " : "enabled ") << *name << "\n";
        return Status::OK();
      };
    });
  }
  auto password = std::make_shared<std::string>();
  auto* pw = parent.add_subcommand(
      "password", "Set a password for the wire protocol (stored as a SCRAM-SHA-256 verifier), "
                  "read from standard input");
  pw->add_option("name", *name)->required();
  AdminLeaf(pw, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      std::string line;
      std::getline(std::cin, line);
      PLEXUS_RETURN_IF_ERROR(admin.SetPassword(actor, *name, line));
      std::cout << "password set for " << *name << "\n";
      return Status::OK();
    };
  });
  auto* list = parent.add_subcommand("list", "List principals (admins: all)");
  AdminLeaf(list, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto principals, admin.ListPrincipals(actor));
      for (const auto& p : principals) PrintPrincipal(p);
      return Status::OK();
    };
  });
}

void PrintAudit(const catalog::AuditRecord& r) {
  std::cout << r.seq << "  " << r.at << "  " << r.principal << "  " << r.action << "  "
            << r.decision;
  if (r.rows >= 0) std::cout << "  rows=" << r.rows;
  if (!r.products.empty()) {
    std::cout << "  products=";
    for (size_t i = 0; i < r.products.size(); i++) std::cout << (i ? "," : "") << r.products[i];
  }
  if (!r.object.empty()) {
    std::string object = r.object;  // one record, one line
    for (char& c : object) c = (c == '\n' || c == '\r') ? ' ' : c;
    std::cout << "  " << object;
  }
  if (!r.detail.empty()) std::cout << "  [" << r.detail << "]";
  std::cout << "\n";
}

}  // namespace

void SetupPrincipal(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  SetupPrincipalCreate(sub, ctx);
  SetupPrincipalChanges(sub, ctx);
}

void SetupGroup(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  auto group = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  for (bool add : {true, false}) {
    auto* leaf = sub.add_subcommand(add ? "add" : "remove",
                                    add ? "Add a principal to a group" : "Remove it");
    leaf->add_option("group", *group)->required();
    leaf->add_option("principal", *name)->required();
    AdminLeaf(leaf, ctx, [=] {
      return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
        PLEXUS_RETURN_IF_ERROR(add ? admin.AddGroupMember(actor, *group, *name)
                                   : admin.RemoveGroupMember(actor, *group, *name));
        std::cout << (add ? "added " : "removed ") << *name << (add ? " to " : " from ")
                  << *group << "\n";
        return Status::OK();
      };
    });
  }
}

void SetupToken(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto label = std::make_shared<std::string>();
  auto expires = std::make_shared<std::string>();
  auto* issue = sub.add_subcommand("issue", "Issue an API token (yours, or any: admins)");
  issue->add_option("principal", *name, "Whose (default: yours)");
  issue->add_option("--label", *label, "What it is for");
  issue->add_option("--expires", *expires, "Until when (YYYY-MM-DD or ISO 8601)");
  AdminLeaf(issue, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      std::string whose = name->empty() ? actor.name : *name;
      PLEXUS_ASSIGN_OR_RETURN(std::string secret,
                              admin.IssueToken(actor, whose, *label, *expires));
      std::cout << secret << "\n";
      std::cerr << "plexus: token for " << whose << " (shown once; only its hash is kept)\n";
      return Status::OK();
    };
  });
  auto* list = sub.add_subcommand("list", "List tokens (never their secrets)");
  list->add_option("principal", *name, "Whose (default: yours)");
  AdminLeaf(list, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto tokens, admin.ListTokens(actor, *name));
      for (const auto& t : tokens) {
        std::cout << t.id << "  " << t.principal << "  created " << t.created_at << "  expires "
                  << OrDash(t.expires_at) << "  last used " << OrDash(t.last_used_at)
                  << (t.revoked_at.empty() ? "" : "  REVOKED " + t.revoked_at) << "  "
                  << t.label << "\n";
      }
      return Status::OK();
    };
  });
  auto id = std::make_shared<std::string>();
  auto* revoke = sub.add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("id", *id)->required();
  AdminLeaf(revoke, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_RETURN_IF_ERROR(admin.RevokeToken(actor, *id));
      std::cout << "revoked token " << *id << "\n";
      return Status::OK();
    };
  });
}

void SetupAudit(CLI::App& sub, Context& ctx) {
  auto filter = std::make_shared<catalog::AuditFilter>();
  sub.add_option("--principal", filter->principal, "Who");
  sub.add_option("--action", filter->action, "query, grant., request., ... (a prefix)");
  sub.add_option("--product", filter->product, "domain.product");
  sub.add_option("--decision", filter->decision, "allow, deny or error");
  sub.add_option("--since", filter->since, "From (ISO 8601)");
  sub.add_option("--until", filter->until, "Before (ISO 8601)");
  sub.add_option("--text", filter->text, "Text in the statement or detail");
  sub.add_option("--limit", filter->limit, "Newest first")->capture_default_str();
  auto* verify = sub.add_subcommand("verify", "Check the hash chain: exit 1 if a record was "
                                              "edited, deleted or reordered");
  AdminLeaf(verify, ctx, [=] {
    return [=](access::AccessAdmin& admin, const access::Principal& actor) -> Status {
      PLEXUS_ASSIGN_OR_RETURN(auto report, admin.VerifyAudit(actor));
      if (!report.ok) {
        return FailedPrecondition("audit trail tampered with: " + report.message);
      }
      std::cout << "ok: " << report.records << " audit records, hash chain intact\n";
      return Status::OK();
    };
  });
  sub.callback([&ctx, filter, verify] {
    if (verify->parsed()) return;
    ctx.action = [&ctx, filter] {
      return AsActor(ctx, [filter](access::AccessAdmin& admin, const access::Principal& actor) {
        PLEXUS_ASSIGN_OR_RETURN(auto records, admin.SearchAudit(actor, *filter));
        for (const auto& r : records) PrintAudit(r);
        return Status::OK();
      });
    };
  });
}

}  // namespace plexus::cli
