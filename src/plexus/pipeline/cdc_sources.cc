// MakeChangeSource: a CDC input's source by its kind (files here; postgres and kafka in
// cdc_postgres.cc / cdc_kafka.cc; http inputs have none, their events are pushed).
#include "plexus/pipeline/cdc.h"

namespace plexus::pipeline {

Result<std::unique_ptr<ChangeSource>> MakeChangeSource(const spec::CdcSpec& spec,
                                                       const std::string& product_dir,
                                                       const std::string& default_slot) {
  if (spec.source == "files") return MakeFileSource(spec, product_dir);
  if (spec.source == "postgres") return MakePostgresSource(spec, default_slot);
  if (spec.source == "kafka") return MakeKafkaSource(spec);
  if (spec.source == "http") {
    return InvalidArgument("an http CDC input has no source to read: its events are pushed");
  }
  return InvalidArgument("unknown CDC source '" + spec.source + "'");
}

}  // namespace plexus::pipeline
