// File: plexus/common/file.h
//
// Reading a whole file as text, with the failure named for a person.
#pragma once

#include <string>

#include "plexus/common/status.h"

namespace plexus {

/// The file's bytes. kNotFound when it does not exist, kIOError when it is a directory or
/// cannot be read; the message names the path.
Result<std::string> ReadFileText(const std::string& path);

}  // namespace plexus
