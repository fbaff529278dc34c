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

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace plexus::observe {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Writes one line. `fields` must be a JSON object (or null); its keys follow ts, level, event.
void Log(LogLevel level, std::string_view event, const nlohmann::json& fields = nullptr);

/// Lines below `level` are dropped (default kInfo).
void SetLogLevel(LogLevel level);

/// A new request id: 16 lowercase hex digits, random.
std::string NewRequestId();

}  // namespace plexus::observe
