#include "plexus/access/access_policy.h"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "plexus/access/masks.h"
#include "plexus/common/text.h"

namespace plexus::access {
namespace {

/// "orders__v2" -> ("orders", 2); "orders" -> ("orders", -1).
std::pair<std::string, int> SplitMajor(const std::string& table) {
  size_t at = table.rfind("__v");
  if (at == std::string::npos || at + 3 >= table.size()) return {table, -1};
  int major = 0;
  for (size_t i = at + 3; i < table.size(); i++) {
    if (!std::isdigit(static_cast<unsigned char>(table[i]))) return {table, -1};
    major = major * 10 + (table[i] - '0');
  }
  return {table.substr(0, at), major};
}

/// "orders.orders.orders__v1 is deprecated (end of life 2026-12-31): move to
/// orders.orders.orders (major 2)".
std::string DeprecationWarning(const catalog::OutputPortRecord& port,
                               const catalog::OutputPortRecord& newest) {
  std::string text = port.SqlName() + "__v" + std::to_string(port.major) + " is deprecated";
  if (!port.end_of_life.empty()) text += " (end of life " + port.end_of_life + ")";
  else if (!port.end_of_support.empty()) text += " (end of support " + port.end_of_support + ")";
  if (newest.major > port.major) {
    text += ": move to " + newest.SqlName() + " (major " + std::to_string(newest.major) + ")";
  }
  return text;
}

Status UnknownPort(const TableName& name) {
  return NotFound("unknown data product port " + name.ToString() + " (see plexus products)");
}

/// One port major, as the column cache and a refresh's publications key it.
std::string PortKey(const std::string& product_id, const std::string& port, int major) {
  return product_id + '\x1f' + port + '\x1f' + std::to_string(major);
}

std::string PortKey(const catalog::OutputPortRecord& port) {
  return PortKey(port.product_id, port.name, port.major);
}

}  // namespace

/// The ports' columns read so far, all of one columns generation: shared by the policies
/// loaded from the same catalog while that generation holds.
struct AccessPolicy::ColumnCache {
  const catalog::Catalog* catalog = nullptr;  ///< null: the columns were given, none is read
  int64_t generation = 0;                     ///< the listing's columns generation
  std::mutex mu;
  /// PortKey -> the port's columns; guarded by mu.
  std::unordered_map<std::string, std::shared_ptr<const std::vector<catalog::ColumnRecord>>>
      by_port;
};

bool Principal::OwnsDomain(const std::string& domain) const {
  auto it = domain_roles.find(domain);
  return it != domain_roles.end() && it->second == "owner";
}

bool Principal::HasAnyRole(const std::vector<std::string>& roles) const {
  for (const auto& role : roles) {
    if (admin && AsciiLower(role) == "admin") return true;
    if (kind == "service" && AsciiLower(role) == "service") return true;
    for (const auto& group : groups) {
      if (AsciiLower(group) == AsciiLower(role)) return true;
    }
  }
  return false;
}

Principal PrincipalFrom(const catalog::PrincipalRecord& record) {
  Principal principal;
  principal.name = record.name;
  principal.kind = record.kind;
  principal.admin = record.admin;
  principal.attributes = record.attributes;
  principal.groups = record.groups;
  std::sort(principal.groups.begin(), principal.groups.end());
  principal.domain_roles = record.domain_roles;
  auto context = std::make_shared<PrincipalContext>();
  context->name = record.name;
  context->attributes = record.attributes;
  context->groups = principal.groups;
  principal.context = std::move(context);
  return principal;
}

bool GrantedTo(const catalog::GrantRecord& grant, const Principal& principal) {
  if (grant.grantee_kind == "group") {
    return std::binary_search(principal.groups.begin(), principal.groups.end(), grant.grantee);
  }
  return AsciiLower(grant.grantee) == AsciiLower(principal.name);
}

Result<Principal> LoadPrincipal(const catalog::Catalog& catalog, const std::string& name) {
  auto record = catalog.GetPrincipal(name);
  if (!record.ok() || record->disabled) return Unauthenticated("unknown principal " + name);
  return PrincipalFrom(*record);
}

Result<Principal> AuthenticateToken(const catalog::Catalog& catalog, const std::string& secret) {
  auto record = catalog.AuthenticateToken(secret);
  if (!record.ok()) return Unauthenticated("invalid or expired token");
  return PrincipalFrom(*record);
}

AccessPolicy::AccessPolicy(std::vector<catalog::OutputPortRecord> ports,
                           std::vector<catalog::GrantRecord> grants, std::string salt,
                           std::map<std::string, std::string> quarantined,
                           std::shared_ptr<ColumnCache> columns)
    : salt_(std::move(salt)), quarantined_(std::move(quarantined)), columns_(std::move(columns)) {
  PortMap by_name;
  for (auto& port : ports) {
    if (columns_->catalog == nullptr) {  // given with their columns: those are the cache
      columns_->by_port[PortKey(port)] =
          std::make_shared<const std::vector<catalog::ColumnRecord>>(std::move(port.columns));
      port.columns.clear();
    }
    by_name[AsciiLower(port.SqlName())].push_back(std::move(port));
  }
  for (auto& [name, majors] : by_name) {
    std::sort(majors.begin(), majors.end(),
              [](const auto& a, const auto& b) { return a.major > b.major; });
  }
  ports_ = std::make_shared<const PortMap>(std::move(by_name));
  for (auto& grant : grants) grants_[grant.target].push_back(std::move(grant));
}

AccessPolicy::AccessPolicy(std::vector<catalog::OutputPortRecord> ports,
                           std::vector<catalog::GrantRecord> grants, std::string salt,
                           std::map<std::string, std::string> quarantined)
    : AccessPolicy(std::move(ports), std::move(grants), std::move(salt), std::move(quarantined),
                   std::make_shared<ColumnCache>()) {}

namespace {
/// Orders publications and ports alike: by product id, port name, major.
struct ByPort {
  static auto Key(const catalog::PortPublication& p) {
    return std::tie(p.product_id, p.port, p.major);
  }
  static auto Key(const catalog::OutputPortRecord& p) {
    return std::tie(p.product_id, p.name, p.major);
  }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return Key(a) < Key(b);
  }
};
}  // namespace

