// File: tools/jaffle_generator.h
//
// Writes the raw seed files of the Jaffle Shop example mesh (examples/jaffle-mesh): the files the
// source products' pipelines read, in the raw shape and column names of an upstream system.
//
//   <mesh_dir>/domains/customers/customers/data/customers.csv   id, first_name, last_name,
//                                                               email, country, signup_date
//   <mesh_dir>/domains/orders/orders/data/orders.ndjson         id, user_id, order_date, status
//   <mesh_dir>/domains/payments/payments/data/payments.json     id, order_id, payment_method,
//                                                               amount (cents); a JSON array
//   <mesh_dir>/domains/orders/shipments/changes/0001-snapshot.ndjson   the warehouse system's
//   <mesh_dir>/domains/orders/shipments/changes/0002-stream.ndjson     shipments as Debezium
//                                                               change events: a snapshot
//                                                               (op r), then c/u/d after it
//
//   PLEXUS_RETURN_IF_ERROR(tools::GenerateJaffleSeeds({.mesh_dir = "examples/jaffle-mesh"}));
//
// Every value is a hash of (seed, row number, column), computed by DuckDB over range(), so the
// same options give byte-identical files with the same DuckDB version, and ten million orders
// take seconds. The data always holds the edge cases a pipeline must handle: the last tenth of
// the customers never order, the last order is 'placed' and has no payment, about 3% of the
// other orders have no payment and some have 2 or 3, and some orders are returned or
// return_pending. Thread safety: none needed; each call opens its own in-memory database.
#pragma once

#include <cstdint>
#include <string>

#include "plexus/common/status.h"

namespace plexus::tools {

/// What to generate. customers >= 1, orders >= 0; payments follow from the orders
/// (about 1.15 per order).
struct JaffleOptions {
  std::string mesh_dir;  ///< the mesh folder (holding mesh.yaml); data folders are created
  int64_t customers = 100;
  int64_t orders = 600;
  uint64_t seed = 42;
};

/// Writes (replacing) the five seed files below options.mesh_dir. InvalidArgument for bad
/// options, IOError when a folder or file cannot be written.
Status GenerateJaffleSeeds(const JaffleOptions& options);

}  // namespace plexus::tools
