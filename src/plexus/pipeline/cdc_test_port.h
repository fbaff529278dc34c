// File: plexus/pipeline/cdc_test_port.h (the CDC tests' fixture, not part of the library)
//
// The output port the CDC applier tests write to: port `orders` of sales.orders, version and
// contract 1.0.0, so its table is plx_sales.main.orders__orders__v1 once the domain's data file
// is attached as plx_sales.
#pragma once

#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/pipeline/cdc_row_steps.h"

namespace plexus::pipeline::internal {

/// The port sales.orders/orders with `columns` (name, DuckDB type, primary key, required).
inline catalog::OutputPortRecord OrdersPort(const std::vector<ChangeColumn>& columns) {
  catalog::OutputPortRecord port;
  port.domain = "sales";
  port.product = "orders";
  port.name = "orders";
  port.major = 1;
  port.version = port.contract_version = "1.0.0";
  for (const auto& c : columns) {
    catalog::ColumnRecord r;
    r.name = c.name;
    r.engine_type = c.type;
    r.primary_key = c.key;
    r.required = c.required;
    port.columns.push_back(r);
  }
  return port;
}

}  // namespace plexus::pipeline::internal
