// File: plexus/pipeline/processor_steps.cc
//
// The SQL of each built-in processor step (processors.h). Column names are
// quoted with engine::QuoteIdentifier; expressions a user writes (filter,
// project) are checked to stay inside their brackets; what they call and read
// is the guard's to check, on the whole SELECT.
#include <set>

#include "plexus/access/masks.h"
#include "plexus/common/text.h"
#include "plexus/pipeline/contract_check.h"
#include "plexus/pipeline/processors_internal.h"

namespace plexus::pipeline::internal {
namespace {

using engine::QuoteIdentifier;
using Kind = spec::StepValue::Kind;
using spec::StepValue;
using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string Join(const std::vector<std::string> &parts,
                 std::string_view separator = ", ") {
  std::string out;
  for (const auto &part : parts)
    out += (out.empty() ? "" : std::string(separator)) + part;
  return out;
}

std::string Names(const std::vector<RelationColumn> &columns) {
  std::vector<std::string> names;
  for (const auto &c : columns)
    names.push_back(c.name);
  return Join(names);
}

/// The relation so far, as the FROM of the step's SELECT.
std::string From(const StepRelation &prev) {
  return "\nFROM (\n" + prev.sql + "\n) AS input";
}

/// The column `name` (DuckDB binds names case-insensitively), or nullptr.
const RelationColumn *Find(const std::vector<RelationColumn> &columns,
                           std::string_view name) {
  std::string lower = AsciiLower(name);
  for (const auto &c : columns) {
    if (AsciiLower(c.name) == lower)
      return &c;
  }
  return nullptr;
}

/// OK when the relation has `name`, or its columns are not known.
Status Require(const StepRelation &prev, const std::string &name,
               std::string_view of = "") {
  if (!prev.known || Find(prev.columns, name) != nullptr)
    return Status::OK();
  return InvalidArgument("column " + name + " does not exist" +
                         std::string(of) + " (columns: " + Names(prev.columns) +
                         ")");
}

bool IsBlank(const std::string &text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

Result<std::string> Text(const StepValue &value, std::string_view what) {
  if (value.kind != Kind::kText || IsBlank(value.text)) {
    return InvalidArgument("expected " + std::string(what) + " (a text)");
  }
  return value.text;
}

/// A text, or a list of texts.
Result<std::vector<std::string>> TextList(const StepValue &value,
                                          std::string_view what) {
  if (value.kind == Kind::kText && !IsBlank(value.text))
    return std::vector<std::string>{value.text};
  std::vector<std::string> out;
  if (value.kind == Kind::kList) {
    for (const auto &item : value.items) {
      if (item.kind != Kind::kText || IsBlank(item.text))
        break;
      out.push_back(item.text);
    }
    if (!out.empty() && out.size() == value.items.size())
      return out;
  }
  return InvalidArgument("expected a list of " + std::string(what));
}

/// A map of texts, in written order.
Result<Pairs> TextMap(const StepValue &value, std::string_view what) {
  Pairs out;
  if (value.kind == Kind::kMap) {
    for (const auto &[key, field] : value.fields) {
      if (field.kind != Kind::kText || IsBlank(field.text) || IsBlank(key))
        break;
      out.emplace_back(key, field.text);
    }
    if (!out.empty() && out.size() == value.fields.size())
      return out;
  }
  return InvalidArgument("expected a map of column: " + std::string(what));
}

/// The input's name as the pipeline declares it; kInvalidArgument when it is
/// not an input.
Result<std::string> InputName(const ChainContext &context,
                              const std::string &name) {
  for (const auto &input : context.inputs) {
    if (AsciiLower(input) == AsciiLower(name))
      return input;
  }
  return InvalidArgument(name + " is not an input of the pipeline (inputs: " +
                         Join(context.inputs) + ")");
}

bool IsPlainName(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front())))
    return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  }
  return true;
}

