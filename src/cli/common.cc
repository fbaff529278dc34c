#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "plexus/server/server_file.h"

namespace plexus::cli {

Result<std::unique_ptr<catalog::Catalog>> Context::OpenCatalog() const {
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, OpenHome());
  return catalog::Catalog::Open(home);
}

Result<access::Principal> Context::SignIn(catalog::Catalog& catalog) const {
  std::optional<std::string> secret = global.token;
  if (!secret.has_value()) {
    if (const char* env = std::getenv("PLEXUS_TOKEN"); env != nullptr) secret = env;
  }
  if (secret.has_value()) return access::AuthenticateToken(catalog, *secret);
  return LocalAdmin(catalog);
}

Result<std::optional<server::RemoteServer>> Context::Server() const {
  std::optional<std::string> token = global.token;
  if (!token.has_value()) {
    if (const char* env = std::getenv("PLEXUS_TOKEN"); env != nullptr) token = env;
  }
  std::string url = global.server;
  if (url.empty()) {
    if (const char* env = std::getenv("PLEXUS_SERVER"); env != nullptr) url = env;
  }
  auto found = server::FindServer(HomeDir());
  if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
  if (url.empty()) {
    if (!found.ok()) return std::optional<server::RemoteServer>();
    url = found->http_url;
  }
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  if (!token.has_value()) {
    // The home's admin token: only for the server that holds this very home.
    if (!found.ok() || found->http_url != url || found->admin_token.empty()) {
      return InvalidArgument("talking to the server at " + url +
                             " needs a token: --token or PLEXUS_TOKEN");
    }
    token = found->admin_token;
  }
  return std::optional<server::RemoteServer>(server::RemoteServer{url, *token});
}

Result<access::Principal> LocalAdmin(catalog::Catalog& catalog) {
  auto admin = catalog.GetPrincipal(kLocalAdmin);
  if (!admin.ok() && admin.status().code() == StatusCode::kNotFound) {
    catalog::PrincipalRecord record;
    record.name = kLocalAdmin;
    record.kind = "user";
    record.admin = true;
    PLEXUS_RETURN_IF_ERROR(catalog.CreatePrincipal(record, "local"));
  }
  return access::LoadPrincipal(catalog, kLocalAdmin);
}

Status AsActor(const Context& ctx, const AdminWork& work) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  access::AccessAdmin admin(catalog.get());
  return work(admin, actor);
}

void AdminLeaf(CLI::App* sub, Context& ctx, std::function<AdminWork()> make) {
  sub->callback([&ctx, make] { ctx.action = [&ctx, make] { return AsActor(ctx, make()); }; });
}

void PrintProblems(const std::vector<spec::Diagnostic>& problems) {
  for (const auto& problem : problems) std::cerr << problem.ToString() << "\n";
}

}  // namespace plexus::cli
