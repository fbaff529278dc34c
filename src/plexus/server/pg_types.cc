// DuckDB types as PostgreSQL types, and the RowEncoder (pg_types.h). The value formats are in
// pg_types_text.cc and pg_types_binary.cc, parameters in pg_types_params.cc.
#include "plexus/server/pg_types.h"

#include <algorithm>
#include <cstring>

#include "plexus/server/pg_types_internal.h"

namespace plexus::server::pg {
namespace internal {

using engine::TypeId;

int32_t ScalarOid(TypeId type) {
  switch (type) {
    case TypeId::kBoolean:
      return oid::kBool;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt:
      return oid::kInt2;
    case TypeId::kInteger:
    case TypeId::kUSmallInt:
      return oid::kInt4;
    case TypeId::kBigInt:
    case TypeId::kUInteger:
      return oid::kInt8;
    case TypeId::kUBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kDecimal:
      return oid::kNumeric;
    case TypeId::kFloat:
      return oid::kFloat4;
    case TypeId::kDouble:
      return oid::kFloat8;
    case TypeId::kJson:
      return oid::kJson;
    case TypeId::kBlob:
      return oid::kBytea;
    case TypeId::kDate:
      return oid::kDate;
    case TypeId::kTime:
      return oid::kTime;
    case TypeId::kTimeTz:
      return oid::kTimeTz;
    case TypeId::kTimestamp:
    case TypeId::kTimestampNs:
      return oid::kTimestamp;
    case TypeId::kTimestampTz:
      return oid::kTimestampTz;
    case TypeId::kInterval:
      return oid::kInterval;
    case TypeId::kUuid:
      return oid::kUuid;
    default:
      return oid::kText;
  }
}

bool IsArrayElement(TypeId element) {
  switch (element) {
    case TypeId::kList:
    case TypeId::kArray:
    case TypeId::kStruct:
    case TypeId::kMap:
    case TypeId::kOther:
    case TypeId::kUnknown:
    case TypeId::kNull:
      return false;
    default:
      return true;
  }
}

}  // namespace internal

namespace {

int16_t TypeSize(int32_t type_oid) {
  switch (type_oid) {
    case oid::kBool:
      return 1;
    case oid::kInt2:
      return 2;
    case oid::kInt4:
    case oid::kFloat4:
    case oid::kDate:
      return 4;
    case oid::kInt8:
    case oid::kFloat8:
    case oid::kTime:
    case oid::kTimestamp:
    case oid::kTimestampTz:
      return 8;
    case oid::kTimeTz:
      return 12;
    case oid::kInterval:
    case oid::kUuid:
      return 16;
    default:
      return -1;
  }
}

}  // namespace

PgColumnType ColumnType(const engine::ColumnInfo& column) {
  PgColumnType type;
  bool is_list =
      column.type_id == engine::TypeId::kList || column.type_id == engine::TypeId::kArray;
  engine::TypeId scalar = is_list ? column.element_type : column.type_id;
  if (is_list && !internal::IsArrayElement(scalar)) return type;  // text
  int32_t element = internal::ScalarOid(scalar);
  type.oid = is_list ? ArrayOid(element) : element;
  if (type.oid == 0) type.oid = oid::kText;
  type.size = is_list ? -1 : TypeSize(type.oid);
  if (scalar == engine::TypeId::kDecimal && column.width > 0) {
    type.typmod = ((int32_t{column.width} << 16) | column.scale) + 4;
  }
  return type;
}

int32_t TypeOid(const engine::ColumnInfo& column) { return ColumnType(column).oid; }

int32_t ArrayOid(int32_t element_oid) {
  switch (element_oid) {
    case oid::kBool:
      return oid::kBoolArray;
    case oid::kBytea:
      return oid::kByteaArray;
    case oid::kInt2:
      return oid::kInt2Array;
    case oid::kInt4:
      return oid::kInt4Array;
    case oid::kInt8:
      return oid::kInt8Array;
    case oid::kText:
      return oid::kTextArray;
    case oid::kVarchar:
      return oid::kVarcharArray;
    case oid::kJson:
      return oid::kJsonArray;
    case oid::kFloat4:
      return oid::kFloat4Array;
    case oid::kFloat8:
      return oid::kFloat8Array;
    case oid::kNumeric:
      return oid::kNumericArray;
    case oid::kDate:
      return oid::kDateArray;
    case oid::kTime:
      return oid::kTimeArray;
    case oid::kTimeTz:
      return oid::kTimeTzArray;
    case oid::kTimestamp:
      return oid::kTimestampArray;
    case oid::kTimestampTz:
      return oid::kTimestampTzArray;
    case oid::kInterval:
      return oid::kIntervalArray;
    case oid::kUuid:
      return oid::kUuidArray;
    default:
      return 0;
  }
}

int32_t ParameterOid(engine::TypeId type) {
  if (type == engine::TypeId::kUnknown || type == engine::TypeId::kNull) return oid::kUnspecified;
  return internal::ScalarOid(type);
}

std::string_view TypeName(int32_t type_oid) {
  switch (type_oid) {
    case oid::kBool:
      return "boolean";
    case oid::kBytea:
      return "bytea";
    case oid::kInt8:
      return "bigint";
    case oid::kInt2:
      return "smallint";
    case oid::kInt4:
      return "integer";
    case oid::kText:
      return "text";
    case oid::kOid:
      return "oid";
    case oid::kJson:
      return "json";
    case oid::kFloat4:
      return "real";
    case oid::kFloat8:
      return "double precision";
    case oid::kUnknown:
      return "unknown";
    case oid::kBpchar:
      return "character";
    case oid::kVarchar:
      return "character varying";
    case oid::kDate:
      return "date";
    case oid::kTime:
      return "time without time zone";
    case oid::kTimestamp:
      return "timestamp without time zone";
    case oid::kTimestampTz:
      return "timestamp with time zone";
    case oid::kInterval:
      return "interval";
    case oid::kTimeTz:
      return "time with time zone";
    case oid::kNumeric:
      return "numeric";
    case oid::kUuid:
      return "uuid";
    case oid::kJsonb:
      return "jsonb";
    case oid::kBoolArray:
      return "boolean[]";
    case oid::kByteaArray:
      return "bytea[]";
    case oid::kInt2Array:
      return "smallint[]";
    case oid::kInt4Array:
      return "integer[]";
    case oid::kTextArray:
      return "text[]";
    case oid::kVarcharArray:
      return "character varying[]";
    case oid::kJsonArray:
      return "json[]";
    case oid::kInt8Array:
      return "bigint[]";
    case oid::kFloat4Array:
      return "real[]";
    case oid::kFloat8Array:
      return "double precision[]";
    case oid::kTimestampArray:
      return "timestamp without time zone[]";
    case oid::kDateArray:
      return "date[]";
    case oid::kTimeArray:
      return "time without time zone[]";
    case oid::kTimestampTzArray:
      return "timestamp with time zone[]";
    case oid::kIntervalArray:
      return "interval[]";
    case oid::kNumericArray:
      return "numeric[]";
    case oid::kTimeTzArray:
      return "time with time zone[]";
    case oid::kUuidArray:
      return "uuid[]";
    default:
      return "unknown";
  }
}

// ---- RowEncoder ----------------------------------------------------------------------

namespace {

// Writes at the end of a string through a pointer: Reserve grows the string (zero-filled)
// ahead of the writes, Commit records how far they got, and the destructor cuts the string
// back to what was committed.
class ByteSink {
 public:
  explicit ByteSink(std::string& out) : out_(out), used_(out.size()) {}
  ~ByteSink() { out_.resize(used_); }
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;

