#include "plexus/common/time.h"

#include <cstdio>
#include <ctime>

namespace plexus {

std::optional<double> UtcSeconds(const std::string& iso) {
  std::tm tm{};
  int millis = 0;
  int fields = std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
                           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis);
  if (fields < 6 || iso.size() < 19) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + (fields == 7 ? millis / 1000.0 : 0);
}

}  // namespace plexus
