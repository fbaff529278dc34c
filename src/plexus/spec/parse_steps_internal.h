// File: plexus/spec/parse_steps_internal.h
//
// Private to the spec module: the readers of pipeline.yaml's streaming parts (processor steps,
// CDC inputs, schedule, retries) and of the `processors` of domain.yaml and mesh.yaml
// (parse_steps.cc). Each reports its problems with file, line and field through the reader.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec::internal {

/// A YAML value as a StepValue: scalars keep their written text (null: empty text), lists
/// their items, maps their fields in written order (a key that is not text is reported).
StepValue ReadStepValue(YamlReader& reader, const YAML::Node& node, const std::string& path);

/// The list `map.<key>` of steps (`path.<key>[i]`): one-key maps `{<kind>: <value>}` with a
/// built-in kind, or `{use: name, with: {param: value}}`. An unknown kind is reported.
std::vector<ProcessorStep> ReadSteps(YamlReader& reader, const YAML::Node& map,
                                     std::string_view key, const std::string& path);

/// `inputs[i].cdc`: the source and its fields, the fields each source requires, and that no
/// field of another source is set.
CdcSpec ReadCdc(YamlReader& reader, const YAML::Node& node, const std::string& path);

/// `map.options`: a map of texts (reader options of a file input, librdkafka properties of a
/// kafka input); a value that is not text and a duplicate key are reported.
void ReadTextOptions(YamlReader& reader, const YAML::Node& map, const std::string& path,
                     std::map<std::string, std::string>* out);

/// pipeline.yaml `schedule` and `retries` (absent: the defaults).
Schedule ReadSchedule(YamlReader& reader, const YAML::Node& root);
RetryPolicy ReadRetries(YamlReader& reader, const YAML::Node& root);

/// domain.yaml / mesh.yaml `processors: {name: {description, parameters, steps}}`, each of
/// `scope` ("mesh" or the domain's name).
std::vector<ProcessorDefinition> ReadProcessors(YamlReader& reader, const YAML::Node& root,
                                                const std::string& scope);

}  // namespace plexus::spec::internal
