// The version gate and lifecycle: contracts diffed against the ones last applied, versions and
// status transitions checked, each port major's contract and end-of-support / end-of-life
// dates recorded; and the column lineage edges impact analysis reads.
#include <algorithm>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"
#include "plexus/spec/parse.h"
#include "plexus/spec/versions.h"

namespace plexus::catalog {

using internal::Transaction;

namespace {

/// What the catalog holds about a port's major.
struct AppliedMajor {
  bool found = false;
  int major = 0;
  std::string version;
  std::string contract_id;
  std::string contract_version;
  std::string contract_status;
  std::string contract_source;
  std::string status;  ///< the major's lifecycle status as served
};

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

}  // namespace

bool VersionReview::ok() const {
  return refusals.empty() && std::all_of(ports.begin(), ports.end(),
                                         [](const auto& p) { return p.refusals.empty(); });
}

std::string VersionReview::RefusalText() const {
  std::vector<std::string> lines = refusals;
  for (const auto& port : ports) {
    for (const auto& refusal : port.refusals) lines.push_back(port.SqlName() + ": " + refusal);
  }
  return Join(lines, "\n");
}

std::string ServedStatus(const OutputPortRecord& port, const std::string& today) {
  return spec::StatusOn(port.status, port.end_of_support, port.end_of_life,
                        today.empty() ? NowUtc() : today);
}

namespace {

/// The port's major `major` (or its newest major when major < 0) as the catalog holds it.
Result<AppliedMajor> ReadAppliedMajor(internal::SqliteDb& db, const std::string& product_id,
                                      const std::string& port, int major) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(
      "SELECT o.major, o.version, o.contract_id, o.contract_version, o.status, "
      "coalesce(v.contract_status, c.status, ''), coalesce(v.contract_source, c.source, ''), "
      "coalesce(v.status, o.status) FROM output_ports o "
      "LEFT JOIN port_versions v ON v.product_id = o.product_id AND v.port = o.name AND "
      "v.major = o.major LEFT JOIN contracts c ON c.id = o.contract_id AND v.port IS NULL "
      "WHERE o.product_id = ?1 AND o.name = ?2 AND (?3 < 0 OR o.major = ?3) "
      "ORDER BY o.major DESC LIMIT 1"));
  stmt->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major});
  AppliedMajor out;
  PLEXUS_ASSIGN_OR_RETURN(out.found, stmt->Step());
  if (!out.found) return out;
  out.major = static_cast<int>(stmt->Int(0));
  out.version = stmt->Text(1);
  out.contract_id = stmt->Text(2);
  out.contract_version = stmt->Text(3);
  out.contract_status = stmt->Text(5);
  out.contract_source = stmt->Text(6);
  out.status = stmt->Text(7);
  return out;
}

/// Compares two versions; 0 when either does not parse.
int CompareVersions(const std::string& a, const std::string& b) {
  auto va = spec::ParseSemVer(a), vb = spec::ParseSemVer(b);
  return va && vb ? spec::CompareSemVer(*va, *vb) : 0;
}

/// The version moves of one port, given its diff.
void CheckVersionMoves(PortVersionReview& r) {
  int old_contract_major = MajorOf(r.old_contract_version);
  int new_contract_major = MajorOf(r.new_contract_version);
  if (r.new_major < r.old_major) {
    r.refusals.push_back("version " + r.new_version + " goes back from major " +
                         std::to_string(r.old_major) + " (applied: " + r.old_version + ")");
    return;
  }
  if (r.new_major == r.old_major && CompareVersions(r.new_version, r.old_version) < 0) {
    r.refusals.push_back("version goes back from " + r.old_version + " to " + r.new_version);
  }
  if (r.diff.breaking()) {
    if (r.new_major == r.old_major) {
      r.refusals.push_back(
          "breaking change without a major version bump (port version " + r.old_version + " -> " +
          r.new_version + ", contract version " + r.old_contract_version + " -> " +
          r.new_contract_version + "): publish it as a new major, port and contract version " +
          std::to_string(r.old_major + 1) + ".0.0, and the old major keeps serving");
    } else if (new_contract_major <= old_contract_major) {
      r.refusals.push_back("the port moves to major " + std::to_string(r.new_major) +
                           " for a breaking change, but its contract version stays at " +
                           r.new_contract_version + ": bump the contract's major too");
    }
    return;
  }
  if (!r.diff.empty() && r.new_version == r.old_version &&
      r.new_contract_version == r.old_contract_version) {
    r.warnings.push_back("the contract changed but the port and contract versions stay " +
                         r.new_version + ": bump the minor or patch version");
  }
}

}  // namespace

Result<VersionReview> Catalog::ReviewVersions(const spec::Mesh& mesh) const {
  std::lock_guard lock(mu_);
  return ReviewVersionsLocked(mesh);
}

