// File: plexus/catalog/access_records.h
//
// What the catalog stores for the access layer: principals (users and service principals),
// groups and attributes, domain roles, API tokens (hashes only), SCRAM-SHA-256 password
// verifiers, access requests, grants, and the hash-chained audit trail. The decisions (who may
// read what, who may approve) are the access module's; the catalog stores and audits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace plexus::catalog {

/// A user or a service principal. Each domain's pipelines run as its service principal
/// (ServicePrincipalName), created by Apply.
struct PrincipalRecord {
  std::string name;  ///< unique, case-insensitive; [A-Za-z0-9_.@-]{1,63}
  std::string kind;  ///< user or service
  bool admin = false;     ///< mesh admin
  bool disabled = false;  ///< a disabled principal cannot sign in and reads nothing
  std::map<std::string, std::string> attributes;  ///< e.g. region -> EU (row filters)
  std::vector<std::string> groups;                ///< sorted group names
  std::map<std::string, std::string> domain_roles;  ///< domain -> owner, member or service
  std::string created_at;
  std::string created_by;
};

/// The service principal a domain's pipelines run as: "svc_<domain>".
std::string ServicePrincipalName(const std::string& domain);

struct TokenRecord {
  std::string id;  ///< public part of the token (shown in lists; the secret never is)
  std::string principal;
  std::string label;
  std::string created_at;
  std::string expires_at;    ///< empty: never
  std::string revoked_at;    ///< empty: not revoked
  std::string last_used_at;  ///< empty: never used
};

/// An access request: a principal asks to read a product (domain.product: all its ports) or
/// one port (domain.product.port), for a purpose, optionally until a date.
struct AccessRequestRecord {
  int64_t id = 0;
  std::string principal;
  std::string target;   ///< domain.product or domain.product.port (lower case)
  std::string purpose;  ///< required
  std::string expires_at;  ///< requested expiry of the grant; empty: none
  std::string status;      ///< pending, approved, denied, withdrawn
  std::string created_at;
  std::string decided_by;
  std::string decided_at;
  std::string reason;  ///< the decider's note
  int64_t grant_id = 0;  ///< the grant an approval created
};

/// Permission to read a target, for a principal or a group.
struct GrantRecord {
  int64_t id = 0;
  std::string grantee;       ///< principal or group name
  std::string grantee_kind;  ///< principal or group
  std::string target;        ///< domain.product or domain.product.port (lower case)
  std::string purpose;
  std::string expires_at;  ///< empty: never
  std::string granted_by;
  std::string granted_at;
  int64_t request_id = 0;  ///< 0: granted directly
  std::string revoked_at;  ///< empty: not revoked
  std::string revoked_by;

  /// Not revoked and not expired at `now` (ISO 8601, compared as text).
  bool ActiveAt(const std::string& now) const {
    return revoked_at.empty() && (expires_at.empty() || now < expires_at);
  }
};

/// One audit record. Append-only: each record's hash covers its fields and the previous
/// record's hash, so editing, deleting or reordering any record breaks the chain.
struct AuditRecord {
  int64_t seq = 0;
  std::string at;         ///< ISO 8601 UTC with milliseconds
  std::string principal;  ///< who; "-" when unknown (a failed sign-in)
  std::string action;     ///< query, query.done, apply, grant.create, request.approve, ...
  std::string object;     ///< what: the SQL text, the target, the principal changed...
  std::vector<std::string> products;  ///< products (domain.product) touched
  std::string decision;   ///< allow, deny or error
  int64_t rows = -1;      ///< rows returned; -1: not applicable
  std::string detail;     ///< the reason of a refusal, the door (cli, http, pipeline)...
  std::string prev_hash;
  std::string hash;
};

struct AuditFilter {
  std::string principal;  ///< empty: any
  std::string action;     ///< prefix, e.g. "grant." or "query"; empty: any
  std::string product;    ///< domain.product; empty: any
  std::string decision;   ///< empty: any
  std::string since;      ///< ISO 8601 lower bound (inclusive); empty: none
  std::string until;      ///< upper bound (exclusive); empty: none
  std::string text;       ///< substring of object or detail; empty: any
  int64_t before_seq = 0; ///< only records with seq below this (a page's keyset cursor); 0: none
  int limit = 100;        ///< newest first
};

struct AuditVerification {
  int64_t records = 0;     ///< records checked
  bool ok = true;
  int64_t first_bad_seq = 0;  ///< the first record whose hash or link does not match
  std::string message;        ///< what is wrong, e.g. "record 12: hash does not match its fields"
};

}  // namespace plexus::catalog
