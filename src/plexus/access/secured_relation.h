// File: plexus/access/secured_relation.h (internal to the access module)
//
// How the walker turns a secured relation (ResolvedRelation::secured_select) into a derived
// table: the principal functions of the parsed SELECT become constants; the BASE_TABLE
// reference the user wrote keeps its alias, column aliases and sample but names a placeholder;
// and once the statement is back to SQL the placeholder is replaced by that SELECT, rendered to
// SQL once per reader and set of reachable columns (the statement's text around it is DuckDB's
// rendering either way, so the SQL is the same as rendering one tree).
//
//   PLEXUS_RETURN_IF_ERROR(SubstitutePrincipal(node, *relation.principal));
//   ref = PlaceholderRef(std::move(ref), splice.placeholder);
//   ... render the statement ...
//   PLEXUS_ASSIGN_OR_RETURN(sql, SpliceSecuredSelects(sql, splices, rendered_selects));
//
// Thread safety: plain functions over values.
#pragma once

#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/common/status.h"

namespace plexus::access {

/// Replaces, anywhere in `value` (json_serialize_sql's tree), principal_name() by the
/// principal's name, principal_attr('key') by the attribute (NULL VARCHAR when missing) and
/// principal_in_group('group') by a BOOLEAN constant. A wrong arity or an argument that is not
/// a string constant is kPermissionDenied.
Status SubstitutePrincipal(nlohmann::json& value, const PrincipalContext& principal);

/// The names a secured SELECT's expressions may use as columns, in lower case: the columns it
/// projects (each column of the table, under its own name), those of the inner projection it
/// reads when it has a row filter (the same, and kRowVisibleColumn, masks.h) and the parameters
/// of its lambdas.
/// Any other name would bind to a column of the user's query (DuckDB binds a derived table's
/// unknown names to earlier FROM items and outer queries), so the walker refuses it. Empty
/// when `node` is not a SELECT node.
std::vector<std::string> SecuredColumnNames(const nlohmann::json& node);

/// What a user's statement can read of a secured relation's columns, found before the walk
/// rewrites it. A derived table projects only these (CopyReachableColumns): fewer masked
/// columns for DuckDB to bind, the same answer.
struct ReachableColumns {
  /// Every column may be read: a star (SELECT *, c.*, COLUMNS(...)), a positional reference
  /// (#1), a PIVOT or UNPIVOT (they group by the columns not named), a NATURAL join (it joins
  /// on the common names), or a tree too deep to look through.
  bool all = false;
  std::vector<std::string> names;       ///< every part of every column reference, USING columns
  std::vector<std::string> last_parts;  ///< the last part of every column reference
};

/// The columns `statement` (json_serialize_sql's statements[i], before any rewrite) names, in
/// lower case, sorted.
ReachableColumns FindReachableColumns(const nlohmann::json& statement);

/// The entries of a secured SELECT's list (`node`) the statement can reach: those whose name is
/// in `reachable.names`, in list order. All of them when `reachable.all`, when the reference
/// renames columns by position (`c(a, b)`), when a column reference's last part is the
/// reference's alias (the whole row, `SELECT c FROM t c`), or when the node is not a plain
/// SELECT list (DISTINCT, GROUP BY). At least one, so the row count is unchanged. `ref` is the
/// reference being replaced, its alias set.
std::vector<size_t> ReachableEntries(const nlohmann::json& node,
                                     const ReachableColumns& reachable,
                                     const nlohmann::json& ref);

/// One secured relation's derived table in a statement being guarded.
struct SecuredSplice {
  /// The table name the walker leaves in the reference: replaced by the derived table once the
  /// statement is SQL again. Never in the SQL the guard returns.
  std::string placeholder;
  std::shared_ptr<const nlohmann::json> walked;  ///< its SELECT node, walked (shared, cached)
  std::string walked_key;        ///< what `walked` depends on (relation, principal, text)
  std::vector<size_t> entries;   ///< the list entries projected (ReachableEntries)
  /// Predicates the statement's WHERE gives it (predicate_copy.h), ANDed in order to its WHERE.
  nlohmann::json copied = nlohmann::json::array();
  /// The key of its rendered SQL: walked_key and entries. Empty when predicates were copied
  /// (that SQL is the statement's own).
  std::string RenderedKey() const;
};

/// `base_ref` (a BASE_TABLE with its alias set) naming `placeholder` instead of its table: its
/// alias, column aliases and TABLESAMPLE stay where the derived table will be.
nlohmann::json PlaceholderRef(nlohmann::json base_ref, const std::string& placeholder);

/// The SQL of a splice's derived table (without brackets): its walked SELECT with only its
/// entries in the list and its copied predicates ANDed to its WHERE, its inner projection (row
/// filter) keeping only the columns those name, rendered as json_deserialize_sql does.
Result<std::string> RenderSecuredSelect(const SecuredSplice& splice);

/// `sql` (a statement rendered with the placeholders of `splices`) with each placeholder
/// replaced by `(rendered[i])`. Fails closed (kInternal) unless every placeholder occurs in
/// `sql` exactly once and nothing else there looks like one (a user's name or text holding
/// one is never taken for it).
Result<std::string> SpliceSecuredSelects(std::string_view sql,
                                         const std::deque<SecuredSplice>& splices,
                                         const std::vector<std::string>& rendered);

/// A new placeholder for the `index`-th secured relation of a statement: a lower-case name,
/// so DuckDB renders it unquoted; its prefix is random per process.
Result<std::string> SplicePlaceholder(size_t index);

}  // namespace plexus::access
