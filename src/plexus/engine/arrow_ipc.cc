// Arrow IPC streaming format, written from the Arrow columnar format specification: each
// message is 0xFFFFFFFF, the metadata length, a FlatBuffers `Message` (Schema.fbs/Message.fbs
// tables built field by field with flatbuffers' builder), padding to 8 bytes, then the body.
#include "plexus/engine/arrow_ipc.h"

#include <duckdb.h>
#include <flatbuffers/flatbuffers.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "plexus/engine/type_node.h"

// The Arrow C data interface (an ABI fixed by the Arrow specification; duckdb.h only
// forward-declares these structs).
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};
struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};
#endif

namespace plexus::engine {

namespace fb = flatbuffers;

struct ArrowStreamWriter::Column {
  /// The buffers after the validity bitmap: none, a bitmap, fixed-width values, 32/64-bit
  /// offsets and bytes, or 32/64-bit offsets into a child (lists, maps). kNested: only the
  /// validity bitmap, then the children (structs, fixed-size lists).
  enum class Layout : uint8_t { kNull, kBits, kFixed, kBinary32, kBinary64, kList32, kList64, kNested };
  std::string name;
  bool nullable = true;
  std::vector<Column> children;  ///< lists, maps, structs: in the C data interface's order
  Layout layout = Layout::kFixed;
  int64_t byte_width = 0;  ///< kFixed
  uint8_t type = 0;        ///< the member of Schema.fbs's `Type` union
  /// Int: bit width, signed. FloatingPoint: precision. Decimal: precision, scale, bit width.
  /// Date, Timestamp, Interval: unit. Time: unit, bit width. FixedSizeBinary: byte width.
  int32_t a = 0, b = 0, c = 0;
  std::string timezone;  ///< Timestamp
};

namespace {

using Column = ArrowStreamWriter::Column;
using Layout = Column::Layout;

// Schema.fbs / Message.fbs numbers.
enum TypeTag : uint8_t {
  kNullType = 1, kInt = 2, kFloatingPoint = 3, kBinary = 4, kUtf8 = 5, kBool = 6, kDecimal = 7,
  kDate = 8, kTime = 9, kTimestamp = 10, kInterval = 11, kList = 12, kStruct = 13,
  kFixedSizeBinary = 15, kFixedSizeList = 16, kMap = 17, kLargeBinary = 19, kLargeUtf8 = 20,
  kLargeList = 21,
};
constexpr int64_t kFlagNullable = 2, kFlagMapKeysSorted = 4;  // ArrowSchema::flags
constexpr uint8_t kHeaderSchema = 1, kHeaderRecordBatch = 3;
constexpr int16_t kMetadataV5 = 4;

/// The vtable slot of a table's field `id` (its position in the .fbs, unions taking two).
constexpr fb::voffset_t Slot(int id) { return static_cast<fb::voffset_t>(4 + 2 * id); }

/// FieldNode and Buffer of Message.fbs: two little-endian longs.
struct LongPair {
  int64_t first;
  int64_t second;
};
static_assert(std::endian::native == std::endian::little, "the IPC writer assumes little-endian");

Status ToStatus(duckdb_error_data error) {
  Status status;
  if (error != nullptr && duckdb_error_data_has_error(error)) {
    status = Internal(std::string("arrow conversion: ") + duckdb_error_data_message(error));
  }
  if (error != nullptr) duckdb_destroy_error_data(&error);
  return status;
}

Status Refuse(const std::string& column, const std::string& what) {
  return InvalidArgument("column '" + column + "' is " + what +
                         ", which the arrow format does not serve yet; cast it (e.g. to "
                         "VARCHAR) or use another format");
}

int32_t TimeUnitOf(char unit) {  // SECOND, MILLISECOND, MICROSECOND, NANOSECOND
  return unit == 's' ? 0 : unit == 'm' ? 1 : unit == 'u' ? 2 : 3;
}

/// Sets a fixed-width layout of `width` bytes a value.
void Fixed(Column& col, uint8_t type, int64_t width, int32_t a = 0, int32_t b = 0) {
  col.type = type, col.layout = Layout::kFixed, col.byte_width = width, col.a = a, col.b = b;
}

/// The one-letter formats (primitive types); false for any other.
bool PlanPrimitive(char letter, Column& col) {
  auto var = [&](uint8_t type, Layout layout) { col.type = type, col.layout = layout; };
  switch (letter) {
    case 'n': var(kNullType, Layout::kNull); break;
    case 'b': var(kBool, Layout::kBits); break;
    case 'c': case 'C': Fixed(col, kInt, 1, 8, letter == 'c'); break;
    case 's': case 'S': Fixed(col, kInt, 2, 16, letter == 's'); break;
    case 'i': case 'I': Fixed(col, kInt, 4, 32, letter == 'i'); break;
    case 'l': case 'L': Fixed(col, kInt, 8, 64, letter == 'l'); break;
    case 'e': Fixed(col, kFloatingPoint, 2, 0); break;  // HALF
    case 'f': Fixed(col, kFloatingPoint, 4, 1); break;  // SINGLE
    case 'g': Fixed(col, kFloatingPoint, 8, 2); break;  // DOUBLE
    case 'u': var(kUtf8, Layout::kBinary32); break;
    case 'z': var(kBinary, Layout::kBinary32); break;
    case 'U': var(kLargeUtf8, Layout::kBinary64); break;
    case 'Z': var(kLargeBinary, Layout::kBinary64); break;
    default: return false;
  }
  return true;
}

Status PlanField(const ArrowSchema& schema, Column& col);

/// The nested formats: "+l" / "+L" lists, "+m" maps (a list of key/value structs), "+s"
/// structs, "+w:n" fixed-size lists (DuckDB's ARRAY). Unions and the rest are refused.
Status PlanNested(std::string_view f, const ArrowSchema& schema, Column& col) {
  if (f == "+l" || f == "+m") {
    col.type = f == "+l" ? kList : kMap, col.layout = Layout::kList32;
    col.a = (schema.flags & kFlagMapKeysSorted) != 0;
  } else if (f == "+L") {
    col.type = kLargeList, col.layout = Layout::kList64;
  } else if (f == "+s") {
    col.type = kStruct, col.layout = Layout::kNested;
  } else if (f.rfind("+w:", 0) == 0 && std::atoi(std::string(f.substr(3)).c_str()) > 0) {
    col.type = kFixedSizeList, col.layout = Layout::kNested;
    col.a = std::atoi(std::string(f.substr(3)).c_str());
  } else {
    return Refuse(col.name, "of arrow type '" + std::string(f) + "'");
  }
  bool one_child = col.type != kStruct;
  if (one_child && schema.n_children != 1) {
    return Internal("arrow conversion: column '" + col.name + "' should have one child");
  }
  for (int64_t i = 0; i < schema.n_children; i++) {
    Column child;
    child.name = schema.children[i]->name != nullptr ? schema.children[i]->name : "";
    PLEXUS_RETURN_IF_ERROR(PlanField(*schema.children[i], child));
    col.children.push_back(std::move(child));
  }
  return Status::OK();
}

/// Fills `col` from a C data interface format string ("l", "d:18,2", "tsu:UTC", "+l", ...).
Status PlanFormat(std::string_view f, const ArrowSchema& schema, Column& col) {
  auto fixed = [&](uint8_t type, int64_t width, int32_t a = 0, int32_t b = 0) {
    Fixed(col, type, width, a, b);
    return Status::OK();
  };
  if (f.size() == 1 && PlanPrimitive(f[0], col)) return Status::OK();
  if (f.rfind("d:", 0) == 0) {  // d:precision,scale[,bitwidth]
    int precision = 0, scale = 0, bits = 128;
    if (std::sscanf(std::string(f).c_str(), "d:%d,%d,%d", &precision, &scale, &bits) < 2 ||
        (bits != 128 && bits != 256 && bits != 64 && bits != 32)) {
      return Refuse(col.name, "a decimal of format '" + std::string(f) + "'");
    }
    col.c = bits;
    return fixed(kDecimal, bits / 8, precision, scale);
  }
  if (f.rfind("w:", 0) == 0) {
    int width = std::atoi(std::string(f.substr(2)).c_str());
    if (width > 0) return fixed(kFixedSizeBinary, width, width);
  }
  if (f == "tdD") return fixed(kDate, 4, 0);
  if (f == "tdm") return fixed(kDate, 8, 1);
  if (f == "tts" || f == "ttm") return fixed(kTime, 4, TimeUnitOf(f[2]), 32);
  if (f == "ttu" || f == "ttn") return fixed(kTime, 8, TimeUnitOf(f[2]), 64);
  if (f.size() >= 4 && f.rfind("ts", 0) == 0 && f[3] == ':' && std::strchr("smun", f[2])) {
    col.timezone = std::string(f.substr(4));
    return fixed(kTimestamp, 8, TimeUnitOf(f[2]));
  }
  if (f == "tin") return fixed(kInterval, 16, 2);  // MONTH_DAY_NANO
  if (f == "tiM") return fixed(kInterval, 4, 0);   // YEAR_MONTH
  if (f == "tiD") return fixed(kInterval, 8, 1);   // DAY_TIME
  if (!f.empty() && f[0] == '+') return PlanNested(f, schema, col);
  return Refuse(col.name, "of arrow type '" + std::string(f) + "'");
}

/// Plans one field (a column, or a child of a nested one), named `col.name` in messages.
Status PlanField(const ArrowSchema& schema, Column& col) {
  if (schema.dictionary != nullptr) return Refuse(col.name, "an ENUM (a dictionary)");
  col.nullable = (schema.flags & kFlagNullable) != 0;
  return PlanFormat(schema.format, schema, col);
}

/// The `Type` union member's table for `col`.
fb::Offset<void> BuildType(fb::FlatBufferBuilder& b, const Column& col) {
  fb::Offset<fb::String> timezone;
  if (col.type == kTimestamp && !col.timezone.empty()) timezone = b.CreateString(col.timezone);
  fb::uoffset_t start = b.StartTable();
  switch (col.type) {
    case kInt:
      b.AddElement<int32_t>(Slot(0), col.a, 0);
      b.AddElement<uint8_t>(Slot(1), static_cast<uint8_t>(col.b), 0);
      break;
    case kFloatingPoint: case kDate: case kInterval:
      b.AddElement<int16_t>(Slot(0), static_cast<int16_t>(col.a), 0);
      break;
    case kDecimal:
      b.AddElement<int32_t>(Slot(0), col.a, 0);
      b.AddElement<int32_t>(Slot(1), col.b, 0);
      b.AddElement<int32_t>(Slot(2), col.c, 0);
      break;
    case kTime:
      b.AddElement<int16_t>(Slot(0), static_cast<int16_t>(col.a), 0);
      b.AddElement<int32_t>(Slot(1), col.b, 0);
      break;
    case kTimestamp:
      b.AddElement<int16_t>(Slot(0), static_cast<int16_t>(col.a), 0);
      if (!timezone.IsNull()) b.AddOffset(Slot(1), timezone);
      break;
    case kFixedSizeBinary: case kFixedSizeList:
      b.AddElement<int32_t>(Slot(0), col.a, 0);
      break;
    case kMap:
      b.AddElement<uint8_t>(Slot(0), static_cast<uint8_t>(col.a), 0);  // keysSorted
      break;
    default: break;  // Null, Bool, Utf8, Binary, lists, Struct_: empty tables
  }
  return fb::Offset<void>(b.EndTable(start));
}

/// Message { version, header_type, header, bodyLength }, finished in `b`.
void FinishMessage(fb::FlatBufferBuilder& b, uint8_t header_type, fb::Offset<void> header,
                   int64_t body_length) {
  fb::uoffset_t start = b.StartTable();
  b.AddElement<int16_t>(Slot(0), kMetadataV5, 0);
  b.AddElement<uint8_t>(Slot(1), header_type, 0);
  b.AddOffset(Slot(2), header);
  b.AddElement<int64_t>(Slot(3), body_length, 0);
  b.Finish(fb::Offset<void>(b.EndTable(start)));
}

const char kZeros[8] = {};

size_t Padding(size_t size) { return (8 - size % 8) % 8; }

/// Writes one encapsulated message's prefix and metadata (the body follows).
void WriteMetadata(std::ostream& out, const fb::FlatBufferBuilder& b) {
  uint32_t size = b.GetSize();
  uint32_t padded = static_cast<uint32_t>(size + Padding(size));
  const uint32_t prefix[2] = {0xFFFFFFFFu, padded};
  out.write(reinterpret_cast<const char*>(prefix), sizeof(prefix));
  out.write(reinterpret_cast<const char*>(b.GetBufferPointer()), size);
  out.write(kZeros, static_cast<std::streamsize>(padded - size));
}

/// The body of one record batch: its field nodes and buffers (pointers into the ArrowArray).
struct Body {
  std::vector<LongPair> nodes;
  std::vector<LongPair> buffers;  // offset, length within the body
  std::vector<const void*> data;  // one per buffer
  int64_t length = 0;
  void Add(const void* bytes, int64_t size) {
    if (bytes == nullptr) size = 0;
    buffers.push_back({length, size});
    data.push_back(bytes);
    length += size + static_cast<int64_t>(Padding(static_cast<size_t>(size)));
  }
};

int64_t CountNulls(const ArrowArray& a) {
  if (a.null_count >= 0) return a.null_count;
  const auto* bits = static_cast<const uint8_t*>(a.buffers[0]);
  if (bits == nullptr) return 0;
  int64_t valid = 0;
  for (int64_t i = 0; i < a.length; i++) valid += (bits[i / 8] >> (i % 8)) & 1;
  return a.length - valid;
}

/// The buffers a column's array must have (validity first).
int64_t BuffersOf(Layout layout) {
  switch (layout) {
    case Layout::kNull: return 0;
    case Layout::kNested: return 1;
    case Layout::kBinary32: case Layout::kBinary64: return 3;
    default: return 2;
  }
}

/// Adds 32- or 64-bit offsets (which must start at 0) and returns the last one.
template <typename Offset>
Result<int64_t> AddOffsets(const ArrowArray& a, Body& body) {
  const auto* offsets = static_cast<const Offset*>(a.buffers[1]);
  if (offsets[0] != 0) return Internal("arrow conversion: offsets do not start at 0");
  body.Add(offsets, (a.length + 1) * static_cast<int64_t>(sizeof(Offset)));
  return static_cast<int64_t>(offsets[a.length]);
}

/// Adds one column's nodes and buffers to `body`: its own, then its children's, depth first
/// (the order of the record batch's FieldNodes and Buffers).
Status AddColumn(const Column& col, const ArrowArray& a, Body& body) {
  if (a.offset != 0) return Internal("arrow conversion: unexpected array offset");
  int64_t n = a.length;
  if (col.layout == Layout::kNull) {
    body.nodes.push_back({n, n});
    return Status::OK();
  }
  int64_t nulls = CountNulls(a);
  if (nulls > 0 && a.buffers[0] == nullptr) {
    return Internal("arrow conversion: column '" + col.name + "' has nulls but no validity");
  }
  if (a.n_buffers < BuffersOf(col.layout) ||
      a.n_children != static_cast<int64_t>(col.children.size())) {
    return Internal("arrow conversion: column '" + col.name + "' lacks buffers or children");
  }
  body.nodes.push_back({n, nulls});
  body.Add(nulls > 0 ? a.buffers[0] : nullptr, (n + 7) / 8);
  switch (col.layout) {
    case Layout::kBits: body.Add(a.buffers[1], (n + 7) / 8); break;
    case Layout::kFixed: body.Add(a.buffers[1], n * col.byte_width); break;
    case Layout::kBinary32: case Layout::kBinary64: {
      auto end = col.layout == Layout::kBinary32 ? AddOffsets<int32_t>(a, body)
                                                 : AddOffsets<int64_t>(a, body);
      PLEXUS_RETURN_IF_ERROR(end.status());
      body.Add(a.buffers[2], *end);
      break;
    }
    case Layout::kList32: case Layout::kList64: {
      auto end = col.layout == Layout::kList32 ? AddOffsets<int32_t>(a, body)
                                               : AddOffsets<int64_t>(a, body);
      PLEXUS_RETURN_IF_ERROR(end.status());
      if (a.children[0]->length < *end) return Internal("arrow conversion: short list child");
      break;
    }
    case Layout::kNull: case Layout::kNested: break;
  }
  for (size_t i = 0; i < col.children.size(); i++) {
    PLEXUS_RETURN_IF_ERROR(AddColumn(col.children[i], *a.children[i], body));
  }
  return Status::OK();
}

/// Releases a C data interface struct on scope exit.
template <typename T>
struct Released {
  T value{};
  ~Released() {
    if (value.release != nullptr) value.release(&value);
  }
};

}  // namespace

ArrowStreamWriter::ArrowStreamWriter(QueryResult& result, void* options,
                                     std::vector<Column> columns)
    : result_(result), options_(options), columns_(std::move(columns)) {}

ArrowStreamWriter::~ArrowStreamWriter() {
  auto options = static_cast<duckdb_arrow_options>(options_);
  duckdb_destroy_arrow_options(&options);
}

Result<std::unique_ptr<ArrowStreamWriter>> ArrowStreamWriter::Make(QueryResult& result) {
  duckdb_result* raw = internal::RawHandles::Result(result);
  duckdb_arrow_options options = duckdb_result_get_arrow_options(raw);
  std::unique_ptr<ArrowStreamWriter> writer(new ArrowStreamWriter(result, options, {}));
  size_t n = result.columns().size();
  std::vector<internal::LogicalTypePtr> owned;
  std::vector<duckdb_logical_type> types;
  std::vector<const char*> names;
  for (size_t i = 0; i < n; i++) {
    owned.emplace_back(duckdb_column_logical_type(raw, i));
    types.push_back(owned.back().get());
    names.push_back(result.columns()[i].name.c_str());
  }
  Released<ArrowSchema> schema;
  PLEXUS_RETURN_IF_ERROR(
      ToStatus(duckdb_to_arrow_schema(options, types.data(), names.data(), n, &schema.value)));
  if (static_cast<size_t>(schema.value.n_children) != n) {
    return Internal("arrow conversion: the schema has the wrong number of columns");
  }
  for (size_t i = 0; i < n; i++) {
    const ArrowSchema& child = *schema.value.children[i];
    Column col;
    col.name = result.columns()[i].name;
    PLEXUS_RETURN_IF_ERROR(PlanField(child, col));
    col.nullable = true;  // a query's column may hold NULL whatever DuckDB flags
    writer->columns_.push_back(std::move(col));
  }
  return writer;
}

namespace {

/// Schema.fbs's Field for `col` and, first, its children's.
fb::Offset<void> BuildField(fb::FlatBufferBuilder& b, const Column& col) {
  std::vector<fb::Offset<void>> child_fields;
  for (const Column& child : col.children) child_fields.push_back(BuildField(b, child));
  auto name = b.CreateString(col.name);
  auto type = BuildType(b, col);
  auto children = b.CreateVector(child_fields);
  fb::uoffset_t start = b.StartTable();
  b.AddOffset(Slot(0), name);
  b.AddElement<uint8_t>(Slot(1), col.nullable ? 1 : 0, 0);
  b.AddElement<uint8_t>(Slot(2), col.type, 0);
  b.AddOffset(Slot(3), type);
  b.AddOffset(Slot(5), children);
  return fb::Offset<void>(b.EndTable(start));
}

void WriteSchema(std::ostream& out, const std::vector<Column>& columns) {
  fb::FlatBufferBuilder b(1024);
  b.ForceDefaults(true);  // a unit of 0 (DAY, SECOND) differs from the schema's defaults
  std::vector<fb::Offset<void>> fields;
  for (const auto& col : columns) fields.push_back(BuildField(b, col));
  auto vector = b.CreateVector(fields);
  fb::uoffset_t start = b.StartTable();
  b.AddOffset(Slot(1), vector);  // endianness (slot 0) stays Little
  FinishMessage(b, kHeaderSchema, fb::Offset<void>(b.EndTable(start)), 0);
  WriteMetadata(out, b);
}

void WriteBatch(std::ostream& out, int64_t rows, const Body& body) {
  fb::FlatBufferBuilder b(256 + 32 * body.buffers.size());
  b.ForceDefaults(true);
  auto nodes = b.CreateVectorOfStructs(body.nodes.data(), body.nodes.size());
  auto buffers = b.CreateVectorOfStructs(body.buffers.data(), body.buffers.size());
  fb::uoffset_t start = b.StartTable();
  b.AddElement<int64_t>(Slot(0), rows, 0);
  b.AddOffset(Slot(1), nodes);
  b.AddOffset(Slot(2), buffers);
  FinishMessage(b, kHeaderRecordBatch, fb::Offset<void>(b.EndTable(start)), body.length);
  WriteMetadata(out, b);
  for (size_t i = 0; i < body.buffers.size(); i++) {
    auto size = static_cast<size_t>(body.buffers[i].second);
    if (size > 0) out.write(static_cast<const char*>(body.data[i]), static_cast<std::streamsize>(size));
    out.write(kZeros, static_cast<std::streamsize>(Padding(size)));
  }
}

}  // namespace

Result<int64_t> ArrowStreamWriter::Write(std::ostream& out) {
  WriteSchema(out, columns_);
  int64_t rows = 0;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result_.Fetch());
    if (!chunk) break;
    Released<ArrowArray> batch;
    PLEXUS_RETURN_IF_ERROR(ToStatus(duckdb_data_chunk_to_arrow(
        static_cast<duckdb_arrow_options>(options_), internal::RawHandles::Chunk(*chunk),
        &batch.value)));
    if (static_cast<size_t>(batch.value.n_children) != columns_.size()) {
      return Internal("arrow conversion: the batch has the wrong number of columns");
    }
    Body body;
    for (size_t i = 0; i < columns_.size(); i++) {
      PLEXUS_RETURN_IF_ERROR(AddColumn(columns_[i], *batch.value.children[i], body));
    }
    WriteBatch(out, batch.value.length, body);
    rows += batch.value.length;
  }
  const uint32_t end[2] = {0xFFFFFFFFu, 0};
  out.write(reinterpret_cast<const char*>(end), sizeof(end));
  return rows;
}

}  // namespace plexus::engine