Result<std::string> Filter(const StepValue &value, const StepRelation &prev) {
  PLEXUS_ASSIGN_OR_RETURN(std::string condition, Text(value, "a condition"));
  PLEXUS_RETURN_IF_ERROR(access::CheckSqlFragment(condition, "the condition"));
  if (!prev.change_op.empty()) {
    std::string op = QuoteIdentifier(prev.change_op);
    return "SELECT * REPLACE (CASE WHEN " + op + " = 'd' OR coalesce((" +
           condition + "), false) THEN " + op + " ELSE 'd' END AS " + op + ")" +
           From(prev);
  }
  return "SELECT *" + From(prev) + "\nWHERE (" + condition + ")";
}

Result<std::string> Project(const StepValue &value, const StepRelation &prev) {
  PLEXUS_ASSIGN_OR_RETURN(auto items,
                          TextList(value, "columns or `expression AS name`"));
  std::vector<std::string> select;
  for (const auto &column : prev.carry)
    select.push_back(QuoteIdentifier(column));
  for (const auto &item : items) {
    if (IsPlainName(item)) {
      PLEXUS_RETURN_IF_ERROR(Require(prev, item));
      select.push_back(QuoteIdentifier(item));
    } else {
      PLEXUS_RETURN_IF_ERROR(
          access::CheckSqlFragment(item, "the expression '" + item + "'"));
      select.push_back(item);
    }
  }
  return "SELECT " + Join(select) + From(prev);
}

Result<std::string> Rename(const StepValue &value, const StepRelation &prev) {
  PLEXUS_ASSIGN_OR_RETURN(Pairs renames, TextMap(value, "new name"));
  std::set<std::string> leaving, arriving;
  for (const auto &[from, to] : renames)
    leaving.insert(AsciiLower(from));
  std::vector<std::string> list;
  for (const auto &[from, to] : renames) {
    PLEXUS_RETURN_IF_ERROR(Require(prev, from));
    bool taken = prev.known && Find(prev.columns, to) != nullptr &&
                 !leaving.count(AsciiLower(to));
    if (taken || !arriving.insert(AsciiLower(to)).second) {
      return InvalidArgument("renaming " + from + " to " + to +
                             " would make two columns " + to);
    }
    list.push_back(QuoteIdentifier(from) + " AS " + QuoteIdentifier(to));
  }
  return "SELECT * RENAME (" + Join(list) + ")" + From(prev);
}

/// Change rows: the reason column, set to the first cast that fails on a row
/// that is not a delete (a delete needs only its key, which the contract check
/// types).
std::string CastFailure(const Pairs &casts, const StepRelation &prev) {
  std::string reason = QuoteIdentifier(prev.change_reason);
  std::string out = "CASE WHEN " + reason + " IS NOT NULL THEN " + reason;
  for (const auto &[column, type] : casts) {
    std::string c = QuoteIdentifier(column);
    out += " WHEN " + QuoteIdentifier(prev.change_op) + " <> 'd' AND " + c +
           " IS NOT NULL AND TRY_CAST(" + c + " AS " + type +
           ") IS NULL THEN " +
           engine::QuoteLiteral("type mismatch in a cast step: column " +
                                column + " ('") +
           " || left(" + c + "::VARCHAR, 40) || " +
           engine::QuoteLiteral("' is not " + type + ")");
  }
  return out + " END";
}

Result<std::string> Cast(const StepValue &value, const StepRelation &prev) {
  PLEXUS_ASSIGN_OR_RETURN(Pairs casts, TextMap(value, "type"));
  std::vector<std::string> list;
  for (const auto &[column, type] : casts) {
    PLEXUS_RETURN_IF_ERROR(Require(prev, column));
    if (!IsPlainTypeName(type)) {
      return InvalidArgument("column " + column + ": '" + type +
                             "' is not a type name");
    }
    if (!prev.change_op.empty()) {
      list.push_back("TRY_CAST(" + QuoteIdentifier(column) + " AS " + type +
                     ") AS " + QuoteIdentifier(column));
      continue;
    }
    list.push_back("CAST(" + QuoteIdentifier(column) + " AS " + type + ") AS " +
                   QuoteIdentifier(column));
  }
  if (!prev.change_op.empty())
    list.push_back(CastFailure(casts, prev) + " AS " +
                   QuoteIdentifier(prev.change_reason));
  return "SELECT * REPLACE (" + Join(list) + ")" + From(prev);
}

