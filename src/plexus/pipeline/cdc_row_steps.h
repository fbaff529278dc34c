// File: plexus/pipeline/cdc_row_steps.h
//
// Private to the pipeline module: processor steps on the change rows of a CDC input
// (cdc_apply.cc). A batch's row images (after, or before for a delete) are typed from the
// source's JSON values into a working table, the output's row-wise steps run over it as
// `change_rows` (through the SQL guard, like a batch pipeline's steps), and the result is cast
// to the port's contract with the same dead-letter reasons as without steps:
//
//   raw (idx, line) --Type--> src (meta, source columns) --steps--> stepped --Conform--> typed
//
// The meta columns (the change's index, op, position, time and bad-event reason) ride along
// every step: a project keeps them, a filter turns a dropped row into a delete of its key, a
// cast that fails sets the reason (processors_internal.h, StepRelation::change_op). A lookup
// joins the other input's current rows (LookupRelations: cdc_lookup.h), one per key: a change
// that meets a key repeated there gets a reason instead of being repeated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/processors.h"

namespace plexus::pipeline::internal {

/// The working tables' meta columns (a source column so named is ignored).
constexpr const char* kCdcIdx = "_cdc_idx";
constexpr const char* kCdcOp = "_cdc_op";
constexpr const char* kCdcPos = "_cdc_pos";
constexpr const char* kCdcReason = "_cdc_reason";
/// All of them, in the order of the working tables.
std::vector<std::string> CdcMetaColumns();

/// What the steps read: `SELECT * FROM change_rows`.
constexpr const char* kChangeRows = "change_rows";

/// A column of a port's table as the applier types it.
struct ChangeColumn {
  std::string name;
  std::string type;  ///< DuckDB type
  bool key = false;
  bool required = false;
  bool json = false;  ///< read from the envelope as JSON text (objects, arrays, mixed values)
  bool integer_text = false;  ///< a value with a fraction or exponent does not fit (no rounding)
  bool operator==(const ChangeColumn&) const = default;
};

/// The columns of a batch's row images (after and before, with or without the {schema,
/// payload} wrapper) in `raw` (idx, line), typed from their JSON values: BIGINT, DOUBLE,
/// BOOLEAN, VARCHAR, JSON (objects, arrays, values of several kinds), or NULL when every value
/// is null. Every image gives names; the types come from every image when `exact`, else from
/// every 16th event (a name the sample lacks is NULL). Names starting with _cdc_
/// are left out.
Result<std::vector<RelationColumn>> BatchSourceColumns(engine::Connection& conn,
                                                       const std::string& raw, bool exact);

/// Widens `known` by `found`: new names are appended; a type that differs becomes DOUBLE
/// (BIGINT and DOUBLE) or JSON; NULL keeps the known type, or becomes VARCHAR for a new name.
/// True when `known` changed.
bool MergeSourceColumns(std::vector<RelationColumn>& known,
                        const std::vector<RelationColumn>& found);

/// The inputs the lookup steps of a CDC output read (the pipeline's file inputs and input
/// ports: cdc_lookup.h), by name, as the SQL guard resolves them.
class LookupRelations : public access::RelationResolver {
 public:
  /// The input names a lookup may name (as the pipeline declares them).
  virtual const std::vector<std::string>& names() const = 0;
  /// Called before each batch that runs the steps: brings what Resolve gives up to date and
  /// returns its generation, which moves whenever that may have changed (the steps compiled
  /// for an older one are compiled again).
  virtual Result<uint64_t> Refresh() = 0;
};

/// Resolves `change_rows` to one table of the engine (catalog.main.table), and the names of
/// `lookups` (when given) as it resolves them; every other name is refused: the steps read
/// the batch and the inputs their lookups name, nothing else.
class ChangeRowResolver final : public access::RelationResolver {
 public:
  ChangeRowResolver(std::string catalog, std::string table,
                    const LookupRelations* lookups = nullptr)
      : catalog_(std::move(catalog)), table_(std::move(table)), lookups_(lookups) {}
  Result<access::ResolvedRelation> Resolve(const access::TableName& name) const override;

