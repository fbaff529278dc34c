#include "plexus/access/access_rules.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>

#include "plexus/access/masks.h"
#include "plexus/access/sql_guard.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/contract_diff.h"

namespace plexus::access {
namespace {

constexpr std::string_view kVisibilityField = "customProperties.visibility";
constexpr std::string_view kMaskField = "customProperties.mask";
constexpr std::string_view kRowFilterField = "customProperties.rowFilter";

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsVisibility(std::string_view visibility) {
  return visibility == "public" || visibility == "restricted" || visibility == "private";
}

bool IsSqlMask(std::string_view mask) {
  size_t start = mask.find_first_not_of(" \t");
  return start != std::string_view::npos && Lower(mask.substr(start, 4)) == "sql(";
}

// Where the diagnostics go, with files named relative to the mesh folder (as
// LoadMesh does).
class Reporter {
 public:
  Reporter(const spec::Mesh &mesh, std::vector<spec::Diagnostic> *problems)
      : prefix_(mesh.dir.empty() ? std::string() : mesh.dir + "/"), problems_(problems) {}

  void Add(spec::SourceLocation location, std::string_view field, std::string message) {
    if (!prefix_.empty() && location.file.starts_with(prefix_)) {
      location.file.erase(0, prefix_.size());
    }
    problems_->push_back({std::move(location), std::string(field), std::move(message)});
  }

 private:
  std::string prefix_;
  std::vector<spec::Diagnostic> *problems_;
};

// Where a column's effective mask was written, for messages: "" (the column
// itself) or the mesh's rule for its classification.
std::string MaskOrigin(const spec::Property &property) {
  if (!property.mask.empty()) return "";
  return " (mesh.yaml access.masks." + Lower(property.classification) + ")";
}

// Resolves the one name the check queries read, to the scratch table.
class ScratchResolver : public RelationResolver {
 public:
  explicit ScratchResolver(ResolvedRelation relation) : relation_(std::move(relation)) {}
  Result<ResolvedRelation> Resolve(const TableName &name) const override {
    if (name.catalog.empty() && name.schema.empty() && name.table == relation_.logical_name) {
      return relation_;
    }
    return PermissionDenied("a row filter or mask may not read a table (it reads " +
                            name.ToString() + ")");
  }

 private:
  ResolvedRelation relation_;
};

// A hardened in-memory engine holding one scratch table per contract checked.
class ScratchEngine {
 public:
  static Result<std::unique_ptr<ScratchEngine>> Open() {
    engine::DatabaseOptions options;
    options.hardened = true;
    options.threads = 1;
    auto scratch = std::unique_ptr<ScratchEngine>(new ScratchEngine());
    PLEXUS_ASSIGN_OR_RETURN(scratch->db_, engine::Database::Open(options));
    PLEXUS_ASSIGN_OR_RETURN(scratch->conn_, scratch->db_->Connect());
    PLEXUS_RETURN_IF_ERROR(scratch->conn_->LockConfiguration());
    scratch->guard_ = std::make_unique<SqlGuard>();
    return scratch;
  }

  /// Creates a table of `columns` (names and engine types) holding one row of
  /// NULLs; its name, or an error when a type does not exist (the spec's own
  /// checks report that).
  Result<std::string> CreateTable(const std::vector<ColumnView> &columns) {
    std::string table = "rules_" + std::to_string(++tables_);
    std::string sql = "CREATE TABLE " + engine::QuoteIdentifier(table) + " (";
    for (size_t i = 0; i < columns.size(); ++i) {
      PLEXUS_RETURN_IF_ERROR(CheckSqlFragment(columns[i].engine_type, "a column type"));
      sql += (i == 0 ? "" : ", ") + engine::QuoteIdentifier(columns[i].name) + " " +
             columns[i].engine_type;
    }
    // One row of NULLs, so the rules are evaluated too (a constant that does
    // not cast is only found when a row reaches it), not just bound.
    PLEXUS_RETURN_IF_ERROR(conn_->Execute(sql + "); INSERT INTO " + engine::QuoteIdentifier(table) +
                                          " DEFAULT VALUES"));
    return table;
  }

  /// Guards and runs `query` (which reads `port`) with `port` resolved to
  /// `table` secured by `columns` and `row_filter`. The refusal or the engine's
  /// error, else OK.
  Status Bind(const std::string &table, const std::vector<ColumnView> &columns,
              std::string_view row_filter, const std::string &query) {
    PLEXUS_ASSIGN_OR_RETURN(std::string secured,
                            SecuredSelect("memory", "main", table, columns, row_filter, "salt"));
    ResolvedRelation relation{"memory", "main", table, std::string(kPort), ""};
    relation.secured_select = std::move(secured);
    relation.principal = std::make_shared<PrincipalContext>(PrincipalContext{"rules", {}, {}});
    Result<GuardedQuery> guarded = guard_->Check(query, ScratchResolver(relation));
    if (!guarded.ok()) {  // the refusal, without the scratch relation's name
      std::string prefix = "the access rules of " + std::string(kPort) + ": ";
      std::string message = guarded.status().message();
      if (message.starts_with(prefix)) message.erase(0, prefix.size());
      return Status(guarded.status().code(), std::move(message));
    }
    Status run = Drain(guarded->sql);
    return Status(run.code(), ConsumerErrorMessage(run.message()));
  }

