// File: plexus/pipeline/cdc_row_steps.cc
//
// Processor steps on a CDC input's change rows (cdc_row_steps.h).
#include "plexus/pipeline/cdc_row_steps.h"

#include <algorithm>
#include <set>

#include "plexus/common/text.h"
#include "plexus/pipeline/processors_internal.h"
#include "plexus/spec/processors.h"

namespace plexus::pipeline::internal {
namespace {

using engine::QuoteIdentifier;
using engine::QuoteLiteral;

/// A JSON structure type (json_group_structure) as the column type of a source column.
std::string SourceType(const std::string& structure) {
  if (structure == "UBIGINT" || structure == "BIGINT") return "BIGINT";
  if (structure == "DOUBLE" || structure == "BOOLEAN" || structure == "VARCHAR") return structure;
  if (structure == "NULL") return "NULL";
  return "JSON";
}

/// "step 2 (rename at pipeline.yaml:14)", with the use it came from when expanded.
std::string StepName(const ChainStep& chain_step, size_t index) {
  const spec::SourceLocation& at = chain_step.step.location;
  std::string out = "step " + std::to_string(index + 1) + " (" + chain_step.step.kind;
  if (at.line > 0) out += " at " + (at.file.empty() ? "line " : at.file + ":") +
                          std::to_string(at.line);
  if (!chain_step.via.empty()) out += ", from the " + chain_step.via;
  return out + ")";
}

Status AtStep(const Status& status, const std::string& step) {
  return Status(status.code() == StatusCode::kPermissionDenied ? status.code()
                                                               : StatusCode::kInvalidArgument,
                step + ": " + status.message());
}

}  // namespace

std::vector<std::string> CdcMetaColumns() {
  return {kCdcIdx, kCdcOp, kCdcPos, "_cdc_pos_text", "_cdc_ts_ms", kCdcReason};
}

Result<std::vector<RelationColumn>> BatchSourceColumns(engine::Connection& conn,
                                                       const std::string& raw, bool exact) {
  // Each envelope is parsed once; its row images (after, before, either wrapped in payload)
  // that are objects give the names. Their types: one structure merged over the images
  // (json_group_structure, which costs about a second per 250,000 events), of every event when
  // `exact`, else of every 16th.
  const std::string images =
      "SELECT unnest(try(json_extract(line, ['$.after', '$.before', '$.payload.after', "
      "'$.payload.before']))) AS img FROM " + raw;
  const std::string objects = ") WHERE json_type(img) = 'OBJECT'";
  PLEXUS_ASSIGN_OR_RETURN(
      auto types, conn.Query("SELECT json_group_structure(img)::VARCHAR FROM (" + images +
                             (exact ? "" : " WHERE idx % 16 = 0") + objects));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, types->Fetch());
  std::string structure = !chunk || chunk->size() == 0 || chunk->IsNull(0, 0) ? "{}"
                                                                                : chunk->Text(0, 0);
  PLEXUS_ASSIGN_OR_RETURN(
      auto fields,
      conn.Query("SELECT k, CASE WHEN s.value IS NULL THEN 'NULL' WHEN json_type(s.value) = "
                 "'VARCHAR' THEN s.value->>'$' ELSE 'JSON' END FROM (SELECT DISTINCT "
                 "unnest(json_keys(img)) AS k FROM (" + images + objects +
                 ") LEFT JOIN json_each(" + QuoteLiteral(structure) +
                 ") s ON s.key = k ORDER BY k"));
  std::vector<RelationColumn> out;
  std::set<std::string> seen;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto names, fields->Fetch());
    if (!names) break;
    for (size_t r = 0; r < names->size(); r++) {
      std::string name = names->Text(0, r);
      if (name.rfind("_cdc_", 0) == 0 || !seen.insert(AsciiLower(name)).second) continue;
      out.push_back({name, SourceType(names->Text(1, r))});
    }
  }
  return out;
}

