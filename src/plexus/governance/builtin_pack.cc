// The built-in policy pack: on by default, each policy switched or tuned in mesh.yaml
// (`governance.policies.<id>`), or the whole pack off (`governance.builtin: false`). Written as
// a policy file and parsed by the same parser as the mesh's own, so it is held to the same
// rules (docs/governance.md lists the policies).
#include <cstdlib>
#include <iostream>

#include "plexus/governance/governance.h"

namespace plexus::governance {

namespace {

constexpr const char* kBuiltinPack = R"yaml(apiVersion: plexus/v1
kind: Policies
policies:
  - id: owner-team
    title: Every product has an owner team with members
    rationale: >-
      Someone answers for a product: its consumers need a team to ask, and access requests
      need owners to decide them.
    severity: block
    parameters:
      min_members:
        description: The fewest members a product's team may have.
        default: 1
        min: 1
        max: 50
    sql: |
      SELECT p.qualified_name AS entity,
             CASE WHEN p.team_name = '' THEN 'no owner team: set team.name and team.members'
                  ELSE 'team ' || p.team_name || ' has ' || coalesce(t.n, 0) ||
                       ' member(s); the mesh asks for at least ' || $min_members END AS message
      FROM products p
      LEFT JOIN (SELECT product_id, count(*) AS n FROM team_members
                 WHERE username <> '' GROUP BY product_id) t ON t.product_id = p.id
      WHERE p.team_name = '' OR coalesce(t.n, 0) < $min_members
  - id: purpose
    title: Every product states its purpose
    rationale: >-
      Consumers choose a product by what it is for; a product without a purpose is not
      discoverable.
    severity: warn
    parameters:
      min_length:
        description: The fewest characters description.purpose may have.
        default: 20
        min: 1
        max: 1000
    sql: |
      SELECT qualified_name AS entity,
             CASE WHEN trim(purpose) = '' THEN 'no purpose: set description.purpose'
                  ELSE 'description.purpose has ' || length(trim(purpose)) ||
                       ' characters; the mesh asks for at least ' || $min_length END AS message
      FROM products
      WHERE length(trim(purpose)) < $min_length
  - id: port-contract
    title: Every output port has a data contract
    rationale: The contract is the promise consumers build on; a port without one promises nothing.
    severity: block
    sql: |
      SELECT qualified_name AS entity,
             CASE WHEN contract_id = '' THEN 'no contract: set contractId to an ODCS contract'
                  ELSE 'contract ' || contract_id || ' is not applied' END AS message
      FROM ports
      WHERE contract_id = '' OR NOT has_contract
  - id: columns-classified
    title: Every column is classified
    rationale: Masks, access rules and retention follow the classification.
    severity: warn
    sql: |
      SELECT qualified_name AS entity,
             'no classification (e.g. public, internal, confidential, pii)' AS message
      FROM columns
      WHERE trim(classification) = ''
  - id: sensitive-masked
    title: Sensitive columns carry a mask rule
    rationale: >-
      Personal and confidential data reach consumers outside the domain masked, by a rule the
      platform applies, never by convention.
    severity: block
    parameters:
      classifications:
        description: The classifications that need a mask (a domain may add to them).
        default: [pii, confidential]
        allowed: [pii, confidential, restricted, sensitive, secret, internal]
    sql: |
      SELECT qualified_name AS entity,
             'classified ' || classification || ' but has no mask: set customProperties mask or a '
             || 'mesh rule in access.masks.' || lower(classification) AS message
      FROM columns
      WHERE list_contains($classifications, lower(classification)) AND mask = ''
  - id: freshness-sla
    title: Every output port declares a freshness or latency SLA
    rationale: >-
      Consumers need to know how fresh the data is meant to be, and the platform measures it.
    severity: warn
    sql: |
      SELECT p.qualified_name AS entity,
             'no latency or freshness SLA in the contract''s slaProperties' AS message
      FROM ports p
      WHERE NOT EXISTS (SELECT 1 FROM sla_properties s
                        WHERE s.product_id = p.product_id AND s.port = p.name
                          AND s.major = p.major AND lower(s.property) IN ('latency', 'freshness'))
  - id: snake-case
    title: Products, ports and columns have snake_case names
    rationale: One naming style across the mesh makes SQL across domains predictable.
    severity: warn
    sql: |
      SELECT qualified_name AS entity, 'product name ' || name || ' is not snake_case' AS message
      FROM products WHERE NOT regexp_full_match(name, '[a-z][a-z0-9]*(_[a-z0-9]+)*')
      UNION ALL
      SELECT qualified_name, 'port name ' || name || ' is not snake_case'
      FROM ports WHERE NOT regexp_full_match(name, '[a-z][a-z0-9]*(_[a-z0-9]+)*')
      UNION ALL
      SELECT qualified_name, 'column name ' || name || ' is not snake_case'
      FROM columns WHERE NOT regexp_full_match(name, '[a-z][a-z0-9]*(_[a-z0-9]+)*')
  - id: no-deprecated-input
    title: No input port reads a deprecated or retired version
    rationale: A deprecated version goes away; products built on it must move before it does.
    severity: warn
    sql: |
      SELECT i.domain || '.' || i.product || '.' || i.name AS entity,
             'reads ' || i.upstream_domain || '.' || i.upstream_product || '.' ||
             i.upstream_port || ' major ' || i.upstream_major || ', which is ' ||
             CASE WHEN lower(i.upstream_status) IN ('deprecated', 'retired')
                    THEN lower(i.upstream_status)
                  WHEN i.upstream_end_of_life <> '' AND i.upstream_end_of_life <= e.today
                    THEN 'past its end of life ' || i.upstream_end_of_life
                  ELSE 'past its end of support ' || i.upstream_end_of_support END AS message
      FROM input_ports i, evaluation e
      WHERE i.upstream_port IS NOT NULL
        AND (lower(i.upstream_status) IN ('deprecated', 'retired')
             OR (i.upstream_end_of_support <> '' AND i.upstream_end_of_support <= e.today)
             OR (i.upstream_end_of_life <> '' AND i.upstream_end_of_life <= e.today))
  - id: semantic-versions
    title: Products, ports and contracts have semantic versions
    rationale: Consumers and the version gate tell breaking from compatible changes by the version.
    severity: block
    sql: |
      WITH versioned (entity, what, version) AS (
        SELECT qualified_name, 'product version ', version FROM products
        UNION ALL SELECT qualified_name, 'port version ', version FROM ports
        UNION ALL SELECT domain || '.' || product, 'contract ' || id || ' version ', version
                  FROM contracts)
      SELECT entity, what || version || ' is not a semantic version (MAJOR.MINOR.PATCH)' AS message
      FROM versioned
      WHERE NOT regexp_full_match(version, '(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)'
                                           || '(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?')
  - id: primary-key-quality
    title: Primary key columns have quality rules
    rationale: >-
      Joins and merges rely on keys; a key nobody checks for duplicates or nulls breaks them
      silently.
    severity: warn
    sql: |
      SELECT c.qualified_name AS entity,
             'primary key column without a quality rule (e.g. duplicateValues, nullValues)'
               AS message
      FROM columns c
      WHERE c.primary_key
        AND NOT EXISTS (SELECT 1 FROM quality_rules q
                        WHERE q.product_id = c.product_id AND q.port = c.port
                          AND q.major = c.major AND q.column_name = c.name)
  - id: cross-domain-grant
    title: No cross-domain input without a grant
    rationale: >-
      A domain reads another domain's restricted or private data only with the owners' consent,
      given as a grant to its service principal.
    severity: warn
    sql: |
      WITH granted (target, principal) AS (
        SELECT target, lower(grantee) FROM grants WHERE active
        UNION ALL
        SELECT g.target, lower(m.principal)
        FROM grants g JOIN group_members m ON lower(m.group_name) = lower(g.grantee)
        WHERE g.active)
      SELECT i.domain || '.' || i.product || '.' || i.name AS entity,
             'reads ' || i.upstream_domain || '.' || i.upstream_product || '.' || i.upstream_port ||
             ' (' || i.upstream_visibility || ') without a grant to svc_' || i.domain ||
             ': plexus access request ' || i.upstream_domain || '.' || i.upstream_product ||
             ' --purpose TEXT --as svc_' || i.domain AS message
      FROM input_ports i
      WHERE i.upstream_domain IS NOT NULL AND i.upstream_domain <> i.domain
        AND i.upstream_visibility <> 'public'
        AND NOT EXISTS (SELECT 1 FROM granted a
                        WHERE a.principal = 'svc_' || i.domain
                          AND a.target = i.upstream_domain || '.' || i.upstream_product)
        AND NOT EXISTS (SELECT 1 FROM granted a
                        WHERE a.principal = 'svc_' || i.domain
                          AND a.target = i.upstream_domain || '.' || i.upstream_product || '.' ||
                                         i.upstream_port)
)yaml";

}  // namespace

const std::vector<spec::Policy>& BuiltinPolicies() {
  static const std::vector<spec::Policy> kPolicies = [] {
    std::vector<spec::Diagnostic> problems;
    auto file = spec::ParsePolicyText(kBuiltinPack, "built-in policy pack", "global", &problems);
    if (!file.ok()) {  // a defect of the program, caught by governance_test
      for (const auto& p : problems) std::cerr << p.ToString() << "\n";
      std::abort();
    }
    std::vector<spec::Policy> policies = std::move(file->policies);
    for (auto& policy : policies) policy.builtin = true;
    return policies;
  }();
  return kPolicies;
}

}  // namespace plexus::governance