Result<VersionReview> Catalog::ReviewVersionsLocked(const spec::Mesh& mesh) const {
  VersionReview review;
  for (const auto& domain : mesh.domains) {
    for (const auto& bundle : domain.products) {
      const spec::Product& p = bundle.product;
      std::string qualified = domain.name + "." + p.name;
      PLEXUS_ASSIGN_OR_RETURN(auto product, db_->Prepare("SELECT status FROM products WHERE id = ?"));
      product->Bind(1, p.id);
      PLEXUS_ASSIGN_OR_RETURN(bool existed, product->Step());
      if (existed) {
        Status moved = spec::CheckStatusTransition(product->Text(0), p.status, "product " + qualified);
        if (!moved.ok()) review.refusals.push_back(moved.message());
      }
      for (const auto& out : p.output_ports) {
        auto contract_it = bundle.contracts.find(out.contract_id);
        if (contract_it == bundle.contracts.end()) continue;
        const spec::Contract& contract = contract_it->second;
        PLEXUS_ASSIGN_OR_RETURN(AppliedMajor old, ReadAppliedMajor(*db_, p.id, out.name, -1));
        if (!old.found) continue;  // a new port: nothing to compare with
        PortVersionReview r;
        r.product = qualified;
        r.product_id = p.id;
        r.port = out.name;
        r.old_version = old.version;
        r.new_version = out.version;
        r.old_contract_version = old.contract_version;
        r.new_contract_version = contract.version;
        r.old_major = old.major;
        r.new_major = MajorOf(out.version);
        auto applied = spec::ParseContractText(old.contract_source, old.contract_id + " (as applied)",
                                               nullptr);
        if (applied.ok()) {
          r.diff = spec::DiffContracts(*applied, contract);
        } else {
          r.warnings.push_back("cannot read the contract as applied, so it is not compared: " +
                               applied.status().message());
        }
        CheckVersionMoves(r);
        if (r.new_major == r.old_major) {
          Status moved = spec::CheckStatusTransition(
              old.contract_status, contract.status,
              "the contract of " + r.SqlName() + " (major " + std::to_string(r.new_major) + ")");
          if (!moved.ok()) r.refusals.push_back(moved.message());
        }
        for (const auto& previous : spec::ReadContractLifecycle(contract.source_text).previous_majors) {
          std::string what = r.SqlName() + "__v" + std::to_string(previous.major);
          if (previous.major >= r.new_major) {
            r.refusals.push_back("customProperties previousMajors names major " +
                                 std::to_string(previous.major) + ", which is not an earlier major");
            continue;
          }
          PLEXUS_ASSIGN_OR_RETURN(AppliedMajor earlier,
                                  ReadAppliedMajor(*db_, p.id, out.name, previous.major));
          if (!earlier.found) {
            r.warnings.push_back("customProperties previousMajors names major " +
                                 std::to_string(previous.major) + ", which was never applied");
            continue;
          }
          Status moved = spec::CheckStatusTransition(earlier.status, previous.status, what);
          if (!moved.ok()) r.refusals.push_back(moved.message());
          if (moved.ok() && !previous.status.empty() && previous.status != earlier.status) {
            r.notes.push_back(what + ": " + earlier.status + " -> " + previous.status);
          }
        }
        review.ports.push_back(std::move(r));
      }
    }
  }
  return review;
}

