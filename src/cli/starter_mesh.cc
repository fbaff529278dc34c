#include "cli/starter_mesh.h"

namespace plexus::cli {

std::vector<StarterFile> StarterMeshFiles() {
  const std::string product = "domains/sales/daily_revenue/";
  return {
      {"mesh.yaml", R"(apiVersion: plexus/v1
kind: Mesh
name: my-mesh
description: A new data mesh.
policies: []
glossary: glossary.yaml
)"},
      {"glossary.yaml", R"(apiVersion: plexus/v1
kind: Glossary
terms:
  - id: revenue
    name: Revenue
    definition: What customers paid for their orders, before refunds, in EUR.
    owners: [owner]
    synonyms: [sales]
)"},
      {"domains/sales/domain.yaml", R"(apiVersion: plexus/v1
kind: Domain
name: sales
description: What we sell, and for how much.
owners: [owner]
members: [owner]
)"},
      {product + "product.odps.yaml", R"(apiVersion: v1.0.0
kind: DataProduct
id: 7d3c1a52-4e0b-4f7e-9a61-0c2b5d8e9f10
name: daily_revenue
version: 1.0.0
status: active
domain: sales
description:
  purpose: Revenue per day, for finance and planning.
  usage: Query sales.daily_revenue.daily_revenue.
tags: [sales, finance]
outputPorts:
  - name: daily_revenue
    description: One row per day.
    type: tables
    version: 1.0.0
    contractId: 2f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f
team:
  name: Sales data team
  members:
    - username: owner
      role: owner
)"},
      {product + "contracts/daily_revenue.odcs.yaml", R"(apiVersion: v3.1.0
kind: DataContract
id: 2f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f
name: daily_revenue
version: 1.0.0
status: active
domain: sales
dataProduct: daily_revenue
description:
  purpose: Revenue per day.
schema:
  - name: daily_revenue
    physicalType: table
    properties:
      - name: day
        logicalType: date
        physicalType: DATE
        required: true
        primaryKey: true
        description: The calendar day (UTC).
        classification: internal
        quality:
          - name: one row per day
            metric: duplicateValues
            mustBe: 0
      - name: orders
        logicalType: integer
        physicalType: BIGINT
        required: true
        description: Orders placed that day.
        classification: internal
      - name: revenue
        businessName: Revenue
        logicalType: number
        physicalType: DECIMAL(12,2)
        required: true
        description: Sum of order amounts, in EUR.
        classification: internal
slaProperties:
  - property: latency
    value: 1
    unit: d
)"},
      {product + "pipeline.yaml", R"(apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw_sales
    file: data/sales.csv
outputs:
  - port: daily_revenue
    sql: |
      SELECT CAST(sold_at AS DATE) AS day, count(*) AS orders, sum(amount) AS revenue
      FROM raw_sales
      GROUP BY ALL
)"},
      {product + "data/sales.csv", R"(order_id,sold_at,amount
1,2026-01-01 09:12:00,19.90
2,2026-01-01 17:40:00,5.50
3,2026-01-02 11:05:00,42.00
4,2026-01-03 08:30:00,7.25
5,2026-01-03 21:15:00,13.10
)"},
  };
}

}  // namespace plexus::cli