/// `masks` (column, mask spec) as access::MaskExpression writes them for the
/// column's type.
Result<std::string> Masked(const Pairs &masks, const StepRelation &prev,
                           const ChainContext &context) {
  std::vector<std::string> list;
  for (const auto &[column, mask] : masks) {
    PLEXUS_RETURN_IF_ERROR(Require(prev, column));
    std::string expression =
        QuoteIdentifier(column); // types unknown: lineage only
    if (prev.known) {
      const RelationColumn *c = Find(prev.columns, column);
      auto masked =
          access::MaskExpression(mask, c->name, c->type, context.salt);
      if (!masked.ok())
        return masked.status().WithPrefix("column " + column);
      expression = *masked;
    } else {
      PLEXUS_RETURN_IF_ERROR(
          access::ValidateMaskSpec(mask, "").WithPrefix("column " + column));
    }
    list.push_back(expression + " AS " + QuoteIdentifier(column));
  }
  return "SELECT * REPLACE (" + Join(list) + ")" + From(prev);
}

Result<std::string> Mask(const StepValue &value, const StepRelation &prev,
                         const ChainContext &context) {
  PLEXUS_ASSIGN_OR_RETURN(
      Pairs masks, TextMap(value, "mask (redact, hash, partial(N), ...)"));
  return Masked(masks, prev, context);
}

Result<std::string> Hash(const StepValue &value, const StepRelation &prev,
                         const ChainContext &context) {
  PLEXUS_ASSIGN_OR_RETURN(auto columns, TextList(value, "columns"));
  Pairs masks;
  for (const auto &column : columns)
    masks.emplace_back(column, "hash");
  return Masked(masks, prev, context);
}