 private:
  std::string catalog_, table_;
  const LookupRelations* lookups_;
};

/// An output's steps compiled for change rows: the guarded SELECT and its columns.
struct CompiledChangeSteps {
  std::string sql;  ///< guarded: runs as it is
  std::vector<RelationColumn> columns;
};

/// Refuses what cannot run on change rows, naming the step and its file:line: the steps that
/// read the whole relation (sql, dedupe, union).
Status CheckChangeSteps(const std::vector<ChainStep>& steps);

/// The inputs the lookup steps of `steps` name, each once, in order.
std::vector<std::string> LookupInputNames(const std::vector<ChainStep>& steps);

/// Compiles `steps` over `change_rows` (whose table `resolver` names; it must exist, as the
/// steps are bound one by one); a lookup may name `inputs`. Errors name the step.
Result<CompiledChangeSteps> CompileChangeSteps(engine::Connection& conn,
                                               const access::SqlGuard& guard,
                                               const ChangeRowResolver& resolver,
                                               const std::vector<ChainStep>& steps,
                                               const std::string& salt,
                                               const std::vector<std::string>& inputs = {});

/// The SELECT that casts the stepped rows of `stepped` (a table with the meta columns) to the
/// port's `columns` (a column the steps did not make is NULL), keeping the reason a row has
/// and else giving it the contract's: missing key, type mismatch, required column NULL.
std::string ConformChangeRows(const std::string& stepped,
                              const std::vector<RelationColumn>& stepped_columns,
                              const std::vector<ChangeColumn>& columns);

/// The processor steps of the ports fed by one CDC input, the source columns seen so far
/// (kept in the domain's `plexus_cdc_source_columns`, so a batch of deletes whose images hold
/// only the key still binds every step), and the steps as compiled for them.
/// Thread safety: one thread at a time (it uses the applier's connection).
class ChangeRowSteps {
 public:
  /// `steps`: per port, in the applier's order (empty: none); each is checked
  /// (CheckChangeSteps). `source_table`: the qualified table that keeps the source columns.
  /// `lookups`: what lookup steps read (null: none may; a lookup step is then refused).
  static Result<std::unique_ptr<ChangeRowSteps>> Open(
      engine::Connection* conn, std::vector<std::vector<ChainStep>> steps, std::string salt,
      std::string source_table, std::string product, std::string input,
      std::shared_ptr<LookupRelations> lookups = nullptr);

  /// Whether port `i` has steps.
  bool Has(size_t i) const { return !steps_[i].empty(); }
  /// The batch's source columns (those seen so far, widened by the row images in `raw`), as
  /// the applier's parse types them. Typed from a sample unless `exact` (or a new name is not
  /// in the sample): call again with `exact` when a value does not fit its sampled type.
  Result<std::vector<ChangeColumn>> SourceColumns(const std::string& raw, bool exact);
  /// Port i's steps over `src` (the typed source rows with the meta columns) into the table
  /// `stepped`; the columns it has. Compiled again only when the source columns change.
  Result<std::vector<RelationColumn>> Run(size_t i, const std::string& src,
                                          const std::string& stepped);
  /// Statements (for the batch's transaction) that keep the source columns when they changed;
  /// call Kept() after its commit.
  std::string KeepSql() const;
  void Kept() { changed_ = false; }

 private:
  ChangeRowSteps() = default;
  Status Load();

  engine::Connection* conn_ = nullptr;
  std::vector<std::vector<ChainStep>> steps_;
  std::string salt_, source_table_, product_, input_;
  std::string work_catalog_;  ///< where the applier's working tables are
  std::unique_ptr<access::SqlGuard> guard_;
  std::shared_ptr<LookupRelations> lookups_;
  std::vector<RelationColumn> source_;
  bool changed_ = false;
  struct Compiled {
    std::string source;  ///< the source columns it was compiled for
    uint64_t lookups = 0;  ///< and the lookup inputs' generation (LookupRelations::Refresh)
    CompiledChangeSteps steps;
  };
  std::vector<Compiled> compiled_;
};

}  // namespace plexus::pipeline::internal
