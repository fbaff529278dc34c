// File: plexus/server/http_client_internal.h
//
// What the client halves (http_client.cc, http_client_cdc.cc) share: the Status an error
// answer of the server stands for.
#pragma once

#include <string>

#include "plexus/common/status.h"

namespace plexus::server::internal {

/// The Status of an error answer: its code (by the API's name, http_internal.h) and message;
/// without one, by the HTTP status (404 kNotFound, 409 kFailedPrecondition, other 4xx
/// kInvalidArgument, else kInternal).
Status StatusOfAnswer(int http_status, const std::string& body);

}  // namespace plexus::server::internal