/// `dedupe: {key: [k...], latest: column}`: per key, the row with the greatest
/// `latest` (NULL last); without `latest`, the first row in the order of all
/// columns (deterministic).
Result<std::string> Dedupe(const StepValue &value, const StepRelation &prev) {
  const StepValue *key = value.kind == Kind::kMap ? value.Field("key") : &value;
  if (key == nullptr)
    return InvalidArgument("expected {key: [columns], latest: column}");
  for (const auto &[field, unused] : value.fields) {
    if (field != "key" && field != "latest") {
      return InvalidArgument("unknown field " + field +
                             " (dedupe takes key and latest)");
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto keys, TextList(*key, "key columns"));
  std::vector<std::string> partition, order;
  for (const auto &k : keys) {
    PLEXUS_RETURN_IF_ERROR(Require(prev, k, " (key)"));
    partition.push_back(QuoteIdentifier(k));
  }
  if (const StepValue *latest =
          value.kind == Kind::kMap ? value.Field("latest") : nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(auto columns,
                            TextList(*latest, "ordering columns"));
    for (const auto &c : columns) {
      PLEXUS_RETURN_IF_ERROR(Require(prev, c, " (latest)"));
      order.push_back(QuoteIdentifier(c) + " DESC NULLS LAST");
    }
  } else {
    for (const auto &c : prev.columns)
      order.push_back(QuoteIdentifier(c.name) + " NULLS LAST");
  }
  std::string window = "PARTITION BY " + Join(partition);
  if (!order.empty())
    window += " ORDER BY " + Join(order);
  return "SELECT *" + From(prev) + "\nQUALIFY row_number() OVER (" + window +
         ") = 1";
}

Result<std::string> Union(const StepValue &value, const StepRelation &prev,
                          const ChainContext &context) {
  PLEXUS_ASSIGN_OR_RETURN(auto names, TextList(value, "input names"));
  std::string sql = "SELECT *" + From(prev);
  for (const auto &name : names) {
    PLEXUS_ASSIGN_OR_RETURN(std::string input, InputName(context, name));
    sql += "\nUNION ALL BY NAME\nSELECT * FROM " + QuoteIdentifier(input);
  }
  return sql;
}

/// The lookup input's key must be unique: a left join on a repeated key would
/// repeat rows.
Status CheckUniqueKey(const ChainContext &context, const std::string &input,
                      const std::vector<std::string> &keys) {
  std::vector<std::string> quoted;
  for (const auto &k : keys)
    quoted.push_back(QuoteIdentifier(k));
  PLEXUS_ASSIGN_OR_RETURN(
      int64_t repeated,
      context.probe->Count("SELECT count(*) FROM (SELECT 1 FROM " +
                           QuoteIdentifier(input) + " GROUP BY " +
                           Join(quoted) + " HAVING count(*) > 1) AS k"));
  if (repeated == 0)
    return Status::OK();
  return InvalidArgument(
      std::to_string(repeated) + " value(s) of (" + Join(keys) +
      ") are on more than one row of " + input +
      ": the join would repeat rows (a lookup needs a unique key)");
}

/// A lookup step's argument: `{input: other, on: [k...], columns: [c...]}`.
struct LookupArgument {
  std::string input;             ///< as the pipeline declares it
  std::vector<std::string> keys; ///< `on`
  std::vector<std::string>
      columns; ///< empty: every column of `input` but the keys
};

Result<LookupArgument> ReadLookup(const StepValue &value,
                                  const ChainContext &context) {
  const StepValue *input =
      value.kind == Kind::kMap ? value.Field("input") : nullptr;
  const StepValue *on = value.kind == Kind::kMap ? value.Field("on") : nullptr;
  if (input == nullptr || on == nullptr) {
    return InvalidArgument(
        "expected {input: name, on: [columns], columns: [columns]}");
  }
  for (const auto &[field, unused] : value.fields) {
    if (field != "input" && field != "on" && field != "columns") {
      return InvalidArgument("unknown field " + field +
                             " (lookup takes input, on and columns)");
    }
  }
  LookupArgument out;
  PLEXUS_ASSIGN_OR_RETURN(std::string name, Text(*input, "an input's name"));
  PLEXUS_ASSIGN_OR_RETURN(out.input, InputName(context, name));
  PLEXUS_ASSIGN_OR_RETURN(out.keys, TextList(*on, "join columns"));
  if (const StepValue *columns = value.Field("columns")) {
    PLEXUS_ASSIGN_OR_RETURN(out.columns, TextList(*columns, "columns"));
  }
  return out;
}

/// Change rows: the lookup as one row per key of `input`, with how many rows it
/// has (`_cdc_lookup_rows`), so that a key repeated there never repeats a change;
/// and the reason column, set on a change that is not a delete when its key is
/// repeated there (the event is dead-lettered; a delete needs only its key).
struct ChangeLookup {
  std::string relation;
  std::string reason;
};

ChangeLookup ChangeLookupSql(const LookupArgument &lookup,
                             const std::vector<std::string> &quoted_keys,
                             const StepRelation &prev) {
  std::string select = Join(quoted_keys);
  for (const auto &c : lookup.columns)
    select += ", any_value(" + QuoteIdentifier(c) + ") AS " + QuoteIdentifier(c);
  ChangeLookup out;
  out.relation = "(SELECT " + select + ", count(*) AS _cdc_lookup_rows FROM " +
                 QuoteIdentifier(lookup.input) + " GROUP BY " + Join(quoted_keys) +
                 ")";
  std::string key;
  for (size_t i = 0; i < lookup.keys.size(); i++) {
    key += (i == 0 ? "" : " || ', ' || ") +
           engine::QuoteLiteral(lookup.keys[i] + " ") + " || left(input." +
           quoted_keys[i] + "::VARCHAR, 40)";
  }
  std::string reason = "input." + QuoteIdentifier(prev.change_reason);
  out.reason = "CASE WHEN " + reason + " IS NOT NULL THEN " + reason +
               " WHEN input." + QuoteIdentifier(prev.change_op) +
               " <> 'd' AND lookup._cdc_lookup_rows > 1 THEN " +
               engine::QuoteLiteral("repeated key in a lookup: ") + " || " + key +
               " || ' is on ' || lookup._cdc_lookup_rows::VARCHAR || " +
               engine::QuoteLiteral(" rows of " + lookup.input) + " END";
  return out;
}

/// A LEFT JOIN bringing the lookup's columns beside the relation's own. With a
/// probe: the columns exist, none is already in the relation, and the key is
/// unique in the lookup (change rows: see ChangeLookupSql instead).
Result<std::string> Lookup(const StepValue &value, const StepRelation &prev,
                           const ChainContext &context) {
  PLEXUS_ASSIGN_OR_RETURN(LookupArgument lookup, ReadLookup(value, context));
  StepRelation other;
  if (context.probe != nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(
        other.columns, context.probe->Columns("SELECT * FROM " +
                                              QuoteIdentifier(lookup.input)));
    other.known = true;
  }
  std::set<std::string> key_set;
  std::vector<std::string> conditions, quoted_keys;
  for (const auto &k : lookup.keys) {
    PLEXUS_RETURN_IF_ERROR(Require(prev, k));
    PLEXUS_RETURN_IF_ERROR(Require(other, k, " in " + lookup.input));
    key_set.insert(AsciiLower(k));
    quoted_keys.push_back(QuoteIdentifier(k));
    conditions.push_back("input." + QuoteIdentifier(k) + " = lookup." +
                         QuoteIdentifier(k));
  }
  bool all = lookup.columns.empty();
  for (const auto &c : all ? other.columns : std::vector<RelationColumn>{}) {
    if (!key_set.count(AsciiLower(c.name)))
      lookup.columns.push_back(c.name);
  }
  std::string brought; // the lookup's columns, after the relation's
  for (const auto &c : lookup.columns) {
    PLEXUS_RETURN_IF_ERROR(Require(other, c, " in " + lookup.input));
    if (prev.known && Find(prev.columns, c) != nullptr) {
      return InvalidArgument(
          "column " + c + " is both in the relation and in " + lookup.input +
          ": rename it first, or list the lookup's `columns` without it");
    }
    brought += ", lookup." + QuoteIdentifier(c);
  }
  if (all && !other.known)
    brought += ", lookup.* EXCLUDE (" + Join(quoted_keys) + ")"; // lineage
  std::string select = "SELECT input.*";
  std::string joined = QuoteIdentifier(lookup.input);
  if (!prev.change_op.empty() && other.known) {
    ChangeLookup change = ChangeLookupSql(lookup, quoted_keys, prev);
    select += " REPLACE (" + change.reason + " AS " +
              QuoteIdentifier(prev.change_reason) + ")";
    joined = change.relation;
  } else if (context.probe != nullptr) {
    PLEXUS_RETURN_IF_ERROR(CheckUniqueKey(context, lookup.input, lookup.keys));
  }
  return select + brought + From(prev) + "\nLEFT JOIN " + joined + " AS lookup ON " +
         Join(conditions, " AND ");
}

/// `sql: SELECT ... FROM input`: the user's SELECT, with `input` the relation
/// so far.
Result<std::string> Sql(const StepValue &value, const StepRelation &prev) {
  PLEXUS_ASSIGN_OR_RETURN(std::string text, Text(value, "a SELECT"));
  while (!text.empty() &&
         (std::isspace(static_cast<unsigned char>(text.back())) ||
          text.back() == ';')) {
    text.pop_back();
  }
  return "WITH input AS (\n" + prev.sql + "\n)\nSELECT * FROM (\n" + text +
         "\n) AS input";
}

} // namespace

Result<std::string> CompileStep(const spec::ProcessorStep &step,
                                const StepRelation &prev,
                                const ChainContext &context) {
  const std::string &kind = step.kind;
  const StepValue &value = step.value;
  if (kind == "filter")
    return Filter(value, prev);
  if (kind == "project")
    return Project(value, prev);
  if (kind == "rename")
    return Rename(value, prev);
  if (kind == "cast")
    return Cast(value, prev);
  if (kind == "dedupe")
    return Dedupe(value, prev);
  if (kind == "mask")
    return Mask(value, prev, context);
  if (kind == "hash")
    return Hash(value, prev, context);
  if (kind == "union")
    return Union(value, prev, context);
  if (kind == "lookup")
    return Lookup(value, prev, context);
  if (kind == "sql")
    return Sql(value, prev);
  if (kind == "use")
    return InvalidArgument("a use step must be expanded before it is compiled");
  return InvalidArgument("unknown step kind '" + kind + "'");
}

} // namespace plexus::pipeline::internal
