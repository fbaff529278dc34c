// COPY (SELECT ...) TO STDOUT rows in PostgreSQL's text and CSV formats (pg_types.h).
#include "plexus/server/pg_types.h"
#include "plexus/server/pg_types_internal.h"

namespace plexus::server::pg {
namespace {

bool NeedsTextEscape(char c, char delimiter) {
  return c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f' || c == '\v' ||
         c == delimiter;
}

// CopyAttributeOutText: backslash escapes for the characters that would break the line.
void EscapeTextTail(std::string& out, size_t from, char delimiter) {
  size_t i = from;
  while (i < out.size() && !NeedsTextEscape(out[i], delimiter)) i++;
  if (i == out.size()) return;  // the common case: nothing to escape, nothing copied
  thread_local std::string tail;
  tail.assign(out, i, std::string::npos);
  out.resize(i);
  for (char c : tail) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\v':
        out.append("\\v");
        break;
      default:
        if (c == delimiter) out.push_back('\\');
        out.push_back(c);
    }
  }
}

// CopyAttributeOutCSV: quote a value holding the delimiter, the quote, CR or LF, one equal to
// the NULL string, and `\.` alone in a one-column row; double the quotes inside.
void QuoteCsvTail(std::string& out, size_t from, const CopyOptions& options, bool single_column) {
  std::string_view value(out.data() + from, out.size() - from);
  bool quote = value == options.null_string || (single_column && value == "\\.");
  for (size_t i = 0; !quote && i < value.size(); i++) {
    char c = value[i];
    quote = c == options.delimiter || c == options.quote || c == '\n' || c == '\r';
  }
  if (!quote) return;
  thread_local std::string tail;
  tail.assign(value);
  out.resize(from);
  out.push_back(options.quote);
  for (char c : tail) {
    if (c == options.quote) out.push_back(options.quote);
    out.push_back(c);
  }
  out.push_back(options.quote);
}

}  // namespace

void RowEncoder::AppendCopyRow(const engine::DataChunk& chunk, size_t row,
                               const CopyOptions& options, std::string& out) const {
  size_t n = text_writers_.size();
  for (size_t c = 0; c < n; c++) {
    if (c > 0) out.push_back(options.delimiter);
    engine::VectorRef v = chunk.Column(c);
    if (v.IsNull(row)) {
      out.append(options.null_string);
      continue;
    }
    size_t from = out.size();
    text_writers_[c](v, row, out);
    if (options.format == CopyOptions::Format::kText) {
      EscapeTextTail(out, from, options.delimiter);
    } else {
      QuoteCsvTail(out, from, options, n == 1);
    }
  }
  out.push_back('\n');
}

void RowEncoder::AppendCopyData(const engine::DataChunk& chunk, size_t begin, size_t end,
                                const CopyOptions& options, std::string& out) const {
  for (size_t row = begin; row < end; row++) {
    size_t start = out.size();
    out.push_back('d');
    internal::AppendBE32(out, 0);
    AppendCopyRow(chunk, row, options, out);
    internal::PutBE32(out, start + 1, static_cast<int32_t>(out.size() - start - 1));
  }
}

void RowEncoder::AppendCsvHeader(const CopyOptions& options, std::string& out) const {
  for (size_t c = 0; c < names_.size(); c++) {
    if (c > 0) out.push_back(options.delimiter);
    size_t from = out.size();
    out.append(names_[c]);
    QuoteCsvTail(out, from, options, names_.size() == 1);
  }
  out.push_back('\n');
}

}  // namespace plexus::server::pg
