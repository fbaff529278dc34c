#include "plexus/observe/log.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <regex>

namespace plexus::observe {
namespace {

using nlohmann::json;

/// Where the lines go: stderr, or a file SetLogFile opened. One write per line, under mu.
struct LogSink {
  std::mutex mu;
  std::FILE* file = nullptr;  // guarded by mu; null: stderr
  ~LogSink() {
    if (file != nullptr) std::fclose(file);
  }
};

LogSink& Sink() {
  static auto* sink = new LogSink();  // never destroyed: threads may log during exit
  return *sink;
}

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int64_t> g_dropped{0};

/// stderr may be a pipe nobody reads (a parent that only wanted stdout): a line that cannot be
/// written at once is dropped and counted rather than blocking the server's threads.
void WriteStderr(const std::string& line) {
  pollfd target{STDERR_FILENO, POLLOUT, 0};
  if (::poll(&target, 1, 0) != 1 || (target.revents & POLLOUT) == 0) {
    g_dropped.fetch_add(1);
    return;
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

/// Dumps text as JSON; invalid UTF-8 is replaced, never thrown.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string IsoMillis(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[96];
  std::snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return out;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string FormatLogLine(int64_t unix_ms, LogLevel level, std::string_view event,
                          const json& fields) {
  std::string line = "{\"ts\":\"" + IsoMillis(unix_ms) + "\",\"level\":\"" +
                     std::string(LogLevelName(level)) + "\",\"event\":" +
                     Dump(json(std::string(event)));
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      std::string name = key == "ts" || key == "level" || key == "event" ? "_" + key : key;
      line += "," + Dump(json(name)) + ":" + Dump(value);
    }
  } else if (!fields.is_null()) {
    line += ",\"fields\":" + Dump(fields);
  }
  line += "}";
  return line;
}

void Log(LogLevel level, std::string_view event, const json& fields) {
  if (!LogEnabled(level)) return;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  std::string line = FormatLogLine(now, level, event, fields);
  line.push_back('\n');
  LogSink& sink = Sink();
  std::lock_guard lock(sink.mu);
  if (sink.file == nullptr) return WriteStderr(line);
  std::fwrite(line.data(), 1, line.size(), sink.file);
  std::fflush(sink.file);
}

int64_t DroppedLogLines() { return g_dropped.load(); }

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

Status SetLogFile(const std::string& path) {
  std::FILE* file = nullptr;
  if (!path.empty() && path != "-") {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return IOError("cannot open the log file " + path);
    file = ::fdopen(fd, "a");
    if (file == nullptr) {
      ::close(fd);
      return IOError("cannot open the log file " + path);
    }
  }
  LogSink& sink = Sink();
  std::lock_guard lock(sink.mu);
  if (sink.file != nullptr) std::fclose(sink.file);
  sink.file = file;
  return Status::OK();
}

json SchedulerLineFields(const std::string& line) {
  static const std::regex kRun(
      R"(^plexus: run (\S+) \(([A-Za-z_-]+)(?:, attempt (\d+))?\): (.*?)(?: \((\d+(?:\.\d+)?)s\))?$)");
  static const std::regex kRows(R"(, ([^,:]+): (\d+) rows)");
  std::smatch m;
  if (!std::regex_match(line, m, kRun)) {
    std::string event = line.rfind("plexus: stream ", 0) == 0 ? "pipeline.stream"
                        : line.rfind("plexus: warning", 0) == 0 ? "pipeline.warning"
                                                                 : "pipeline.log";
    return {{"event", event}, {"message", line}};
  }
  json fields = {{"event", "pipeline.run"}, {"product", m[1].str()}, {"trigger", m[2].str()},
                 {"attempt", m[3].matched ? std::stoi(m[3].str()) : 1}};
  std::string rest = m[4].str();
  size_t end = rest.find_first_of(",:");
  fields["status"] = rest.substr(0, end);
  if (rest.compare(0, 17, "could not start: ") == 0) {
    fields["status"] = "could_not_start";
    fields["reason"] = rest.substr(17);
  } else if (end != std::string::npos && rest[end] == ':') {
    fields["reason"] = rest.substr(end + 2 <= rest.size() ? end + 2 : rest.size());
  }
  json rows = json::object();
  for (std::sregex_iterator it(rest.begin(), rest.end(), kRows), done; it != done; ++it) {
    rows[(*it)[1].str()] = std::stoll((*it)[2].str());
  }
  if (!rows.empty()) fields["rows"] = rows;
  if (m[5].matched) fields["seconds"] = std::stod(m[5].str());
  return fields;
}

void LogSchedulerLine(const std::string& line) {
  json fields = SchedulerLineFields(line);
  std::string event = fields["event"];
  fields.erase("event");
  bool fine = event == "pipeline.log" ||
              (event == "pipeline.run" && fields.value("status", "") == "succeeded");
  Log(fine ? LogLevel::kInfo : LogLevel::kWarn, event, fields);
}

std::string NewRequestId() {
  thread_local std::mt19937_64 random([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = random();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, bits >>= 4) id[i] = kHex[bits & 15];
  return id;
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace plexus::observe
