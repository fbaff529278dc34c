// Typed access to result vectors (VectorRef) and the type trees behind it (type_node.h).
#include <cstring>

#include "plexus/engine/engine.h"
#include "plexus/engine/type_node.h"
#include "plexus/engine/value_text.h"

namespace plexus::engine {
namespace internal {
namespace {

std::string TakeAlias(duckdb_logical_type type) {
  char* alias = duckdb_logical_type_get_alias(type);
  std::string out = alias ? alias : "";
  duckdb_free(alias);
  return out;
}

}  // namespace

TypeId TypeIdOf(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN:
      return TypeId::kBoolean;
    case DUCKDB_TYPE_TINYINT:
      return TypeId::kTinyInt;
    case DUCKDB_TYPE_SMALLINT:
      return TypeId::kSmallInt;
    case DUCKDB_TYPE_INTEGER:
      return TypeId::kInteger;
    case DUCKDB_TYPE_BIGINT:
      return TypeId::kBigInt;
    case DUCKDB_TYPE_HUGEINT:
      return TypeId::kHugeInt;
    case DUCKDB_TYPE_UTINYINT:
      return TypeId::kUTinyInt;
    case DUCKDB_TYPE_USMALLINT:
      return TypeId::kUSmallInt;
    case DUCKDB_TYPE_UINTEGER:
      return TypeId::kUInteger;
    case DUCKDB_TYPE_UBIGINT:
      return TypeId::kUBigInt;
    case DUCKDB_TYPE_UHUGEINT:
      return TypeId::kUHugeInt;
    case DUCKDB_TYPE_FLOAT:
      return TypeId::kFloat;
    case DUCKDB_TYPE_DOUBLE:
      return TypeId::kDouble;
    case DUCKDB_TYPE_DECIMAL:
      return TypeId::kDecimal;
    case DUCKDB_TYPE_VARCHAR:
      return TakeAlias(type) == "JSON" ? TypeId::kJson : TypeId::kVarchar;
    case DUCKDB_TYPE_BLOB:
      return TypeId::kBlob;
    case DUCKDB_TYPE_DATE:
      return TypeId::kDate;
    case DUCKDB_TYPE_TIME:
      return TypeId::kTime;
    case DUCKDB_TYPE_TIME_TZ:
      return TypeId::kTimeTz;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return TypeId::kTimestamp;
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return TypeId::kTimestampNs;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return TypeId::kTimestampTz;
    case DUCKDB_TYPE_INTERVAL:
      return TypeId::kInterval;
    case DUCKDB_TYPE_UUID:
      return TypeId::kUuid;
    case DUCKDB_TYPE_LIST:
      return TypeId::kList;
    case DUCKDB_TYPE_ARRAY:
      return TypeId::kArray;
    case DUCKDB_TYPE_STRUCT:
      return TypeId::kStruct;
    case DUCKDB_TYPE_MAP:
      return TypeId::kMap;
    case DUCKDB_TYPE_ENUM:
      return TypeId::kEnum;
    case DUCKDB_TYPE_SQLNULL:
      return TypeId::kNull;
    case DUCKDB_TYPE_INVALID:
    case DUCKDB_TYPE_ANY:
    case DUCKDB_TYPE_STRING_LITERAL:
    case DUCKDB_TYPE_INTEGER_LITERAL:
      return TypeId::kUnknown;
    default:
      return TypeId::kOther;
  }
}

TypeNode MakeTypeNode(duckdb_logical_type type) {
  TypeNode node;
  node.type.reset(type);
  node.duck_id = duckdb_get_type_id(type);
  node.id = TypeIdOf(type);
  switch (node.duck_id) {
    case DUCKDB_TYPE_DECIMAL:
      node.width = duckdb_decimal_width(type);
      node.scale = duckdb_decimal_scale(type);
      node.physical = duckdb_decimal_internal_type(type);
      break;
    case DUCKDB_TYPE_ENUM: {
      node.physical = duckdb_enum_internal_type(type);
      uint32_t n = duckdb_enum_dictionary_size(type);
      node.enum_labels.reserve(n);
      for (uint32_t i = 0; i < n; i++) {
        char* label = duckdb_enum_dictionary_value(type, i);
        node.enum_labels.emplace_back(label ? label : "");
        duckdb_free(label);
      }
      break;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP:
      node.children.push_back(MakeTypeNode(duckdb_list_type_child_type(type)));
      break;
    case DUCKDB_TYPE_ARRAY:
      node.array_size = duckdb_array_type_array_size(type);
      node.children.push_back(MakeTypeNode(duckdb_array_type_child_type(type)));
      break;
    case DUCKDB_TYPE_STRUCT:
      for (idx_t i = 0; i < duckdb_struct_type_child_count(type); i++) {
        node.children.push_back(MakeTypeNode(duckdb_struct_type_child_type(type, i)));
      }
      break;
    default:
      break;
  }
  return node;
}

ColumnInfo MakeColumnInfo(std::string name, const TypeNode& node) {
  ColumnInfo info{std::move(name), TypeName(node.type.get()), JsonKindOf(node.type.get())};
  info.type_id = node.id;
  info.width = node.width;
  info.scale = node.scale;
  if (node.id == TypeId::kList || node.id == TypeId::kArray) {
    const TypeNode& element = node.children[0];
    info.element_type = element.id;
    info.width = element.width;
    info.scale = element.scale;
  }
  return info;
}

}  // namespace internal

namespace {

template <typename T>
T At(const void* data, size_t row) {
  return static_cast<const T*>(data)[row];
}

__int128 HugeAt(const void* data, size_t row) {
  auto h = At<duckdb_hugeint>(data, row);
  return (static_cast<__int128>(h.upper) << 64) | static_cast<__int128>(h.lower);
}

}  // namespace

VectorRef::VectorRef(void* vector, const internal::TypeNode* node)
    : vector_(vector), node_(node), type_id_(node->id), scale_(node->scale) {
  auto v = static_cast<duckdb_vector>(vector);
  data_ = duckdb_vector_get_data(v);
  validity_ = duckdb_vector_get_validity(v);
}

bool VectorRef::Bool(size_t row) const {
  return type_id_ == TypeId::kBoolean && At<bool>(data_, row);
}

int64_t VectorRef::Int64(size_t row) const {
  switch (type_id_) {
    case TypeId::kBoolean:
      return At<bool>(data_, row) ? 1 : 0;
    case TypeId::kTinyInt:
      return At<int8_t>(data_, row);
    case TypeId::kSmallInt:
      return At<int16_t>(data_, row);
    case TypeId::kInteger:
      return At<int32_t>(data_, row);
    case TypeId::kBigInt:
      return At<int64_t>(data_, row);
    case TypeId::kUTinyInt:
      return At<uint8_t>(data_, row);
    case TypeId::kUSmallInt:
      return At<uint16_t>(data_, row);
    case TypeId::kUInteger:
      return At<uint32_t>(data_, row);
    case TypeId::kUBigInt:
      return static_cast<int64_t>(At<uint64_t>(data_, row));
    case TypeId::kHugeInt:
      return static_cast<int64_t>(HugeAt(data_, row));
    default:
      return 0;
  }
}

double VectorRef::Double(size_t row) const {
  switch (type_id_) {
    case TypeId::kFloat:
      return At<float>(data_, row);
    case TypeId::kDouble:
      return At<double>(data_, row);
    case TypeId::kDecimal:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt: {
      DecimalValue d = Decimal(row);
      double scale = 1;
      for (int i = 0; i < d.scale; i++) scale *= 10;
      return static_cast<double>(d.unscaled) / scale;
    }
    case TypeId::kUBigInt:
      return static_cast<double>(At<uint64_t>(data_, row));
    default:
      return static_cast<double>(Int64(row));
  }
}

std::string_view VectorRef::String(size_t row) const {
  switch (type_id_) {
    case TypeId::kVarchar:
    case TypeId::kJson:
    case TypeId::kBlob: {
      auto* s = const_cast<duckdb_string_t*>(&static_cast<const duckdb_string_t*>(data_)[row]);
      return {duckdb_string_t_data(s), duckdb_string_t_length(*s)};
    }
    case TypeId::kEnum: {
      uint64_t index = node_->physical == DUCKDB_TYPE_UTINYINT    ? At<uint8_t>(data_, row)
                       : node_->physical == DUCKDB_TYPE_USMALLINT ? At<uint16_t>(data_, row)
                                                                  : At<uint32_t>(data_, row);
      if (index >= node_->enum_labels.size()) return {};
      return node_->enum_labels[index];
    }
    default:
      return {};
  }
}

int32_t VectorRef::Date(size_t row) const {
  return type_id_ == TypeId::kDate ? At<int32_t>(data_, row) : 0;
}

int64_t VectorRef::Micros(size_t row) const {
  switch (node_->duck_id) {
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return At<int64_t>(data_, row);
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: {
      int64_t v = At<int64_t>(data_, row);
      if (v == INT64_MAX || v == -INT64_MAX) return v;
      if (node_->duck_id == DUCKDB_TYPE_TIMESTAMP_S) return v * 1000000;
      if (node_->duck_id == DUCKDB_TYPE_TIMESTAMP_MS) return v * 1000;
      return v >= 0 ? v / 1000 : -((-v + 999) / 1000);  // floor: keep the instant's second
    }
    case DUCKDB_TYPE_TIME_TZ:
      return TimeTz(row).micros;
    default:
      return 0;
  }
}

TimeTzValue VectorRef::TimeTz(size_t row) const {
  if (type_id_ != TypeId::kTimeTz) return {};
  duckdb_time_tz_struct t = duckdb_from_time_tz(At<duckdb_time_tz>(data_, row));
  int64_t micros =
      ((int64_t{t.time.hour} * 60 + t.time.min) * 60 + t.time.sec) * 1000000 + t.time.micros;
  return {micros, t.offset};
}

IntervalValue VectorRef::Interval(size_t row) const {
  if (type_id_ != TypeId::kInterval) return {};
  auto iv = At<duckdb_interval>(data_, row);
  return {iv.months, iv.days, iv.micros};
}

void VectorRef::Uuid(size_t row, uint8_t out[16]) const {
  if (type_id_ != TypeId::kUuid) return std::memset(out, 0, 16), void();
  auto h = At<duckdb_hugeint>(data_, row);
  // DuckDB flips the top bit so that UUIDs sort as signed 128-bit integers.
  uint64_t upper = static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63);
  for (int i = 0; i < 8; i++) {
    out[i] = static_cast<uint8_t>(upper >> (56 - 8 * i));
    out[8 + i] = static_cast<uint8_t>(h.lower >> (56 - 8 * i));
  }
}

