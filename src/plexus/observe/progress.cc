#include "plexus/observe/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace plexus::observe {

std::string FormatBar(double fraction, int width) {
  if (width <= 0) return "";
  fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  int filled = static_cast<int>(std::floor(fraction * width + 1e-9));
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string FormatCount(double count) {
  static constexpr const char* kSuffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (std::fabs(count) >= 1000 && i < 4) {
    count /= 1000;
    ++i;
  }
  char out[32];
  if (i == 0) {
    std::snprintf(out, sizeof(out), "%.0f", count);
  } else {
    std::snprintf(out, sizeof(out), count < 100 ? "%.1f%s" : "%.0f%s", count, kSuffix[i]);
  }
  return out;
}

std::string FormatRate(double count, double seconds, const std::string& unit) {
  if (seconds < 0.2 || count < 0) return "";
  return FormatCount(count / seconds) + " " + unit + "/s";
}

std::string FormatDuration(double seconds) {
  auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char out[32];
  if (s < 60) {
    std::snprintf(out, sizeof(out), "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(out, sizeof(out), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(out, sizeof(out), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  }
  return out;
}

double EstimateRemaining(double fraction, double elapsed_s) {
  if (!(fraction > 0.001) || elapsed_s < 0.5) return -1;  // too early to tell
  if (fraction >= 1) return 0;
  return elapsed_s * (1 - fraction) / fraction;
}

std::string FormatProgress(const ProgressFigures& f, int bar_width) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += "  ";
    out += part;
  };
  if (f.fraction >= 0) {
    add(FormatBar(f.fraction, bar_width));
    add(std::to_string(static_cast<int>(std::clamp(f.fraction, 0.0, 1.0) * 100)) + "%");
  }
  if (f.done >= 0) {
    add(FormatCount(static_cast<double>(f.done)) +
        (f.total > 0 ? "/" + FormatCount(static_cast<double>(f.total)) : "") + " " + f.unit);
    add(FormatRate(static_cast<double>(f.done), f.elapsed_s, f.unit));
  }
  double eta = f.eta_s >= 0 ? f.eta_s : EstimateRemaining(f.fraction, f.elapsed_s);
  if (eta >= 0) add("ETA " + FormatDuration(eta));
  return out;
}

}  // namespace plexus::observe
