// File: plexus/observe/log.h
//
// Structured logs: one JSON object per line on stderr (or the file SetLogFile names), with
// the time, the level, an event name and the event's fields; a request's log lines carry its
// request id (HTTP: the X-Request-Id header, echoed; the wire protocol: one per connection).
//
//   observe::Log(observe::LogLevel::kInfo, "http.request",
//                {{"request_id", id}, {"method", "GET"}, {"status", 200}, {"ms", 1.2}});
//   -> {"ts":"2026-11-25T23:50:01.123Z","level":"info","event":"http.request","request_id":...}
//
// Thread safety: Log may be called from any thread; lines never interleave.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plexus/common/status.h"

namespace plexus::observe {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Writes one line. `fields` must be a JSON object (or null); its keys follow ts, level, event
/// (a field named ts, level or event is renamed with a leading underscore rather than dropped).
/// Text is escaped as JSON (control characters, quotes, invalid UTF-8 replaced), so a line never
/// breaks in two. A failing write is ignored: logging never fails the caller.
void Log(LogLevel level, std::string_view event, const nlohmann::json& fields = nullptr);

/// Lines dropped because stderr could not take them at once (a pipe nobody reads): logging
/// never blocks the server. A log file is always written.
int64_t DroppedLogLines();

/// Lines below `level` are dropped (default kInfo).
void SetLogLevel(LogLevel level);
/// Whether a line at `level` would be written (to skip building costly fields).
bool LogEnabled(LogLevel level);

/// Appends the lines to `path` (created 0600 if new) instead of stderr; "" or "-": back to
/// stderr. kIOError when the file cannot be opened (the previous destination stays).
Status SetLogFile(const std::string& path);

/// debug, info, warn (or warning), error; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
/// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);

/// One line as Log writes it (without the newline), at time `unix_ms` (ms since the epoch).
std::string FormatLogLine(int64_t unix_ms, LogLevel level, std::string_view event,
                          const nlohmann::json& fields);

/// One of plexus serve's scheduler lines ("plexus: run sales.orders (schedule): succeeded,
/// orders: 42 rows (0.31s)", "plexus: warning: ...") as a log line: pipeline.run with product,
/// trigger, attempt, status, rows (port -> count), seconds and reason (warn when the run did
/// not succeed); pipeline.warning and pipeline.stream (warn) for the others, with `message`.
void LogSchedulerLine(const std::string& line);
/// The fields LogSchedulerLine writes for `line` (its event name in "event").
nlohmann::json SchedulerLineFields(const std::string& line);

/// A new request id: 16 lowercase hex digits, random.
std::string NewRequestId();

/// Whether a client's X-Request-Id may be kept: 1 to 64 characters of [A-Za-z0-9._-].
bool ValidRequestId(std::string_view id);

}  // namespace plexus::observe