bool MergeSourceColumns(std::vector<RelationColumn>& known,
                        const std::vector<RelationColumn>& found) {
  bool changed = false;
  for (const auto& f : found) {
    RelationColumn* k = nullptr;
    for (auto& c : known) {
      if (AsciiLower(c.name) == AsciiLower(f.name)) k = &c;
    }
    if (k == nullptr) {
      known.push_back({f.name, f.type == "NULL" ? "VARCHAR" : f.type});
      changed = true;
      continue;
    }
    if (f.type == "NULL" || f.type == k->type) continue;
    bool numbers = (f.type == "BIGINT" || f.type == "DOUBLE") &&
                   (k->type == "BIGINT" || k->type == "DOUBLE");
    std::string widened = numbers ? "DOUBLE" : "JSON";
    changed = changed || widened != k->type;
    k->type = widened;
  }
  return changed;
}

Result<access::ResolvedRelation> ChangeRowResolver::Resolve(const access::TableName& name) const {
  if (name.catalog.empty() && name.schema.empty() && AsciiLower(name.table) == kChangeRows) {
    access::ResolvedRelation out;
    out.catalog = catalog_;
    out.schema = "main";
    out.table = table_;
    out.logical_name = kChangeRows;
    return out;
  }
  if (lookups_ != nullptr) {
    auto input = lookups_->Resolve(name);
    if (input.ok()) return input;
    std::string names;
    for (const auto& n : lookups_->names()) names += (names.empty() ? "" : ", ") + n;
    return PermissionDenied("the steps of a CDC output may read only their change rows and the "
                            "inputs their lookups name (" + names + "); " + name.ToString() +
                            " is not readable here");
  }
  return PermissionDenied(std::string("the steps of a CDC output may read only their change "
                                      "rows; ") + name.ToString() + " is not readable here");
}

Status CheckChangeSteps(const std::vector<ChainStep>& steps) {
  for (size_t i = 0; i < steps.size(); i++) {
    const std::string& kind = steps[i].step.kind;
    if (!spec::IsRowWiseStep(kind)) {
      return InvalidArgument(StepName(steps[i], i) + ": a " + kind +
                             " step reads the whole relation; an output of a CDC input may "
                             "use only filter, project, rename, cast, mask, hash and lookup");
    }
  }
  return Status::OK();
}

std::vector<std::string> LookupInputNames(const std::vector<ChainStep>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) {
    const spec::StepValue* input = s.step.kind == "lookup" ? s.step.value.Field("input") : nullptr;
    if (input == nullptr || input->kind != spec::StepValue::Kind::kText) continue;
    if (std::find(out.begin(), out.end(), input->text) == out.end()) out.push_back(input->text);
  }
  return out;
}

