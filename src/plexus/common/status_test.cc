#include "plexus/common/status.h"

#include <gtest/gtest.h>

namespace plexus {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgument("odd: " + std::to_string(n));
  return n / 2;
}

Result<int> Quarter(int n) {
  PLEXUS_ASSIGN_OR_RETURN(int h, Half(n));
  PLEXUS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, PropagatesTheFirstFailure) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(StatusTest, MapsCodesToHttpAndSqlState) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(SqlStateFor(StatusCode::kPermissionDenied), "42501");
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
}

TEST(StatusTest, PrefixKeepsTheCode) {
  Status s = NotFound("x").WithPrefix("catalog");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not found: catalog: x");
  EXPECT_TRUE(Status::OK().WithPrefix("a").ok());
}

}  // namespace
}  // namespace plexus
