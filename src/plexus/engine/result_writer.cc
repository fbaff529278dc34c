#include "plexus/engine/result_writer.h"

#include <algorithm>
#include <vector>

#include "plexus/engine/arrow_ipc.h"

namespace plexus::engine {
namespace {

void AppendCsvField(std::string_view text, std::string& out) {
  bool quote = text.find_first_of(",\"\n\r") != std::string_view::npos;
  if (!quote) return out.append(text), void();
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

/// One row as a JSON object.
void AppendJsonRow(const std::vector<ColumnInfo>& columns, const DataChunk& chunk, size_t row,
                   std::string& line, std::string& cell) {
  line.push_back('{');
  for (size_t c = 0; c < columns.size(); c++) {
    if (c > 0) line.push_back(',');
    AppendJsonString(columns[c].name, line);
    line.push_back(':');
    if (chunk.IsNull(c, row)) {
      line.append("null");
      continue;
    }
    if (columns[c].json_kind == JsonKind::kNested) {
      chunk.AppendJson(c, row, line);
      continue;
    }
    cell.clear();
    chunk.AppendText(c, row, cell);
    bool finite = cell != "inf" && cell != "-inf" && cell != "nan" && cell != "-nan";
    if (columns[c].json_kind == JsonKind::kString || !finite) {
      AppendJsonString(cell, line);
    } else {
      line.append(cell);
    }
  }
  line.push_back('}');
}

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (unsigned char c : s) width += (c & 0xC0) != 0x80;  // count UTF-8 code points
  return width;
}

Result<int64_t> WriteTable(QueryResult& result, std::ostream& out) {
  const auto& columns = result.columns();
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> widths;
  for (const auto& c : columns) widths.push_back(DisplayWidth(c.name));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result.Fetch());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->size(); r++) {
      std::vector<std::string> row;
      for (size_t c = 0; c < columns.size(); c++) {
        row.push_back(chunk->IsNull(c, r) ? "NULL" : chunk->Text(c, r));
        widths[c] = std::max(widths[c], DisplayWidth(row.back()));
      }
      rows.push_back(std::move(row));
    }
  }
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string text;
    for (size_t c = 0; c < cells.size(); c++) {
      if (c > 0) text += " | ";
      size_t pad = widths[c] - DisplayWidth(cells[c]);
      bool right = !header && columns[c].json_kind == JsonKind::kNumber;
      if (right) text.append(pad, ' ');
      text += cells[c];
      if (!right && c + 1 < cells.size()) text.append(pad, ' ');
    }
    out << text << '\n';
  };
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  line(names, true);
  std::string rule;
  for (size_t c = 0; c < widths.size(); c++) rule += (c ? "-+-" : "") + std::string(widths[c], '-');
  out << rule << '\n';
  for (const auto& row : rows) line(row, false);
  out << "(" << rows.size() << (rows.size() == 1 ? " row)" : " rows)") << '\n';
  return static_cast<int64_t>(rows.size());
}

}  // namespace

void AppendJsonString(std::string_view text, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

Result<ResultFormat> ParseResultFormat(std::string_view name) {
  if (name == "table") return ResultFormat::kTable;
  if (name == "csv") return ResultFormat::kCsv;
  if (name == "json") return ResultFormat::kJson;
  if (name == "ndjson") return ResultFormat::kNdjson;
  if (name == "arrow") return ResultFormat::kArrow;
  return InvalidArgument("unknown format '" + std::string(name) +
                         "' (table, csv, json, ndjson, arrow)");
}

Result<int64_t> WriteResult(QueryResult& result, ResultFormat format, std::ostream& out) {
  if (format == ResultFormat::kTable) return WriteTable(result, out);
  if (format == ResultFormat::kArrow) {
    PLEXUS_ASSIGN_OR_RETURN(auto writer, ArrowStreamWriter::Make(result));
    return writer->Write(out);
  }
  const auto& columns = result.columns();
  std::string buffer, cell;
  int64_t rows = 0;
  if (format == ResultFormat::kCsv) {
    for (size_t c = 0; c < columns.size(); c++) {
      if (c > 0) buffer.push_back(',');
      AppendCsvField(columns[c].name, buffer);
    }
    buffer.push_back('\n');
  } else if (format == ResultFormat::kJson) {
    buffer.push_back('[');
  }
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result.Fetch());
    if (!chunk) break;
    for (size_t r = 0; r < chunk->size(); r++, rows++) {
      if (format == ResultFormat::kCsv) {
        for (size_t c = 0; c < columns.size(); c++) {
          if (c > 0) buffer.push_back(',');
          if (chunk->IsNull(c, r)) continue;
          cell.clear();
          chunk->AppendText(c, r, cell);
          AppendCsvField(cell, buffer);
        }
        buffer.push_back('\n');
      } else {
        if (format == ResultFormat::kJson && rows > 0) buffer.push_back(',');
        AppendJsonRow(columns, *chunk, r, buffer, cell);
        if (format == ResultFormat::kNdjson) buffer.push_back('\n');
      }
    }
    out << buffer;  // one write per chunk
    buffer.clear();
  }
  if (format == ResultFormat::kJson) buffer.append("]\n");
  out << buffer;
  return rows;
}

}  // namespace plexus::engine
