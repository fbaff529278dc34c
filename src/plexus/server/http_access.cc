// The access-control routes of the HTTP API: the same AccessAdmin calls as the CLI.
//   GET    /api/v1/me
//   GET    /api/v1/access/requests[?status=]      POST /api/v1/access/requests
//   GET    /api/v1/access/requests/{id}           POST /api/v1/access/requests/{id}/{approve|deny}
//   GET    /api/v1/access/grants[?all=true]       POST /api/v1/access/grants
//   DELETE /api/v1/access/grants/{id}
//   GET    /api/v1/principals                     POST /api/v1/principals
//   PUT    /api/v1/principals/{name}/attributes/{key}   POST|DELETE .../groups/{group}
//   GET    /api/v1/tokens[?principal=]            POST /api/v1/tokens   DELETE /api/v1/tokens/{id}
//   GET    /api/v1/audit[?principal=&action=&product=&decision=&since=&until=&text=&limit=]
//   GET    /api/v1/audit/verify
#include <nlohmann/json.hpp>

#include "plexus/access/access_admin.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

json RequestJson(const catalog::AccessRequestRecord& r) {
  return {{"id", r.id},           {"principal", r.principal},   {"target", r.target},
          {"purpose", r.purpose}, {"expires_at", r.expires_at}, {"status", r.status},
          {"created_at", r.created_at}, {"decided_by", r.decided_by},
          {"decided_at", r.decided_at}, {"reason", r.reason},   {"grant_id", r.grant_id}};
}

json GrantJson(const catalog::GrantRecord& g) {
  return {{"id", g.id},
          {"grantee", g.grantee},
          {"grantee_kind", g.grantee_kind},
          {"target", g.target},
          {"purpose", g.purpose},
          {"expires_at", g.expires_at},
          {"granted_by", g.granted_by},
          {"granted_at", g.granted_at},
          {"request_id", g.request_id},
          {"revoked_at", g.revoked_at},
          {"revoked_by", g.revoked_by},
          {"active", g.ActiveAt(catalog::NowUtc())}};
}

json PrincipalJson(const catalog::PrincipalRecord& p) {
  return {{"name", p.name},         {"kind", p.kind},     {"admin", p.admin},
          {"disabled", p.disabled}, {"groups", p.groups}, {"attributes", p.attributes},
          {"domain_roles", p.domain_roles}, {"created_at", p.created_at}};
}

json AuditJson(const catalog::AuditRecord& r) {
  return {{"seq", r.seq},         {"at", r.at},         {"principal", r.principal},
          {"action", r.action},   {"object", r.object}, {"products", r.products},
          {"decision", r.decision}, {"rows", r.rows},   {"detail", r.detail},
          {"hash", r.hash}};
}

/// The number in a route's capture; kInvalidArgument when it is not one.
Result<int64_t> IdParam(const httplib::Request& req, size_t index) {
  std::string text = req.matches[index].str();
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("not a number: " + text);
  }
  return std::stoll(text);
}

void RequestRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  routes.Get("/api/v1/access/requests", "Access requests the caller may see (?status=pending...)", [catalog](const auto& req, auto& res,
                                                                   const auto& actor) {
    access::AccessAdmin admin(catalog);
    SendPage(req, res, admin.ListRequests(actor, req.get_param_value("status")), "requests",
             RequestJson);
  }).Tag("access").Paged().Query("status", "pending, approved, denied or withdrawn");
  routes.Get("/api/v1/access/requests/{id}", "One access request",
           [catalog](const auto& req, auto& res, const auto& actor) {
             access::AccessAdmin admin(catalog);
             auto id = IdParam(req, 1);
             auto list = admin.ListRequests(actor, "");
             if (!id.ok() || !list.ok()) return SendError(res, id.ok() ? list.status() : id.status());
             for (const auto& r : *list) {
               if (r.id == *id) return SendJson(res, RequestJson(r));
             }
             SendError(res, NotFound("no access request " + std::to_string(*id)));
           }).Tag("access");
  routes.Post("/api/v1/access/requests", "Ask for access to a product or port, for oneself",
            [catalog](const auto& req, auto& res, const auto& actor) {
              std::string target, purpose, expires;
              Status read = ReadTextBody(
                  req, {{"target", &target}, {"purpose", &purpose}, {"expires_at", &expires}});
              if (!read.ok()) return SendError(res, read);
              access::AccessAdmin admin(catalog);
              auto id = admin.RequestAccess(actor, target, purpose, expires);
              if (!id.ok()) return SendError(res, id.status());
              auto request = catalog->GetAccessRequest(*id);
              if (!request.ok()) return SendError(res, request.status());
              SendJson(res, RequestJson(*request), 201);
            }).Tag("access").Created().Body("{\"target\", \"purpose\", \"expires_at\"}");
  auto decide = [catalog](bool approve) -> SignedInHandler {
    return [catalog, approve](const auto& req, auto& res, const auto& actor) {
              auto id = IdParam(req, 1);
              if (!id.ok()) return SendError(res, id.status());
              std::string reason;
              Status read = req.body.empty() ? Status::OK()
                                             : ReadTextBody(req, {{"reason", &reason}});
              if (!read.ok()) return SendError(res, read);
              access::AccessAdmin admin(catalog);
              auto decided = admin.Decide(actor, *id, approve, reason);
              if (!decided.ok()) return SendError(res, decided.status());
              SendJson(res, RequestJson(*decided));
            };
  };
  routes.Post("/api/v1/access/requests/{id}/approve", "Approve a pending request (owners, admins)", decide(true))
      .Tag("access").Body("{\"reason\"} (optional)");
  routes.Post("/api/v1/access/requests/{id}/deny", "Deny a pending request (owners, admins)", decide(false))
      .Tag("access").Body("{\"reason\"} (optional)");
}

void GrantRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  routes.Get("/api/v1/access/grants", "Grants the caller may see (?all=true: revoked and expired too)", [catalog](const auto& req, auto& res,
                                                                 const auto& actor) {
    access::AccessAdmin admin(catalog);
    SendPage(req, res, admin.ListGrants(actor, req.get_param_value("all") != "true"), "grants",
             GrantJson);
  }).Tag("access").Paged().Query("all", "true: revoked and expired grants too", "boolean");
  routes.Post("/api/v1/access/grants", "Grant access directly (owners of the domain, admins)",
            [catalog](const auto& req, auto& res, const auto& actor) {
              catalog::GrantRecord grant;
              Status read = ReadTextBody(req, {{"target", &grant.target},
                                               {"grantee", &grant.grantee},
                                               {"grantee_kind", &grant.grantee_kind},
                                               {"purpose", &grant.purpose},
                                               {"expires_at", &grant.expires_at}});
              if (!read.ok()) return SendError(res, read);
              if (grant.grantee_kind.empty()) grant.grantee_kind = "principal";
              access::AccessAdmin admin(catalog);
              auto id = admin.Grant(actor, grant);
              if (!id.ok()) return SendError(res, id.status());
              auto stored = catalog->GetGrant(*id);
              if (!stored.ok()) return SendError(res, stored.status());
              SendJson(res, GrantJson(*stored), 201);
            }).Tag("access").Created().Body("{\"target\", \"grantee\", \"grantee_kind\", \"purpose\", \"expires_at\"}");
  routes.Delete("/api/v1/access/grants/{id}", "Revoke a grant",
              [catalog](const auto& req, auto& res, const auto& actor) {
                auto id = IdParam(req, 1);
                if (!id.ok()) return SendError(res, id.status());
                access::AccessAdmin admin(catalog);
                Status revoked = admin.Revoke(actor, *id);
                if (!revoked.ok()) return SendError(res, revoked);
                SendJson(res, {{"revoked", *id}});
              }).Tag("access");
}

void PrincipalRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  routes.Get("/api/v1/me", "The signed-in principal", [catalog](const auto&, auto& res, const auto& actor) {
    auto record = catalog->GetPrincipal(actor.name);
    if (!record.ok()) return SendError(res, record.status());
    SendJson(res, PrincipalJson(*record));
  }).Tag("principals");
  routes.Get("/api/v1/principals", "Principals (admins: all; others: themselves)",
           [catalog](const auto& req, auto& res, const auto& actor) {
             access::AccessAdmin admin(catalog);
             SendPage(req, res, admin.ListPrincipals(actor), "principals", PrincipalJson);
           }).Tag("principals").Paged();
  routes.Post("/api/v1/principals", "Create a principal (admins)",
            [catalog](const auto& req, auto& res, const auto& actor) {
              auto body = BodyObject(req, {"name", "kind", "admin", "attributes"});
              if (!body.ok()) return SendError(res, body.status());
              catalog::PrincipalRecord p;
              auto name = StringField(*body, "name");
              auto kind = StringField(*body, "kind");
              if (!name.ok() || !kind.ok()) {
                return SendError(res, name.ok() ? kind.status() : name.status());
              }
              p.name = *name;
              p.kind = kind->empty() ? "user" : *kind;
              p.admin = body->value("admin", false);
              if (body->contains("attributes")) {
                const json& attrs = (*body)["attributes"];
                if (!attrs.is_object()) {
                  return SendError(res, InvalidArgument("attributes must be an object"));
                }
                for (const auto& [key, value] : attrs.items()) {
                  if (!value.is_string()) {
                    return SendError(res, InvalidArgument("attribute " + key + " must be text"));
                  }
                  p.attributes[key] = value.template get<std::string>();
                }
              }
              access::AccessAdmin admin(catalog);
              Status created = admin.CreatePrincipal(actor, p);
              if (!created.ok()) return SendError(res, created);
              auto stored = catalog->GetPrincipal(p.name);
              if (!stored.ok()) return SendError(res, stored.status());
              SendJson(res, PrincipalJson(*stored), 201);
            }).Tag("principals").Created().Body("{\"name\", \"kind\", \"admin\", \"attributes\"}");
  routes.Put("/api/v1/principals/{name}/attributes/{key}", "Set (or with an empty value remove) an attribute (admins)",
           [catalog](const auto& req, auto& res, const auto& actor) {
             std::string value;
             Status read = ReadTextBody(req, {{"value", &value}});
             if (!read.ok()) return SendError(res, read);
             access::AccessAdmin admin(catalog);
             Status set = admin.SetAttribute(actor, req.matches[1].str(), req.matches[2].str(),
                                             value);
             if (!set.ok()) return SendError(res, set);
             SendJson(res, {{"updated", req.matches[1].str()}});
           }).Tag("principals").Body("{\"value\"}");
  auto group_change = [catalog](bool add) {
    return SignedInHandler([catalog, add](const auto& req, auto& res, const auto& actor) {
      access::AccessAdmin admin(catalog);
      std::string name = req.matches[1].str(), group = req.matches[2].str();
      Status changed = add ? admin.AddGroupMember(actor, group, name)
                           : admin.RemoveGroupMember(actor, group, name);
      if (!changed.ok()) return SendError(res, changed);
      SendJson(res, {{"principal", name}, {"group", group}, {"member", add}});
    });
  };
  routes.Post("/api/v1/principals/{name}/groups/{group}", "Add a principal to a group (admins)",
              group_change(true))
      .Tag("principals");
  routes.Delete("/api/v1/principals/{name}/groups/{group}",
                "Remove a principal from a group (admins)", group_change(false))
      .Tag("principals");
}

void TokenRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  routes.Get("/api/v1/tokens", "API tokens (own; admins: ?principal=)", [catalog](const auto& req, auto& res,
                                                          const auto& actor) {
    access::AccessAdmin admin(catalog);
    SendPage(req, res, admin.ListTokens(actor, req.get_param_value("principal")), "tokens",
             [](const catalog::TokenRecord& t) {
               return json{{"id", t.id},           {"principal", t.principal},
                           {"label", t.label},     {"created_at", t.created_at},
                           {"expires_at", t.expires_at}, {"revoked_at", t.revoked_at},
                           {"last_used_at", t.last_used_at}};
             });
  }).Tag("tokens").Paged().Query("principal", "whose tokens (admins)");
  routes.Post("/api/v1/tokens", "Issue an API token (the secret is shown once)",
            [catalog](const auto& req, auto& res, const auto& actor) {
              std::string principal, label, expires;
              Status read = ReadTextBody(
                  req, {{"principal", &principal}, {"label", &label}, {"expires_at", &expires}});
              if (!read.ok()) return SendError(res, read);
              access::AccessAdmin admin(catalog);
              std::string whose = principal.empty() ? actor.name : principal;
              auto secret = admin.IssueToken(actor, whose, label, expires);
              if (!secret.ok()) return SendError(res, secret.status());
              SendJson(res, {{"principal", whose}, {"token", *secret}}, 201);
            }).Tag("tokens").Created().Body("{\"principal\", \"label\", \"expires_at\"}");
  routes.Delete("/api/v1/tokens/{id}", "Revoke an API token",
              [catalog](const auto& req, auto& res, const auto& actor) {
                access::AccessAdmin admin(catalog);
                Status revoked = admin.RevokeToken(actor, req.matches[1].str());
                if (!revoked.ok()) return SendError(res, revoked);
                SendJson(res, {{"revoked", req.matches[1].str()}});
              }).Tag("tokens");
}

void AuditRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  routes.Get("/api/v1/audit", "Search the audit trail (admins), newest first", [catalog](const auto& req, auto& res,
                                                         const auto& actor) {
    catalog::AuditFilter filter;
    filter.principal = req.get_param_value("principal");
    filter.action = req.get_param_value("action");
    filter.product = req.get_param_value("product");
    filter.decision = req.get_param_value("decision");
    filter.since = req.get_param_value("since");
    filter.until = req.get_param_value("until");
    filter.text = req.get_param_value("text");
    auto page = ReadPage(req);
    if (!page.ok()) return SendError(res, page.status());
    filter.before_seq = static_cast<int64_t>(page->offset);  // the audit's cursor is a seq
    filter.limit = static_cast<int>(page->limit + 1);        // one more: is there a next?
    access::AccessAdmin admin(catalog);
    auto records = admin.SearchAudit(actor, filter);
    if (!records.ok()) return SendError(res, records.status());
    bool more = records->size() > page->limit;
    if (more) records->resize(page->limit);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& record : *records) list.push_back(AuditJson(record));
    nlohmann::json body = {{"records", std::move(list)}};
    AddNextLink(req, page->limit, more ? std::to_string(records->back().seq) : "", body);
    SendJson(res, body);
  }).Tag("audit").Paged().Query("principal", "who").Query("action", "what was done").Query("product", "domain.product").Query("decision", "allowed or denied").Query("since", "ISO time").Query("until", "ISO time").Query("text", "words in the record");
  routes.Get("/api/v1/audit/verify", "Recompute the audit trail's hash chain (admins)",
           [catalog](const auto&, auto& res, const auto& actor) {
             access::AccessAdmin admin(catalog);
             auto report = admin.VerifyAudit(actor);
             if (!report.ok()) return SendError(res, report.status());
             SendJson(res, {{"ok", report->ok},
                            {"records", report->records},
                            {"first_bad_seq", report->first_bad_seq},
                            {"message", report->message}});
           }).Tag("audit");
}

}  // namespace

void AccessRoutes(RouteTable& routes, catalog::Catalog* catalog) {
  RequestRoutes(routes, catalog);
  GrantRoutes(routes, catalog);
  PrincipalRoutes(routes, catalog);
  TokenRoutes(routes, catalog);
  AuditRoutes(routes, catalog);
}

}  // namespace plexus::server::internal