AccessPolicy::AccessPolicy(const AccessPolicy& previous,
                           catalog::PublicationListing publications)
    : ports_(previous.ports_),
      grants_(previous.grants_),
      salt_(previous.salt_),
      quarantined_(previous.quarantined_),
      columns_(previous.columns_),
      access_generation_(previous.access_generation_) {
  auto& sorted = publications.publications;  // by SQLite's byte order, std::string's too
  if (!std::is_sorted(sorted.begin(), sorted.end(), ByPort())) {
    std::sort(sorted.begin(), sorted.end(), ByPort());
  }
  publications_ = std::make_shared<const std::vector<catalog::PortPublication>>(
      std::move(publications.publications));
}

int64_t AccessPolicy::PublishedRows(const catalog::OutputPortRecord& port) const {
  if (publications_ == nullptr) return port.rows;
  auto at = std::lower_bound(publications_->begin(), publications_->end(), port, ByPort());
  if (at == publications_->end() || ByPort()(port, *at)) return -1;
  return at->rows;
}

AccessPolicy::~AccessPolicy() = default;

Result<std::shared_ptr<const AccessPolicy>> AccessPolicy::Load(const catalog::Catalog& catalog,
                                                               const AccessPolicy* previous) {
  if (previous != nullptr && previous->columns_->catalog == &catalog) {
    // Only publications changed (a run, a CDC micro-batch): the counters of everything else
    // the policy holds are those of its listing. Any other change reads everything again.
    PLEXUS_ASSIGN_OR_RETURN(auto publications, catalog.ListPublications());
    if (publications.access_generation == previous->access_generation_ &&
        publications.columns_generation == previous->columns_->generation) {
      return std::shared_ptr<const AccessPolicy>(
          new AccessPolicy(*previous, std::move(publications)));
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(catalog::PortListing listing, catalog.ListOutputPortSummaries());
  // Every grant not revoked; expiry is judged per decision, so an expired grant stops at once.
  PLEXUS_ASSIGN_OR_RETURN(auto grants, catalog.ListGrants("", "", ""));
  grants.erase(std::remove_if(grants.begin(), grants.end(),
                              [](const auto& g) { return !g.revoked_at.empty(); }),
               grants.end());
  PLEXUS_ASSIGN_OR_RETURN(std::string salt, catalog.MaskSalt());
  PLEXUS_ASSIGN_OR_RETURN(auto quarantined, catalog.QuarantinedProducts());
  std::shared_ptr<ColumnCache> columns;
  if (previous != nullptr && previous->columns_->catalog == &catalog &&
      previous->columns_->generation == listing.columns_generation) {
    columns = previous->columns_;  // no column changed: what it read still holds
  } else {
    columns = std::make_shared<ColumnCache>();
    columns->catalog = &catalog;
    columns->generation = listing.columns_generation;
  }
  auto policy = std::shared_ptr<AccessPolicy>(
      new AccessPolicy(std::move(listing.ports), std::move(grants), std::move(salt),
                       std::move(quarantined), std::move(columns)));
  // Grants, salt and quarantines were read after the listing: a change in between moved the
  // counter past this value, so the next load reads everything again (never keeps a stale one).
  policy->access_generation_ = listing.access_generation;
  return std::shared_ptr<const AccessPolicy>(std::move(policy));
}

Result<std::shared_ptr<const std::vector<catalog::ColumnRecord>>> AccessPolicy::Columns(
    const catalog::OutputPortRecord& port) const {
  std::string key = PortKey(port);
  {
    std::lock_guard lock(columns_->mu);
    auto it = columns_->by_port.find(key);
    if (it != columns_->by_port.end()) return it->second;
  }
  if (columns_->catalog == nullptr) {
    return Internal("the access policy knows no columns of " + port.SqlName());
  }
  // Read outside the lock: two threads may read the same port at once, and get the same
  // columns (one generation); the first kept wins.
  auto read = columns_->catalog->ReadPortColumns(port.product_id, port.name, port.major);
  if (!read.ok()) {
    return Internal("the columns of " + port.SqlName() + " could not be read from the catalog (" +
                    read.status().message() + ")");
  }
  if (read->columns_generation != columns_->generation) {
    return FailedPrecondition("the columns of " + port.SqlName() +
                              " changed since the access policy was read: run it again");
  }
  auto columns =
      std::make_shared<const std::vector<catalog::ColumnRecord>>(std::move(read->columns));
  std::lock_guard lock(columns_->mu);
  return columns_->by_port.emplace(std::move(key), std::move(columns)).first->second;
}

const std::string* AccessPolicy::Quarantined(const std::string& product) const {
  auto it = quarantined_.find(product);
  return it == quarantined_.end() ? nullptr : &it->second;
}

bool AccessPolicy::HasGrant(const Principal& principal, const catalog::OutputPortRecord& port,
                            const std::string& now, std::string* grant_expiry) const {
  std::string product = AsciiLower(port.domain + "." + port.product);
  std::string port_name = AsciiLower(port.SqlName());
  bool found = false;
  std::string latest_expiry;  // the grant that lasts longest decides how long the answer holds
  for (const std::string* target : {&product, &port_name}) {
    auto on_target = grants_.find(*target);
    if (on_target == grants_.end()) continue;
    for (const auto& grant : on_target->second) {
      if (!grant.ActiveAt(now) || !GrantedTo(grant, principal)) continue;
      if (!found || grant.expires_at.empty() ||
          (!latest_expiry.empty() && grant.expires_at > latest_expiry)) {
        latest_expiry = grant.expires_at;
      }
      found = true;
    }
  }
  if (found && grant_expiry != nullptr) *grant_expiry = latest_expiry;
  return found;
}

PortAccess AccessPolicy::Decide(const Principal& principal, const catalog::OutputPortRecord& port,
                                const std::string& now, std::string* grant_expiry) const {
  if (principal.InDomain(port.domain)) return PortAccess::kClear;
  if (port.visibility == "public") return PortAccess::kSecured;
  if (port.visibility == "restricted") {
    if (principal.admin || HasGrant(principal, port, now, grant_expiry)) {
      return PortAccess::kSecured;
    }
    return PortAccess::kDenied;
  }
  return PortAccess::kHidden;  // private, or a visibility this build does not know
}

bool AccessPolicy::PortVisible(const Principal& principal, const std::string& domain,
                               const std::string& visibility) {
  return principal.InDomain(domain) || visibility == "public" || visibility == "restricted";
}

bool AccessPolicy::CanSee(const Principal& principal, const catalog::ProductRecord& product) {
  if (principal.InDomain(product.domain)) return true;
  for (const auto& port : product.outputs) {
    if (PortVisible(principal, port.domain, port.visibility)) return true;
  }
  return false;
}

Result<catalog::ProductRecord> AccessPolicy::Visible(const Principal& principal,
                                                     catalog::ProductRecord product) {
  if (!CanSee(principal, product)) return NotFound("unknown data product " + product.QualifiedName());
  if (!principal.InDomain(product.domain)) {
    std::erase_if(product.outputs, [&principal](const auto& p) {
      return !PortVisible(principal, p.domain, p.visibility);
    });
  }
  return product;
}

namespace {
// The one decision of whether a principal reads a column masked.
bool Masked(const Principal& principal, const catalog::ColumnRecord& column) {
  return !column.mask.empty() && !principal.HasAnyRole(column.mask_clear_for);
}
}  // namespace

Result<std::vector<PlainColumn>> AccessPolicy::ClearColumnsFor(
    const Principal& principal, const catalog::OutputPortRecord& port) const {
  PLEXUS_ASSIGN_OR_RETURN(auto port_columns, Columns(port));
  std::vector<PlainColumn> clear;
  for (const auto& column : *port_columns) {
    if (!Masked(principal, column)) clear.push_back({column.name, column.engine_type});
  }
  return clear;
}

Result<std::string> AccessPolicy::SecuredSelectFor(const Principal& principal,
                                                   const catalog::OutputPortRecord& port) const {
  PLEXUS_ASSIGN_OR_RETURN(auto port_columns, Columns(port));
  std::vector<ColumnView> columns;
  bool masked = false;
  for (const auto& column : *port_columns) {
    ColumnView view{column.name, column.engine_type, ""};
    if (Masked(principal, column)) {
      view.mask = column.mask;
      masked = true;
    }
    columns.push_back(std::move(view));
  }
  std::string filter =
      port.row_filter.empty() || principal.HasAnyRole(port.row_filter_exempt) ? std::string()
                                                                              : port.row_filter;
  if (!masked && filter.empty()) return std::string();
  if (columns.empty()) return PermissionDenied("port " + port.SqlName() + " has no columns");
  return SecuredSelect(catalog::Home::AttachName(port.domain), "main", port.PhysicalTable(),
                       columns, filter, salt_);
}

PrincipalResolver::PrincipalResolver(std::shared_ptr<const AccessPolicy> policy,
                                     const Principal& principal, std::string now,
                                     std::vector<std::string> only_domains)
    : policy_(std::move(policy)),
      principal_(principal),
      now_(std::move(now)),
      today_(now_.substr(0, 10)),
      only_domains_(std::move(only_domains)) {}

Result<ResolvedRelation> PrincipalResolver::Resolve(const TableName& name) const {
  // Over PostgreSQL a product is a schema: "domain.product".port is domain.product.port.
  size_t dot = name.schema.find('.');
  bool product_schema = name.catalog.empty() && dot != std::string::npos &&
                        dot > 0 && dot + 1 < name.schema.size() &&
                        name.schema.find('.', dot + 1) == std::string::npos;
  if (!product_schema && (name.catalog.empty() || name.schema.empty())) {
    return NotFound("unknown table " + name.ToString() +
                    ": data products are named domain.product.port (see plexus products)");
  }
  std::string domain = product_schema ? name.schema.substr(0, dot) : name.catalog;
  std::string product = product_schema ? name.schema.substr(dot + 1) : name.schema;
  auto [table, major] = SplitMajor(AsciiLower(name.table));
  std::string key = AsciiLower(domain) + "." + AsciiLower(product) + "." + table;
  auto it = policy_->ports().find(key);
  if (it == policy_->ports().end()) return UnknownPort(name);
  const auto& majors = it->second;
  const catalog::OutputPortRecord& newest = majors.front();
  if (!only_domains_.empty() && std::find(only_domains_.begin(), only_domains_.end(),
                                          newest.domain) == only_domains_.end()) {
    return PermissionDenied("a preview reads only the ports of the domains you own: " + key +
                            " is not one of them");
  }
  // Visibility before anything else: a hidden port must read exactly like an unknown name.
  std::string expiry;
  PortAccess access = policy_->Decide(principal_, newest, now_, &expiry);
  if (access == PortAccess::kHidden) return UnknownPort(name);
  if (access == PortAccess::kDenied) {
    return PermissionDenied("permission denied for data product port " + key +
                            ": it is restricted; ask for access with plexus access request " +
                            newest.domain + "." + newest.product + " --purpose TEXT");
  }
  const catalog::OutputPortRecord* chosen = nullptr;
  for (const auto& port : majors) {
    bool retired = catalog::ServedStatus(port, today_) == "retired";
    if (major >= 0 ? port.major == major : !retired) {
      chosen = &port;
      break;
    }
  }
  if (chosen == nullptr) {
    return NotFound(major >= 0 ? "data product port " + key + " has no major version " +
                                     std::to_string(major)
                               : "data product port " + key + " has no version being served");
  }
  if (chosen != &newest) {  // an older major may be shared differently
    access = policy_->Decide(principal_, *chosen, now_, &expiry);
    if (access == PortAccess::kHidden) return UnknownPort(name);
    if (access == PortAccess::kDenied) {
      return PermissionDenied("permission denied for data product port " + name.ToString());
    }
  }
  std::string quarantined = chosen->domain + "." + chosen->product;
  if (const std::string* why = policy_->Quarantined(quarantined);
      why != nullptr && !principal_.admin && !principal_.InDomain(chosen->domain)) {
    return FailedPrecondition(quarantined + " is quarantined by the mesh's governance (" + *why +
                              "); its owners see it in plexus governance report");
  }
  std::string served = AsciiLower(catalog::ServedStatus(*chosen, today_));
  if (served == "retired") {
    return FailedPrecondition(name.ToString() + " is retired and no longer served" +
                              (newest.major > chosen->major
                                   ? ": read " + key + " (major " +
                                         std::to_string(newest.major) + ") instead"
                                   : std::string()));
  }
  if (policy_->PublishedRows(*chosen) < 0) {
    return FailedPrecondition(name.ToString() +
                              " has no published data yet: run its pipeline (plexus run " +
                              chosen->domain + "." + chosen->product + ")");
  }
  ResolvedRelation relation{catalog::Home::AttachName(chosen->domain), "main",
                            chosen->PhysicalTable(), chosen->SqlName(), "", "", nullptr};
  if (served == "deprecated") relation.warning = DeprecationWarning(*chosen, newest);
  if (access == PortAccess::kSecured) {
    PLEXUS_ASSIGN_OR_RETURN(relation.secured_select, policy_->SecuredSelectFor(principal_, *chosen));
    if (!relation.secured_select.empty()) {
      relation.principal = principal_.context;
      PLEXUS_ASSIGN_OR_RETURN(relation.clear_columns,
                              policy_->ClearColumnsFor(principal_, *chosen));
    }
  }
  if (!expiry.empty() && (valid_until_.empty() || expiry < valid_until_)) valid_until_ = expiry;
  return relation;
}

}  // namespace plexus::access