Result<CompiledChangeSteps> CompileChangeSteps(engine::Connection& conn,
                                               const access::SqlGuard& guard,
                                               const ChangeRowResolver& resolver,
                                               const std::vector<ChainStep>& steps,
                                               const std::string& salt,
                                               const std::vector<std::string>& inputs) {
  PLEXUS_RETURN_IF_ERROR(CheckChangeSteps(steps));
  GuardedProbe probe(conn, guard, resolver);
  ChainContext context;
  context.salt = salt;
  context.inputs = inputs;
  context.probe = &probe;
  StepRelation relation;
  relation.sql = std::string("SELECT * FROM ") + kChangeRows;
  relation.known = true;
  relation.change_op = kCdcOp;
  relation.change_reason = kCdcReason;
  relation.carry = CdcMetaColumns();
  PLEXUS_ASSIGN_OR_RETURN(relation.columns, probe.Columns(relation.sql));
  for (size_t i = 0; i < steps.size(); i++) {
    std::string name = StepName(steps[i], i);
    auto sql = CompileStep(steps[i].step, relation, context);
    if (!sql.ok()) return AtStep(sql.status(), name);
    relation.sql = std::move(sql).value();
    auto columns = probe.Columns(relation.sql);
    if (!columns.ok()) return AtStep(columns.status(), name);
    relation.columns = std::move(columns).value();
    for (const auto& meta : CdcMetaColumns()) {
      bool kept = false;
      for (const auto& c : relation.columns) kept = kept || c.name == meta;
      if (!kept) return InvalidArgument(name + ": it drops the column " + meta + ", which the "
                                        "change stream needs (a name starting with _cdc_ is "
                                        "reserved)");
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery guarded, guard.Check(relation.sql, resolver));
  CompiledChangeSteps out;
  out.sql = std::move(guarded.sql);
  for (auto& c : relation.columns) out.columns.push_back(std::move(c));
  return out;
}

std::string ConformChangeRows(const std::string& stepped,
                              const std::vector<RelationColumn>& stepped_columns,
                              const std::vector<ChangeColumn>& columns) {
  std::vector<std::string> meta = CdcMetaColumns();
  std::string select;
  for (size_t m = 0; m + 1 < meta.size(); m++) select += QuoteIdentifier(meta[m]) + ", ";
  std::string op = QuoteIdentifier(kCdcOp);
  std::string checks_key, checks_type, checks_required;
  for (const auto& col : columns) {
    bool present = false;
    for (const auto& s : stepped_columns) {
      present = present || AsciiLower(s.name) == AsciiLower(col.name);
    }
    std::string raw = present ? QuoteIdentifier(col.name) : "NULL";
    std::string cast = "TRY_CAST(" + raw + " AS " + col.type + ")";
    select += cast + " AS " + QuoteIdentifier(col.name) + ", ";
    std::string mismatch = QuoteLiteral("type mismatch: column " + col.name + " ('") +
                           " || left(" + raw + "::VARCHAR, 40) || " +
                           QuoteLiteral("' is not " + col.type + ")");
    if (col.key) {
      checks_key += " WHEN " + raw + " IS NOT NULL AND " + cast + " IS NULL THEN " + mismatch;
      checks_key += " WHEN " + cast + " IS NULL THEN " + QuoteLiteral("missing key: " + col.name);
      continue;
    }
    checks_type += " WHEN " + op + " <> 'd' AND " + raw + " IS NOT NULL AND " + cast +
                   " IS NULL THEN " + mismatch;
    if (col.required) {
      checks_required += " WHEN " + op + " <> 'd' AND " + cast + " IS NULL THEN " +
                         QuoteLiteral("required column NULL: " + col.name);
    }
  }
  std::string reason = QuoteIdentifier(kCdcReason);
  return "SELECT " + select + "CASE WHEN " + reason + " IS NOT NULL THEN " + reason +
         checks_key + checks_type + checks_required + " END AS " + reason + " FROM " + stepped;
}

Result<std::unique_ptr<ChangeRowSteps>> ChangeRowSteps::Open(
    engine::Connection* conn, std::vector<std::vector<ChainStep>> steps, std::string salt,
    std::string source_table, std::string product, std::string input,
    std::shared_ptr<LookupRelations> lookups) {
  std::unique_ptr<ChangeRowSteps> out(new ChangeRowSteps());
  for (const auto& port_steps : steps) {
    PLEXUS_RETURN_IF_ERROR(CheckChangeSteps(port_steps));
    if (lookups == nullptr && !LookupInputNames(port_steps).empty()) {
      return FailedPrecondition("the lookup steps of the CDC input " + input +
                                "'s outputs were given no inputs to read");
    }
  }
  out->lookups_ = std::move(lookups);
  out->conn_ = conn;
  out->compiled_.resize(steps.size());
  out->steps_ = std::move(steps);
  out->salt_ = std::move(salt);
  out->source_table_ = std::move(source_table);
  out->product_ = std::move(product);
  out->input_ = std::move(input);
  out->guard_ = std::make_unique<access::SqlGuard>();
  PLEXUS_RETURN_IF_ERROR(out->Load());
  return out;
}

Status ChangeRowSteps::Load() {
  PLEXUS_ASSIGN_OR_RETURN(auto current, conn_->Query("SELECT current_database()"));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, current->Fetch());
  if (!chunk || chunk->size() == 0) return Internal("current_database() returned no row");
  work_catalog_ = chunk->Text(0, 0);
  PLEXUS_RETURN_IF_ERROR(conn_->Execute(
      "CREATE TABLE IF NOT EXISTS " + source_table_ +
      " (product VARCHAR, input VARCHAR, ordinal INTEGER, name VARCHAR, type VARCHAR)"));
  PLEXUS_ASSIGN_OR_RETURN(
      auto result, conn_->Query("SELECT name, type FROM " + source_table_ + " WHERE product = " +
                                QuoteLiteral(product_) + " AND input = " + QuoteLiteral(input_) +
                                " ORDER BY ordinal"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto rows, result->Fetch());
    if (!rows) break;
    for (size_t r = 0; r < rows->size(); r++) {
      source_.push_back({rows->Text(0, r), rows->Text(1, r)});
    }
  }
  return Status::OK();
}