DecimalValue VectorRef::Decimal(size_t row) const {
  switch (type_id_) {
    case TypeId::kDecimal:
      switch (node_->physical) {
        case DUCKDB_TYPE_SMALLINT:
          return {At<int16_t>(data_, row), scale_};
        case DUCKDB_TYPE_INTEGER:
          return {At<int32_t>(data_, row), scale_};
        case DUCKDB_TYPE_BIGINT:
          return {At<int64_t>(data_, row), scale_};
        default:
          return {HugeAt(data_, row), scale_};
      }
    case TypeId::kHugeInt:
      return {HugeAt(data_, row), 0};
    case TypeId::kUBigInt:
      return {static_cast<__int128>(At<uint64_t>(data_, row)), 0};
    case TypeId::kUHugeInt: {
      auto h = At<duckdb_uhugeint>(data_, row);
      unsigned __int128 v = (static_cast<unsigned __int128>(h.upper) << 64) | h.lower;
      constexpr unsigned __int128 kMax = ~static_cast<unsigned __int128>(0) >> 1;
      return {static_cast<__int128>(v > kMax ? kMax : v), 0};
    }
    default:
      return {Int64(row), 0};
  }
}

ListEntry VectorRef::List(size_t row) const {
  switch (type_id_) {
    case TypeId::kList:
    case TypeId::kMap: {
      auto e = At<duckdb_list_entry>(data_, row);
      return {e.offset, e.length};
    }
    case TypeId::kArray:
      return {row * node_->array_size, node_->array_size};
    default:
      return {};
  }
}

VectorRef VectorRef::Child(size_t index) const {
  auto v = static_cast<duckdb_vector>(vector_);
  switch (type_id_) {
    case TypeId::kList:
    case TypeId::kMap:
      return VectorRef(duckdb_list_vector_get_child(v), &node_->children[0]);
    case TypeId::kArray:
      return VectorRef(duckdb_array_vector_get_child(v), &node_->children[0]);
    case TypeId::kStruct:
      if (index >= node_->children.size()) return {};
      return VectorRef(duckdb_struct_vector_get_child(v, index), &node_->children[index]);
    default:
      return {};
  }
}

void VectorRef::AppendText(size_t row, std::string& out) const {
  if (node_ == nullptr) return;
  internal::AppendVectorValue(static_cast<duckdb_vector>(vector_), node_->type.get(), row, out,
                              false);
}

}  // namespace plexus::engine
