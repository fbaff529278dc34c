// The route table (one source for the handlers and the OpenAPI document), pages, and the
// without a socket. The real server is tested by tests/http/.
#include <gtest/gtest.h>

#include "plexus/server/http_routes.h"

namespace plexus::server {
namespace {

using internal::Page;
using internal::RouteTable;

TEST(RouteTableTest, PathTemplatesBecomeOneSegmentPatterns) {
  internal::Route route;
  route.path = "/api/v1/products/{ref}/contracts/{id}";
  EXPECT_EQ(route.Pattern(), "/api/v1/products/([^/]+)/contracts/([^/]+)");
}

TEST(RouteTableTest, OpenApiDocumentsEveryRouteWithItsParameters) {
  RouteTable routes(nullptr);
  routes.Get("/api/v1/runs", "runs", [](const auto&, auto&, const auto&) {}).Paged();
  routes.Post("/api/v1/runs/{id}/x", "x", [](const auto&, auto&, const auto&) {}).Created();
  routes.Public("GET", "/healthz", "alive", [](const auto&, auto&) {});
  nlohmann::json doc = routes.OpenApi();
  ASSERT_TRUE(doc["paths"].contains("/api/v1/runs"));
  const auto& list = doc["paths"]["/api/v1/runs"]["get"];
  std::vector<std::string> names;
  for (const auto& p : list["parameters"]) names.push_back(p["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"limit", "cursor"}));
  EXPECT_FALSE(list["security"].empty());
  const auto& post = doc["paths"]["/api/v1/runs/{id}/x"]["post"];
  EXPECT_EQ(post["parameters"][0]["in"], "path");
  EXPECT_TRUE(post["responses"].contains("201"));
  EXPECT_TRUE(doc["paths"]["/healthz"]["get"]["security"].empty());
  EXPECT_EQ(routes.MethodsAt("/api/v1/runs/7/x"), std::vector<std::string>{"POST"});
  EXPECT_TRUE(routes.MethodsAt("/api/v1/runs/7/x/y").empty());
}

TEST(PageTest, ReadsLimitAndCursorAndRefusesBadOnes) {
  httplib::Request req;
  auto page = internal::ReadPage(req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->limit, static_cast<size_t>(Page::kDefaultLimit));
  req.params = {{"limit", "10"}, {"cursor", "20"}, {"q", "a b"}};
  req.path = "/api/v1/search";
  page = internal::ReadPage(req);
  ASSERT_TRUE(page.ok());
  nlohmann::json body;
  internal::AddNextLink(req, *page, true, body);
  EXPECT_EQ(body["next_cursor"], "30");
  EXPECT_EQ(body["next"], "/api/v1/search?q=a%20b&limit=10&cursor=30");
  for (const char* bad : {"0", "-1", "1001", "x", ""}) {
    req.params = {{"limit", bad}};
    EXPECT_FALSE(internal::ReadPage(req).ok()) << bad;
  }
}

}  // namespace
}  // namespace plexus::server
