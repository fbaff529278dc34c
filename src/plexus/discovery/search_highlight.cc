// Highlighting (search.h): the words a search matched, marked in a document's text. In C++
// over the page's documents rather than FTS5's highlight(), which runs the MATCH again per
// document (docs/adr/0008-discovery.md).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "plexus/common/text.h"
#include "plexus/discovery/search.h"

namespace plexus::discovery {

namespace {

/// The words of `text` that `marks` name, as [begin, end) byte ranges in order. Finds each
/// mark with std::string::find over the lower-cased text (fast on long fields) and keeps the
/// hits that start a word (and end it, for a whole-word mark).
std::vector<std::pair<size_t, size_t>> MarkedWords(
    const std::string& text, const std::vector<std::pair<std::string, bool>>& marks) {
  std::string lower = AsciiLower(text);
  std::vector<std::pair<size_t, size_t>> words;
  for (const auto& [mark, prefix] : marks) {
    if (mark.empty()) continue;
    for (size_t at = lower.find(mark); at != std::string::npos; at = lower.find(mark, at + 1)) {
      if (at > 0 && IsSearchWordByte(static_cast<unsigned char>(lower[at - 1]))) continue;
      size_t end = at + mark.size();
      bool whole = end == lower.size() || !IsSearchWordByte(static_cast<unsigned char>(lower[end]));
      if (!prefix && !whole) continue;
      while (end < lower.size() && IsSearchWordByte(static_cast<unsigned char>(lower[end]))) end++;
      words.emplace_back(at, end);
    }
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

/// text[from, to) with the marked words in it between kMarkOpen and kMarkClose.
std::string Marked(const std::string& text, const std::vector<std::pair<size_t, size_t>>& words,
                   size_t from, size_t to) {
  std::string out;
  size_t at = from;
  for (const auto& [begin, end] : words) {
    if (begin < at || end > to) continue;
    out.append(text, at, begin - at);
    out += kMarkOpen;
    out.append(text, begin, end - begin);
    out += kMarkClose;
    at = end;
  }
  out.append(text, at, to - at);
  return out;
}

}  // namespace

std::string Highlight(const std::string& text,
                      const std::vector<std::pair<std::string, bool>>& marks, size_t window) {
  auto words = MarkedWords(text, marks);
  if (window == 0 || text.size() <= window || words.empty()) {
    return Marked(text, words, 0, text.size());
  }
  // A window around the first match, cut at spaces (never inside a word).
  size_t first = words.front().first;
  size_t from = first > window / 3 ? first - window / 3 : 0;
  while (from > 0 && text[from - 1] != ' ') from--;
  size_t to = std::min(text.size(), from + window);
  while (to < text.size() && text[to] != ' ') to++;
  return (from > 0 ? "…" : "") + Marked(text, words, from, to) + (to < text.size() ? "…" : "");
}

std::vector<std::string> HighlightLines(const std::string& text,
                                        const std::vector<std::pair<std::string, bool>>& marks) {
  std::vector<std::string> lines;
  auto words = MarkedWords(text, marks);
  size_t next = 0;  // the first word not yet placed on a line
  while (next < words.size()) {
    size_t begin = text.rfind('\n', words[next].first);
    begin = begin == std::string::npos ? 0 : begin + 1;
    size_t end = text.find('\n', words[next].first);
    if (end == std::string::npos) end = text.size();
    lines.push_back(Marked(text, words, begin, end));
    while (next < words.size() && words[next].first < end) next++;
  }
  return lines;
}

std::string RenderHighlight(const std::string& text, const std::string& open,
                            const std::string& close, bool html) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    if (c == kMarkOpen[0]) {
      out += open;
    } else if (c == kMarkClose[0]) {
      out += close;
    } else if (html && c == '<') {
      out += "&lt;";
    } else if (html && c == '>') {
      out += "&gt;";
    } else if (html && c == '&') {
      out += "&amp;";
    } else if (html && c == '"') {
      out += "&quot;";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace plexus::discovery