Result<std::vector<ChangeColumn>> ChangeRowSteps::SourceColumns(const std::string& raw,
                                                                 bool exact) {
  PLEXUS_ASSIGN_OR_RETURN(auto found, BatchSourceColumns(*conn_, raw, exact));
  // A name new to the input that the sample did not type: type it from every event.
  bool untyped = std::any_of(found.begin(), found.end(), [&](const RelationColumn& f) {
    return f.type == "NULL" && std::none_of(source_.begin(), source_.end(), [&](const auto& k) {
             return AsciiLower(k.name) == AsciiLower(f.name);
           });
  });
  if (untyped && !exact) {
    PLEXUS_ASSIGN_OR_RETURN(found, BatchSourceColumns(*conn_, raw, true));
  }
  changed_ = MergeSourceColumns(source_, found) || changed_;
  std::vector<ChangeColumn> out;
  for (const auto& c : source_) {
    out.push_back({c.name, c.type, false, false, c.type == "JSON", c.type == "BIGINT"});
  }
  return out;
}

Result<std::vector<RelationColumn>> ChangeRowSteps::Run(size_t i, const std::string& src,
                                                        const std::string& stepped) {
  if (source_.empty()) {  // no row image yet: every event is bad, and no step can bind
    std::vector<RelationColumn> meta;
    for (const auto& m : CdcMetaColumns()) meta.push_back({m, ""});
    PLEXUS_RETURN_IF_ERROR(
        conn_->Execute("CREATE OR REPLACE TABLE " + stepped + " AS FROM " + src));
    return meta;
  }
  std::string source;
  for (const auto& c : source_) source += c.name + " " + c.type + ",";
  Compiled& compiled = compiled_[i];
  uint64_t lookups = 0;
  if (lookups_ != nullptr && !LookupInputNames(steps_[i]).empty()) {
    PLEXUS_ASSIGN_OR_RETURN(lookups, lookups_->Refresh());
  }
  if (compiled.source != source || compiled.lookups != lookups || compiled.steps.sql.empty()) {
    ChangeRowResolver resolver(work_catalog_, src, lookups_.get());
    PLEXUS_ASSIGN_OR_RETURN(
        compiled.steps,
        CompileChangeSteps(*conn_, *guard_, resolver, steps_[i], salt_,
                           lookups_ != nullptr ? lookups_->names() : std::vector<std::string>{}));
    compiled.source = source;
    compiled.lookups = lookups;
  }
  PLEXUS_RETURN_IF_ERROR(
      conn_->Execute("CREATE OR REPLACE TABLE " + stepped + " AS " + compiled.steps.sql));
  return compiled.steps.columns;
}

std::string ChangeRowSteps::KeepSql() const {
  if (!changed_) return "";
  std::string sql = "DELETE FROM " + source_table_ + " WHERE product = " +
                    QuoteLiteral(product_) + " AND input = " + QuoteLiteral(input_) + ";";
  for (size_t c = 0; c < source_.size(); c++) {
    sql += "INSERT INTO " + source_table_ + " VALUES (" + QuoteLiteral(product_) + ", " +
           QuoteLiteral(input_) + ", " + std::to_string(c) + ", " + QuoteLiteral(source_[c].name) +
           ", " + QuoteLiteral(source_[c].type) + ");";
  }
  return sql;
}

}  // namespace plexus::pipeline::internal
