// COPY (SELECT ...) TO STDOUT rows in PostgreSQL's text and CSV formats (pg_types.h).
#include <memory>
#include <vector>

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

/// Whether a column's text can never need escaping or quoting with these options: numbers,
/// booleans, dates and times, intervals and uuids are written with digits, letters and
/// - + . : and space only, so with the default delimiters and NULL strings they pass as
/// written (a non-empty value never equals "" or "\N").
bool PlainText(int32_t oid, const CopyOptions& options) {
  bool default_delimiter = options.delimiter == '\t' || options.delimiter == ',';
  bool default_null = options.null_string.empty() || options.null_string == "\\N";
  if (!default_delimiter || !default_null) return false;
  switch (oid) {
    case oid::kBool: case oid::kInt2: case oid::kInt4: case oid::kInt8: case oid::kFloat4:
    case oid::kFloat8: case oid::kNumeric: case oid::kDate: case oid::kTime: case oid::kTimeTz:
    case oid::kTimestamp: case oid::kTimestampTz: case oid::kInterval: case oid::kUuid:
      return true;
    default:
      return false;
  }
}

}  // namespace

void RowEncoder::AppendCopyLine(const engine::VectorRef* refs, const bool* plain, size_t row,
                                const CopyOptions& options, std::string& out) const {
  size_t n = text_writers_.size();
  for (size_t c = 0; c < n; c++) {
    if (c > 0) out.push_back(options.delimiter);
    if (refs[c].IsNull(row)) {
      out.append(options.null_string);
      continue;
    }
    size_t from = out.size();
    text_writers_[c](refs[c], row, out);
    if (plain[c]) continue;
    if (options.format == CopyOptions::Format::kText) {
      EscapeTextTail(out, from, options.delimiter);
    } else {
      QuoteCsvTail(out, from, options, n == 1);
    }
  }
  out.push_back('\n');
}

void RowEncoder::AppendCopyRow(const engine::DataChunk& chunk, size_t row,
                               const CopyOptions& options, std::string& out) const {
  AppendCopyData(chunk, row, row + 1, options, out, /*framed=*/false);
}

void RowEncoder::AppendCopyData(const engine::DataChunk& chunk, size_t begin, size_t end,
                                const CopyOptions& options, std::string& out) const {
  AppendCopyData(chunk, begin, end, options, out, /*framed=*/true);
}

void RowEncoder::AppendCopyData(const engine::DataChunk& chunk, size_t begin, size_t end,
                                const CopyOptions& options, std::string& out, bool framed) const {
  // Each column's vector and whether it needs escaping, once per chunk, not once per cell.
  size_t n = text_writers_.size();
  std::vector<engine::VectorRef> refs(n);
  std::unique_ptr<bool[]> plain(new bool[n]);
  for (size_t c = 0; c < n; c++) {
    refs[c] = chunk.Column(c);
    plain[c] = PlainText(types_[c].oid, options);
  }
  for (size_t row = begin; row < end; row++) {
    size_t start = out.size();
    if (framed) {
      out.push_back('d');
      internal::AppendBE32(out, 0);
    }
    AppendCopyLine(refs.data(), plain.get(), row, options, out);
    if (framed) internal::PutBE32(out, start + 1, static_cast<int32_t>(out.size() - start - 1));
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
