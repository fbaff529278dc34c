// File: plexus/spec/format.h
//
// `plexus fmt`: writes an ODCS contract, an ODPS product or any Plexus YAML file back in one
// canonical form, losing no field. The document's own YAML tree is re-emitted (not the typed
// model), so every field survives, the ones Plexus does not act on included: customProperties,
// authoritativeDefinitions, relationships, servers, team, roles, support, price, slaProperties,
// tags, and keys of objects the standards leave open.
//
//   PLEXUS_ASSIGN_OR_RETURN(std::string text, plexus::spec::FormatFile("orders.odcs.yaml", &problems));
//
// The canonical form: block style, two-space indents, keys in the order the standard lists
// them (keys it does not list keep their order, after the listed ones), text quoted only when
// it would otherwise read as another type, multi-line text as literal blocks. The output reads
// back to the same value (same maps, lists, texts, numbers, booleans and nulls); comments and
// anchors are not kept (aliases are written out in full). Formatting is idempotent.
// Thread safety: free functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/parse.h"

namespace plexus::spec {

/// Which standard a document follows, which decides its key order and its checks.
enum class DocumentKind {
  kContract,  ///< ODCS: `kind: DataContract`, or a `.odcs.yaml` file
  kProduct,   ///< ODPS: `kind: DataProduct`, or a `.odps.yaml` file
  kOther,     ///< anything else (mesh.yaml, domain.yaml, pipeline.yaml): keys keep their order
};

/// The canonical text of `text` (the content of `file`, named in diagnostics). A YAML syntax
/// error, duplicate keys, or a contract / product that does not validate fail with
/// kInvalidArgument and their diagnostics in `problems` (may be null): fmt never rewrites a
/// document whose meaning is in doubt.
Result<std::string> FormatText(std::string_view text, const std::string& file,
                               std::vector<Diagnostic>* problems);

/// Reads `path` and formats it (FormatText). kNotFound / kIOError when it cannot be read.
Result<std::string> FormatFile(const std::string& path, std::vector<Diagnostic>* problems);

/// The kind of a document from its file name and its top-level `kind`.
DocumentKind KindOfDocument(const std::string& file, std::string_view kind_field);

}  // namespace plexus::spec