  static constexpr std::string_view kPort = "port";

 private:
  ScratchEngine() = default;

  // Runs `sql` to its end (execution errors may come with any chunk).
  Status Drain(const std::string &sql) {
    PLEXUS_ASSIGN_OR_RETURN(auto result, conn_->Query(sql));
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
      if (!chunk) return Status::OK();
    }
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<SqlGuard> guard_;
  int tables_ = 0;
};

// Checks each column's effective mask against its type; returns the columns of
// the schema object, unmasked, for the bind checks.
std::vector<ColumnView> CheckMasks(const spec::Mesh &mesh, const spec::SchemaObject &object,
                                   Reporter &report, std::vector<ColumnView> *sql_masked) {
  std::vector<ColumnView> columns;
  for (const spec::Property &property : object.properties) {
    std::string mask = spec::EffectiveMask(mesh.access, property, nullptr);
    std::string origin = MaskOrigin(property);
    ColumnView column{property.name, spec::ColumnEngineType(property), ""};
    if (!mask.empty()) {
      Status valid = ValidateMaskSpec(mask, column.engine_type);
      if (!valid.ok()) {
        report.Add(property.location, kMaskField,
                   "column " + property.name + ": " + valid.message() + origin);
      } else if (IsSqlMask(mask) && sql_masked != nullptr) {
        sql_masked->push_back({property.name, column.engine_type, mask});
      }
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

// Binds the row filter and the sql(...) masks of the contract's port for real.
void BindRules(const spec::Contract &contract, const std::vector<ColumnView> &columns,
               const std::vector<ColumnView> &sql_masked, ScratchEngine &scratch,
               Reporter &report) {
  Result<std::string> table = scratch.CreateTable(columns);
  if (!table.ok()) return;  // an unknown type: spec's validation names it
  std::string port = engine::QuoteIdentifier(ScratchEngine::kPort);
  if (!contract.row_filter.empty()) {
    Status bound =
        scratch.Bind(*table, columns, contract.row_filter, "SELECT count(*) FROM " + port);
    if (!bound.ok()) {
      spec::SourceLocation where =
          contract.row_filter_location.line > 0 ? contract.row_filter_location : contract.location;
      report.Add(where, kRowFilterField, "row filter: " + bound.message());
    }
  }
  for (const ColumnView &masked : sql_masked) {
    std::vector<ColumnView> view = columns;
    for (ColumnView &column : view) {
      if (column.name == masked.name) column.mask = masked.mask;
    }
    Status bound = scratch.Bind(*table, view, "",
                                "SELECT " + engine::QuoteIdentifier(masked.name) + " FROM " + port);
    if (bound.ok()) continue;
    for (const spec::Property &property : contract.schema.front().properties) {
      if (property.name != masked.name) continue;
      report.Add(property.location, kMaskField,
                 "column " + masked.name + ": mask " + masked.mask + ": " + bound.message());
      break;
    }
  }
}

void CheckContract(const spec::Mesh &mesh, const spec::Contract &contract, ScratchEngine &scratch,
                   Reporter &report) {
  if (!contract.visibility.empty() && !IsVisibility(contract.visibility)) {
    report.Add(contract.location, kVisibilityField,
               "visibility '" + contract.visibility + "' is not public, restricted or private");
  }
  std::vector<ColumnView> port_columns;
  std::vector<ColumnView> sql_masked;
  for (size_t i = 0; i < contract.schema.size(); ++i) {
    std::vector<ColumnView> columns =
        CheckMasks(mesh, contract.schema[i], report, i == 0 ? &sql_masked : nullptr);
    if (i == 0) port_columns = std::move(columns);
  }
  // The port is the contract's first schema object (the table its pipeline
  // writes).
  if (port_columns.empty()) return;
  BindRules(contract, port_columns, sql_masked, scratch, report);
}

void CheckMeshRules(const spec::Mesh &mesh, Reporter &report) {
  if (!IsVisibility(mesh.access.default_visibility)) {
    report.Add(
        mesh.location, "access.defaultVisibility",
        "visibility '" + mesh.access.default_visibility + "' is not public, restricted or private");
  }
  for (const auto &[classification, rule] : mesh.access.masks) {
    Status valid = ValidateMaskSpec(rule.mask, "");
    if (!valid.ok()) {
      report.Add(rule.location.line > 0 ? rule.location : mesh.location,
                 "access.masks." + classification + ".mask", valid.message());
    }
  }
}

}  // namespace

Status CheckAccessRules(const spec::Mesh &mesh, std::vector<spec::Diagnostic> *problems) {
  std::vector<spec::Diagnostic> local;
  Reporter report(mesh, problems != nullptr ? problems : &local);
  CheckMeshRules(mesh, report);
  PLEXUS_ASSIGN_OR_RETURN(std::unique_ptr<ScratchEngine> scratch, ScratchEngine::Open());
  for (const spec::Domain &domain : mesh.domains) {
    for (const spec::ProductBundle &bundle : domain.products) {
      for (const auto &[id, contract] : bundle.contracts) {
        CheckContract(mesh, contract, *scratch, report);
      }
    }
  }
  return Status::OK();
}

}  // namespace plexus::access