Status Catalog::RecordVersions(const spec::Mesh& mesh, const std::string& now) {
  for (const auto& domain : mesh.domains) {
    for (const auto& bundle : domain.products) {
      const spec::Product& p = bundle.product;
      bool product_ending = spec::LifecycleRank(p.status) >= spec::LifecycleRank("deprecated");
      for (const auto& out : p.output_ports) {
        auto contract_it = bundle.contracts.find(out.contract_id);
        if (contract_it == bundle.contracts.end()) continue;
        const spec::Contract& contract = contract_it->second;
        int major = MajorOf(out.version);
        spec::ContractLifecycle life = spec::ReadContractLifecycle(contract.source_text);
        std::string status = spec::LaterStatus(contract.status.empty() ? p.status : contract.status,
                                               p.status);
        PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
            "INSERT OR REPLACE INTO port_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        PLEXUS_RETURN_IF_ERROR(put->Bind(1, p.id).Bind(2, out.name).Bind(3, int64_t{major})
                                   .Bind(4, out.version).Bind(5, out.contract_id)
                                   .Bind(6, contract.version).Bind(7, contract.status)
                                   .Bind(8, contract.source_text).Bind(9, status)
                                   .Bind(10, life.end_of_support).Bind(11, life.end_of_life)
                                   .Bind(12, now).Run());
        PLEXUS_ASSIGN_OR_RETURN(auto set, db_->Prepare(
            "UPDATE output_ports SET status = ? WHERE product_id = ? AND name = ? AND major = ?"));
        PLEXUS_RETURN_IF_ERROR(set->Bind(1, status).Bind(2, p.id).Bind(3, out.name)
                                   .Bind(4, int64_t{major}).Run());
        // Earlier majors: what previousMajors says, and a deprecated or retired product.
        for (int earlier = 0; earlier < major; ++earlier) {
          PLEXUS_ASSIGN_OR_RETURN(AppliedMajor old, ReadAppliedMajor(*db_, p.id, out.name, earlier));
          if (!old.found) continue;
          spec::MajorLifecycle next{earlier, old.status, "", ""};
          for (const auto& listed : life.previous_majors) {
            if (listed.major == earlier) next = listed;
          }
          if (next.status.empty()) next.status = old.status;
          if (product_ending) next.status = spec::LaterStatus(next.status, p.status);
          PLEXUS_ASSIGN_OR_RETURN(auto keep, db_->Prepare(
              "INSERT INTO port_versions (product_id, port, major, version, contract_id, "
              "contract_version, contract_status, contract_source, status, applied_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING"));
          PLEXUS_RETURN_IF_ERROR(keep->Bind(1, p.id).Bind(2, out.name).Bind(3, int64_t{earlier})
                                     .Bind(4, old.version).Bind(5, old.contract_id)
                                     .Bind(6, old.contract_version).Bind(7, old.contract_status)
                                     .Bind(8, old.contract_source).Bind(9, old.status)
                                     .Bind(10, now).Run());
          PLEXUS_ASSIGN_OR_RETURN(auto update, db_->Prepare(
              "UPDATE port_versions SET status = ?4, end_of_support = CASE WHEN ?5 = '' THEN "
              "end_of_support ELSE ?5 END, end_of_life = CASE WHEN ?6 = '' THEN end_of_life ELSE "
              "?6 END WHERE product_id = ?1 AND port = ?2 AND major = ?3"));
          PLEXUS_RETURN_IF_ERROR(update->Bind(1, p.id).Bind(2, out.name).Bind(3, int64_t{earlier})
                                     .Bind(4, next.status).Bind(5, next.end_of_support)
                                     .Bind(6, next.end_of_life).Run());
          PLEXUS_ASSIGN_OR_RETURN(auto served, db_->Prepare(
              "UPDATE output_ports SET status = ? WHERE product_id = ? AND name = ? AND major = ?"));
          PLEXUS_RETURN_IF_ERROR(served->Bind(1, next.status).Bind(2, p.id).Bind(3, out.name)
                                     .Bind(4, int64_t{earlier}).Run());
        }
      }
    }
  }
  return Status::OK();
}

Status Catalog::LoadLifecycle(ProductRecord& product) const {
  for (auto& port : product.outputs) {
    PLEXUS_ASSIGN_OR_RETURN(auto s, db_->Prepare(
        "SELECT coalesce(end_of_support, ''), coalesce(end_of_life, '') FROM port_versions "
        "WHERE product_id = ? AND port = ? AND major = ?"));
    s->Bind(1, port.product_id).Bind(2, port.name).Bind(3, int64_t{port.major});
    PLEXUS_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) continue;
    port.end_of_support = s->Text(0);
    port.end_of_life = s->Text(1);
  }
  return Status::OK();
}

Status Catalog::ReplaceColumnLineage(const std::vector<std::string>& products,
                                     const std::vector<ColumnLineageRecord>& edges) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  for (const auto& product : products) {
    PLEXUS_ASSIGN_OR_RETURN(auto clear, db_->Prepare("DELETE FROM column_lineage WHERE downstream = ?"));
    PLEXUS_RETURN_IF_ERROR(clear->Bind(1, product).Run());
  }
  for (const auto& e : edges) {
    PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
        "INSERT INTO column_lineage VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(put->Bind(1, e.downstream).Bind(2, e.downstream_port)
                               .Bind(3, e.downstream_column).Bind(4, e.upstream)
                               .Bind(5, e.upstream_port).Bind(6, e.upstream_column)
                               .Bind(7, e.input).Bind(8, int64_t{e.direct}).Run());
  }
  return tx.Commit();
}

Result<std::vector<ColumnLineageRecord>> Catalog::ListColumnLineage(const std::string& upstream) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT downstream, downstream_port, downstream_column, upstream, upstream_port, "
      "upstream_column, coalesce(input, ''), coalesce(direct, 1) FROM column_lineage "
      "WHERE ?1 = '' OR upstream = ?1 ORDER BY upstream, upstream_port, upstream_column, "
      "downstream, downstream_port, downstream_column"));
  stmt->Bind(1, upstream);
  std::vector<ColumnLineageRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ColumnLineageRecord{stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3),
                                      stmt->Text(4), stmt->Text(5), stmt->Text(6),
                                      stmt->Int(7) != 0});
  }
  return out;
}

}  // namespace plexus::catalog
