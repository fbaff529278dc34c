// File: plexus/common/text.h
//
// Small text helpers shared by every module. ASCII only: SQL names and keywords are ASCII.
#pragma once

#include <string>
#include <string_view>

namespace plexus {

/// `text` with A-Z turned into a-z; other bytes unchanged.
inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace plexus
