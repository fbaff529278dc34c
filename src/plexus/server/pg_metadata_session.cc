// SessionSettings: one connection's run-time parameters (SET / RESET / SHOW).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "plexus/server/pg_metadata.h"

namespace plexus::server::pg {
namespace {

struct Known {
  const char* name;       ///< canonical spelling (ParameterStatus, SHOW ALL)
  const char* value;      ///< default
  bool reported;          ///< sent with ParameterStatus
  bool read_only;         ///< SET refused with 55P02
  const char* description;
};

// The parameters clients read or set, with PostgreSQL 15's defaults (Plexus's where they
// differ: read-only transactions, UTC).
constexpr Known kKnown[] = {
    {"application_name", "", true, false, "Sets the application name to be reported."},
    {"bytea_output", "hex", false, false, "Sets the output format for bytea."},
    {"client_encoding", "UTF8", true, false, "Sets the client's character set encoding."},
    {"client_min_messages", "notice", false, false, "Sets the message levels sent to the client."},
    {"DateStyle", "ISO, MDY", true, false, "Sets the display format for date and time values."},
    {"default_transaction_isolation", "read committed", false, false, "Transaction isolation."},
    {"default_transaction_read_only", "on", true, false, "Every transaction is read-only."},
    {"extra_float_digits", "1", false, false, "Sets the number of digits for floating-point values."},
    {"idle_in_transaction_session_timeout", "0", false, false, "Idle-in-transaction timeout."},
    {"in_hot_standby", "off", true, true, "Whether hot standby is active."},
    {"integer_datetimes", "on", true, true, "Datetimes are integer based."},
    {"IntervalStyle", "postgres", true, false, "Sets the display format for interval values."},
    {"is_superuser", "off", true, true, "Whether the session user is a superuser."},
    {"lc_messages", "C", false, false, "Sets the language in which messages are displayed."},
    {"lc_monetary", "C", false, false, "Locale for formatting monetary amounts."},
    {"lc_numeric", "C", false, false, "Locale for formatting numbers."},
    {"lc_time", "C", false, false, "Locale for formatting date and time values."},
    {"lock_timeout", "0", false, false, "Lock wait timeout."},
    {"max_identifier_length", "63", false, true, "Maximum identifier length."},
    {"search_path", "\"$user\", public", false, false, "Schema search order."},
    {"server_encoding", "UTF8", true, true, "The server (database) character set encoding."},
    {"server_version", "15.0", true, true, "The server version (PostgreSQL protocol, Plexus)."},
    {"server_version_num", "150000", false, true, "The server version as an integer."},
    {"session_authorization", "", true, true, "The session user name."},
    {"standard_conforming_strings", "on", true, false, "'...' strings treat backslashes literally."},
    {"statement_timeout", "0", false, false, "Maximum duration of a statement (ms)."},
    {"TimeZone", "UTC", true, false, "Time zone for displaying time stamps."},
    {"transaction_isolation", "read committed", false, false, "Transaction isolation level."},
    {"transaction_read_only", "on", false, false, "The transaction is read-only."},
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const Known* Find(const std::string& lower_name) {
  for (const Known& k : kKnown) {
    if (Lower(k.name) == lower_name) return &k;
  }
  return nullptr;
}

bool Fail(WireError* error, std::string sqlstate, std::string message) {
  if (error != nullptr) *error = {std::move(sqlstate), std::move(message)};
  return false;
}

bool InvalidValue(WireError* error, const std::string& name, const std::string& value,
                  const std::string& why) {
  return Fail(error, "22023",
              "invalid value for parameter \"" + name + "\": \"" + value + "\"" +
                  (why.empty() ? "" : ": " + why));
}

/// A duration in milliseconds: 5000, '5s', '250ms', '1min', '1h', '1d'. -1 when invalid.
int64_t ParseMillis(const std::string& text) {
  std::string s = Lower(text);
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  if (s.empty()) return -1;
  char* end = nullptr;
  double number = std::strtod(s.c_str(), &end);
  std::string unit(end);
  double scale = unit.empty() || unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "min" ? 60000
                 : unit == "h" ? 3600000 : unit == "d" ? 86400000 : -1;
  if (scale < 0 || end == s.c_str() || number < 0 || number * scale > 2147483647.0) return -1;
  return static_cast<int64_t>(number * scale);
}

/// Normalises a value Plexus can honour; false when it cannot.
bool Normalise(const std::string& name, std::string* value, std::string* why) {
  std::string v = Lower(*value);
  if (name == "client_encoding") {
    if (v == "utf8" || v == "utf-8" || v == "unicode" || v == "auto") { *value = "UTF8"; return true; }
    if (v == "sql_ascii") { *value = "SQL_ASCII"; return true; }
    *why = "Plexus sends UTF8 only";
    return false;
  }
  if (name == "datestyle") {
    std::string order = "MDY";  // ISO output whatever the order; the order is kept for SHOW
    std::string word;
    for (char c : v + ",") {
      if (c == ',' || c == ' ') {
        if (word == "iso") {}
        else if (word == "dmy" || word == "euro" || word == "european") order = "DMY";
        else if (word == "ymd") order = "YMD";
        else if (word == "mdy" || word == "us" || word.empty()) {}
        else { *why = "Plexus writes dates in ISO style only"; return false; }
        word.clear();
      } else {
        word += c;
      }
    }
    *value = "ISO, " + order;
    return true;
  }
  if (name == "intervalstyle" && v != "postgres") { *why = "only postgres is supported"; return false; }
  if (name == "statement_timeout" || name == "lock_timeout" ||
      name == "idle_in_transaction_session_timeout") {
    int64_t ms = ParseMillis(*value);
    if (ms < 0) { *why = "a duration such as 5000, '5s' or '1min' is expected"; return false; }
    *value = std::to_string(ms);
    return true;
  }
  if (name == "extra_float_digits") {
    char* end = nullptr;
    long n = std::strtol(value->c_str(), &end, 10);
    if (end == value->c_str() || *end != '\0' || n < -15 || n > 3) {
      *why = "an integer from -15 to 3 is expected";
      return false;
    }
    return true;
  }
  if ((name == "transaction_read_only" || name == "default_transaction_read_only") &&
      (v == "off" || v == "false" || v == "0" || v == "no")) {
    *why = "Plexus serves data products read-only";
    return false;
  }
  if (name == "timezone" && v.empty()) { *why = "a time zone name is expected"; return false; }
  return true;
}

}  // namespace

SessionSettings::SessionSettings() {
  for (const Known& k : kKnown) values_[Lower(k.name)] = {k.value, k.value};
}

void SessionSettings::SetFromStartup(const std::string& name, const std::string& value) {
  std::string key = Lower(name);
  if (key == "user") {
    values_["session_authorization"] = {value, value};
    return;
  }
  WireError ignored;
  if (Set(key, value, &ignored)) values_[key].startup_value = values_[key].value;
}

bool SessionSettings::Set(const std::string& name, const std::string& value, WireError* error) {
  std::string key = Lower(name);
  const Known* known = Find(key);
  if (known == nullptr && key.find('.') == std::string::npos) {
    return Fail(error, "42704", "unrecognized configuration parameter \"" + name + "\"");
  }
  if (known != nullptr && known->read_only) {
    return Fail(error, "55P02", "parameter \"" + key + "\" cannot be changed");
  }
  std::string normal = value;
  std::string why;
  if (!Normalise(key, &normal, &why)) return InvalidValue(error, key, value, why);
  auto& entry = values_[key];
  entry.value = normal;
  if (key == "statement_timeout") statement_timeout_ms_ = std::stoll(normal);
  return true;
}

bool SessionSettings::Reset(const std::string& name, WireError* error) {
  std::string key = Lower(name);
  if (key == "all") {
    for (auto& [k, entry] : values_) entry.value = entry.startup_value;
  } else {
    auto it = values_.find(key);
    if (it == values_.end()) {
      if (key.find('.') != std::string::npos) return true;
      return Fail(error, "42704", "unrecognized configuration parameter \"" + name + "\"");
    }
    const Known* known = Find(key);
    if (known != nullptr && known->read_only) {
      return Fail(error, "55P02", "parameter \"" + key + "\" cannot be changed");
    }
    it->second.value = it->second.startup_value;
  }
  statement_timeout_ms_ = std::stoll(values_["statement_timeout"].value);
  return true;
}

bool SessionSettings::Show(const std::string& name, std::string* value, WireError* error) const {
  auto it = values_.find(Lower(name));
  if (it == values_.end()) {
    return Fail(error, "42704", "unrecognized configuration parameter \"" + name + "\"");
  }
  *value = it->second.value;
  if (Lower(name) == "statement_timeout" && *value != "0") *value += "ms";
  return true;
}

std::vector<std::vector<std::string>> SessionSettings::ShowAll() const {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, entry] : values_) {
    const Known* known = Find(key);
    rows.push_back({known != nullptr ? known->name : key, entry.value,
                    known != nullptr ? known->description : ""});
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return Lower(a[0]) < Lower(b[0]); });
  return rows;
}

std::vector<std::pair<std::string, std::string>> SessionSettings::ReportedParameters() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Known& k : kKnown) {
    if (k.reported) out.emplace_back(k.name, values_.at(Lower(k.name)).value);
  }
  return out;
}

bool SessionSettings::IsReported(const std::string& name) {
  const Known* known = Find(Lower(name));
  return known != nullptr && known->reported;
}

std::string SessionSettings::ReportedName(const std::string& name) {
  const Known* known = Find(Lower(name));
  return known != nullptr ? known->name : name;
}

const std::string& SessionSettings::application_name() const {
  return values_.at("application_name").value;
}

}  // namespace plexus::server::pg
