#include "plexus/common/time.h"

#include <gtest/gtest.h>

namespace plexus {
namespace {

TEST(UtcSecondsTest, ReadsTheCatalogsTimes) {
  EXPECT_EQ(UtcSeconds("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_EQ(UtcSeconds("2026-11-25T23:50:01Z"), 1795650601.0);
  EXPECT_EQ(UtcSeconds("2026-11-25T23:50:01.250Z"), 1795650601.25);
  EXPECT_EQ(UtcSeconds("2024-02-29T12:00:00"), 1709208000.0);  // a leap day, no zone letter
}

TEST(UtcSecondsTest, RefusesWhatIsNotATime) {
  EXPECT_FALSE(UtcSeconds("").has_value());
  EXPECT_FALSE(UtcSeconds("2026-11-25").has_value());
  EXPECT_FALSE(UtcSeconds("yesterday").has_value());
  EXPECT_FALSE(UtcSeconds("2026-11-25T23:50").has_value());
}

}  // namespace
}  // namespace plexus