  /// Room for `n` bytes at the returned pointer (valid until the next Reserve).
  char* Reserve(size_t n) {
    if (out_.size() - used_ < n) out_.resize(used_ + std::max(n, kGrowBytes));
    return out_.data() + used_;
  }
  void Commit(char* end) { used_ = static_cast<size_t>(end - out_.data()); }
  size_t used() const { return used_; }
  char* At(size_t offset) { return out_.data() + offset; }

 private:
  static constexpr size_t kGrowBytes = 64 * 1024;
  std::string& out_;
  size_t used_;
};

}  // namespace

RowEncoder::RowEncoder(const std::vector<engine::ColumnInfo>& columns,
                       const std::vector<int16_t>& formats) {
  bool valid = ValidFormats(formats, columns.size());
  for (size_t i = 0; i < columns.size(); i++) {
    int16_t format = !valid || formats.empty() ? 0 : formats.size() == 1 ? formats[0] : formats[i];
    names_.push_back(columns[i].name);
    types_.push_back(ColumnType(columns[i]));
    formats_.push_back(format);
    text_writers_.push_back(internal::TextWriterFor(columns[i]));
    writers_.push_back(format == 1 ? internal::BinaryWriterFor(columns[i]) : text_writers_.back());
    internal::RawTextWriter raw;
    if (format == 0) raw = internal::RawTextWriterFor(columns[i]);
    engine::TypeId type = columns[i].type_id;
    raw_writers_.push_back(raw.write);
    sends_string_.push_back(format == 0 && (type == engine::TypeId::kVarchar ||
                                            type == engine::TypeId::kJson ||
                                            type == engine::TypeId::kEnum));
    row_bound_ += 4 + raw.bound;
  }
  row_bound_ += 7;  // 'D', the message length, the column count
}

bool RowEncoder::ValidFormats(const std::vector<int16_t>& formats, size_t column_count) {
  if (formats.size() > 1 && formats.size() != column_count) return false;
  for (int16_t f : formats) {
    if (f != 0 && f != 1) return false;
  }
  return true;
}

void RowEncoder::AppendDataRows(const engine::DataChunk& chunk, size_t begin, size_t end,
                                std::string& out) const {
  size_t n = writers_.size();
  engine::VectorRef vectors[64];
  std::vector<engine::VectorRef> many;  // only for results wider than 64 columns
  engine::VectorRef* refs = vectors;
  if (n > 64) many.resize(n), refs = many.data();
  for (size_t c = 0; c < n; c++) refs[c] = chunk.Column(c);
  ByteSink sink(out);
  thread_local std::string scratch;
  for (size_t row = begin; row < end; row++) {
    size_t start = sink.used();
    char* p = sink.Reserve(row_bound_);
    *p = 'D';
    p = internal::PutBE16(p + 5, static_cast<int16_t>(n));
    for (size_t c = 0; c < n; c++) {
      if (refs[c].IsNull(row)) {
        p = internal::PutBE32(p, -1);
      } else if (raw_writers_[c] != nullptr) {
        char* value_end = raw_writers_[c](refs[c], row, p + 4);
        internal::PutBE32(p, static_cast<int32_t>(value_end - p - 4));
        p = value_end;
      } else {
        std::string_view bytes;
        if (sends_string_[c]) {
          bytes = refs[c].String(row);
        } else {
          scratch.clear();
          writers_[c](refs[c], row, scratch);
          bytes = scratch;
        }
        sink.Commit(p);
        p = internal::PutBE32(sink.Reserve(bytes.size() + row_bound_),
                              static_cast<int32_t>(bytes.size()));
        std::memcpy(p, bytes.data(), bytes.size());
        p += bytes.size();
      }
    }
    sink.Commit(p);
    internal::PutBE32(sink.At(start + 1), static_cast<int32_t>(sink.used() - start - 1));
  }
}

void RowEncoder::AppendDataRow(const engine::DataChunk& chunk, size_t row, std::string& out) const {
  AppendDataRows(chunk, row, row + 1, out);
}

}  // namespace plexus::server::pg
