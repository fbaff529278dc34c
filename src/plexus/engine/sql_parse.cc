// DuckDB's C++ API, compiled against the headers of the same release as libduckdb.so (the
// pinned npm tarball, scripts/duckdb.lock). The code follows DuckDB 1.4's json extension
// (json_functions/json_serialize_sql.cpp) so the results equal the SQL functions'.
#include "plexus/engine/sql_parse.h"

#include <exception>

#include "duckdb/common/error_data.hpp"
#include "duckdb/common/string_util.hpp"
#include "duckdb/common/types/string_type.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "json_deserializer.hpp"
#include "json_serializer.hpp"
#include "utf8proc_wrapper.hpp"

namespace plexus::engine {
namespace {

using namespace duckdb_yyjson;  // NOLINT: yyjson's iteration macros name its functions bare

using duckdb_yyjson::yyjson_doc;
using duckdb_yyjson::yyjson_mut_doc;
using duckdb_yyjson::yyjson_mut_val;
using duckdb_yyjson::yyjson_val;

struct MutDocFree {
  void operator()(yyjson_mut_doc* doc) const { duckdb_yyjson::yyjson_mut_doc_free(doc); }
};
struct CharFree {
  void operator()(char* text) const { free(text); }  // NOLINT: yyjson's default allocator
};
using MutDoc = std::unique_ptr<yyjson_mut_doc, MutDocFree>;

// The written text of an object, with json_serialize_sql's flags.
Result<std::string> WriteJson(yyjson_mut_val* root) {
  size_t length = 0;
  std::unique_ptr<char, CharFree> text(duckdb_yyjson::yyjson_mut_val_write_opts(
      root, duckdb::JSONCommon::WRITE_FLAG, nullptr, &length, nullptr));
  if (!text) return Internal("cannot write the parsed SQL as JSON");
  return std::string(text.get(), length);
}

// json_serialize_sql's error object: error_type in lower case, the raw message, extra info.
void AddError(yyjson_mut_doc* doc, yyjson_mut_val* root, const std::exception& exception) {
  duckdb::ErrorData error(exception);
  std::string type =
      duckdb::StringUtil::Lower(duckdb::Exception::ExceptionTypeToString(error.Type()));
  duckdb_yyjson::yyjson_mut_obj_add_true(doc, root, "error");
  duckdb_yyjson::yyjson_mut_obj_add_strcpy(doc, root, "error_type", type.c_str());
  duckdb_yyjson::yyjson_mut_obj_add_strcpy(doc, root, "error_message",
                                           error.RawMessage().c_str());
  for (auto& entry : error.ExtraInfo()) {
    duckdb_yyjson::yyjson_mut_obj_add_strcpy(doc, root, entry.first.c_str(),
                                             entry.second.c_str());
  }
}

}  // namespace

Result<std::string> SerializeSql(std::string_view sql) {
  if (!duckdb::Utf8Proc::IsValid(sql.data(), sql.size())) {
    return InvalidArgument("the SQL text is not valid UTF-8");
  }
  MutDoc doc(duckdb_yyjson::yyjson_mut_doc_new(nullptr));
  if (!doc) return Internal("out of memory for the parsed SQL");
  yyjson_mut_val* root = duckdb_yyjson::yyjson_mut_obj(doc.get());
  duckdb_yyjson::yyjson_mut_doc_set_root(doc.get(), root);
  try {
    duckdb::Parser parser;
    // json_serialize_sql reads a string_t: the text up to its first NUL byte.
    parser.ParseQuery(std::string(sql.substr(0, sql.find('\0'))));
    yyjson_mut_val* statements = duckdb_yyjson::yyjson_mut_arr(doc.get());
    for (auto& statement : parser.statements) {
      if (statement->type != duckdb::StatementType::SELECT_STATEMENT) {
        throw duckdb::NotImplementedException("Only SELECT statements can be serialized to json!");
      }
      auto& select = statement->Cast<duckdb::SelectStatement>();
      duckdb_yyjson::yyjson_mut_arr_append(
          statements, duckdb::JsonSerializer::Serialize(select, doc.get(), false, false, false));
    }
    duckdb_yyjson::yyjson_mut_obj_add_false(doc.get(), root, "error");
    duckdb_yyjson::yyjson_mut_obj_add_val(doc.get(), root, "statements", statements);
    return WriteJson(root);
  } catch (const std::exception& e) {
    // A fresh object: the failed one may hold a half-written statement.
    root = duckdb_yyjson::yyjson_mut_obj(doc.get());
    duckdb_yyjson::yyjson_mut_doc_set_root(doc.get(), root);
    AddError(doc.get(), root, e);
    return WriteJson(root);
  }
}

Result<std::string> DeserializeSql(std::string_view json) {
  try {
    std::string copy(json);  // yyjson reads a mutable buffer
    duckdb_yyjson::yyjson_read_err read_error;
    duckdb::yyjson_doc_ptr doc(duckdb_yyjson::yyjson_read_opts(
        copy.data(), copy.size(), duckdb::JSONCommon::READ_FLAG, nullptr, &read_error));
    if (!doc) return InvalidArgument("Parser Error: Could not parse json");
    yyjson_val* root = duckdb_yyjson::yyjson_doc_get_root(doc.get());
    yyjson_val* error = duckdb_yyjson::yyjson_obj_get(root, "error");
    if (error && duckdb_yyjson::yyjson_is_true(error)) {
      return InvalidArgument("Parser Error: Error parsing json: the tree holds an error");
    }
    yyjson_val* statements = duckdb_yyjson::yyjson_obj_get(root, "statements");
    if (!statements || !duckdb_yyjson::yyjson_is_arr(statements) ||
        duckdb_yyjson::yyjson_arr_size(statements) == 0) {
      return InvalidArgument("Parser Error: Error parsing json: no statements");
    }
    std::string out;
    size_t index = 0;
    size_t count = 0;
    yyjson_val* statement_json = nullptr;
    yyjson_arr_foreach(statements, index, count, statement_json) {
      duckdb::JsonDeserializer deserializer(statement_json, doc);
      auto statement = duckdb::SelectStatement::Deserialize(deserializer);
      if (!statement->node) {
        return InvalidArgument("Parser Error: Error parsing json: no select node found in json");
      }
      if (index > 0) out += "; ";
      out += statement->ToString();
    }
    return out;
  } catch (const std::exception& e) {
    return InvalidArgument(duckdb::ErrorData(e).Message());
  }
}

}  // namespace plexus::engine
