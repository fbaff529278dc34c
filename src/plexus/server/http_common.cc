// What the HTTP handlers share: JSON errors, sign-in, request bodies, visible products.
#include <algorithm>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "plexus/server/http_internal.h"

namespace plexus::server::internal {

using nlohmann::json;

std::string ErrorCode(StatusCode code) {
  std::string name;
  for (char c : StatusCodeName(code)) {
    if (c == '/') continue;  // "I/O error" -> io_error
    name.push_back(c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return name;
}

void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  if (status.code() == StatusCode::kUnauthenticated) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"plexus\"");
  }
  json body = {{"error", {{"code", ErrorCode(status.code())}, {"message", status.message()}}}};
  res.set_content(body.dump() + "\n", "application/json");
}

void SendJson(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

Result<access::Principal> SignIn(const httplib::Request& req, const catalog::Catalog& catalog) {
  std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    return Unauthenticated(
        "sign in: send the header Authorization: Bearer <token> (see plexus token issue)");
  }
  return access::AuthenticateToken(catalog, header.substr(kBearer.size()));
}

namespace {
Result<json> ParseBodyObject(const httplib::Request& req,
                             const std::vector<std::string_view>& allowed) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string fields;
      for (auto name : allowed) fields += (fields.empty() ? "" : ", ") + std::string(name);
      return InvalidArgument("field " + key + " may not be set here (allowed: " + fields + ")");
    }
  }
  return body;
}
}  // namespace

Result<json> BodyObject(const httplib::Request& req,
                        std::initializer_list<std::string_view> allowed) {
  return ParseBodyObject(req, std::vector<std::string_view>(allowed));
}

Status ReadTextBody(const httplib::Request& req,
                    std::initializer_list<std::pair<std::string_view, std::string*>> fields) {
  std::vector<std::string_view> allowed;
  for (const auto& field : fields) allowed.push_back(field.first);
  PLEXUS_ASSIGN_OR_RETURN(json body, ParseBodyObject(req, allowed));
  for (const auto& [key, out] : fields) {
    PLEXUS_ASSIGN_OR_RETURN(*out, StringField(body, key));
  }
  return Status::OK();
}

Result<std::string> StringField(const json& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument("field " + std::string(key) + " must be text");
  return it->get<std::string>();
}

httplib::Server::Handler SignedIn(const catalog::Catalog* catalog, SignedInHandler handler) {
  return [catalog, handler](const httplib::Request& req, httplib::Response& res) {
    auto principal = SignIn(req, *catalog);
    if (!principal.ok()) return SendError(res, principal.status());
    NoteRequestPrincipal(principal->name);
    handler(req, res, *principal);
  };
}

Result<std::shared_ptr<const access::AccessPolicy>> CurrentPolicy(access::QueryService& queries) {
  PLEXUS_RETURN_IF_ERROR(queries.Refresh());
  return queries.policy();
}

Result<catalog::ProductRecord> VisibleProduct(const catalog::Catalog& catalog,
                                              const access::AccessPolicy& policy,
                                              const access::Principal& principal,
                                              const std::string& ref) {
  auto product = catalog.GetProduct(ref);
  auto visible = product.ok() ? policy.Visible(principal, std::move(product).value())
                              : Result<catalog::ProductRecord>(product.status());
  if (!visible.ok()) {  // unknown and hidden read alike
    return NotFound("unknown data product " + ref + " (see /api/v1/products)");
  }
  return visible;
}

Result<std::vector<catalog::ProductRecord>> VisibleProducts(const catalog::Catalog& catalog,
                                                            const access::AccessPolicy& policy,
                                                            const access::Principal& principal) {
  PLEXUS_ASSIGN_OR_RETURN(auto products, catalog.ListProducts());
  std::vector<catalog::ProductRecord> out;
  for (auto& p : products) {
    auto visible = policy.Visible(principal, std::move(p));
    if (visible.ok()) out.push_back(std::move(visible).value());
  }
  return out;
}

}  // namespace plexus::server::internal
