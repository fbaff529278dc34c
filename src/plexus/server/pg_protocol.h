// File: plexus/server/pg_protocol.h
//
// PostgreSQL frontend/backend protocol 3.0, the framing only: reading the client's startup
// packets and typed messages out of a byte buffer, reading the fields of a message body with
// bounds checks, and writing the backend's messages into a byte buffer. No sockets here: the
// connection (pg_connection.h) feeds bytes in and sends the buffers out.
//
//   std::string in = ...bytes read...;
//   PLEXUS_ASSIGN_OR_RETURN(auto message, pg::ReadMessage(in, limits));  // nullopt: need more
//   pg::BodyReader body(message->body);
//   PLEXUS_ASSIGN_OR_RETURN(std::string sql, body.CString());
//   pg::BackendWriter out;
//   out.CommandComplete("SELECT 1");
//   out.ReadyForQuery('I');
//   ... send out.buffer() ...
//
// Every malformed input is a Status (kInvalidArgument, SQLSTATE 08P01 on the wire), never an
// out-of-bounds read. Thread safety: values, no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plexus/common/status.h"

namespace plexus::server::pg {

constexpr int32_t kProtocol30 = 196608;  ///< 3 << 16
constexpr int32_t kSslRequestCode = 80877103;
constexpr int32_t kGssEncRequestCode = 80877104;
constexpr int32_t kCancelRequestCode = 80877102;

/// SQLSTATE of a protocol violation (malformed, truncated or oversized message).
constexpr std::string_view kProtocolViolation = "08P01";

/// Size limits of what a client may send (bytes, length field included).
struct MessageLimits {
  size_t max_startup = 10 * 1024;          ///< a startup packet
  size_t max_message = 64 * 1024 * 1024;   ///< Query, Parse, Bind (big parameters)
  size_t max_auth_message = 16 * 1024;     ///< password and SASL messages
};

/// The first packet of a connection (it has no type byte).
struct StartupPacket {
  enum class Kind { kStartup, kSslRequest, kGssEncRequest, kCancel };
  Kind kind = Kind::kStartup;
  int32_t version = 0;
  /// user, database, application_name, options, ...: in the order sent.
  std::vector<std::pair<std::string, std::string>> parameters;
  int32_t cancel_pid = 0;  ///< kCancel
  int32_t cancel_secret = 0;

  /// The value of a startup parameter; empty when absent.
  std::string Parameter(std::string_view name) const;
};

/// A typed message: one type byte, then the body (the int32 length is not kept).
struct Message {
  char type = 0;
  std::string body;
};

/// Reads a startup packet from the front of `buffer` and removes its bytes. nullopt: the
/// packet is not complete yet. An error for a length under 8 or over `limits.max_startup`,
/// an unknown protocol version (only 3.0 is served) or malformed parameters.
Result<std::optional<StartupPacket>> ReadStartupPacket(std::string& buffer,
                                                       const MessageLimits& limits);

/// Reads a typed message from the front of `buffer` and removes its bytes. nullopt: not
/// complete yet. An error when its length is under 4 or over `max_size` (checked as soon as
/// the 5-byte header has arrived, before any body is buffered).
Result<std::optional<Message>> ReadMessage(std::string& buffer, size_t max_size);

/// The largest message a client may send of this type, by the limits.
size_t MaxMessageSize(char type, const MessageLimits& limits);

/// Reads the fields of a message body in order, with bounds checks.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : body_(body) {}
  Result<int16_t> Int16();
  Result<int32_t> Int32();
  Result<uint8_t> Byte();
  /// A NUL-terminated string (the NUL is consumed, not returned).
  Result<std::string> CString();
  /// `n` raw bytes.
  Result<std::string_view> Bytes(size_t n);
  /// Everything left.
  std::string_view Rest();
  size_t remaining() const { return body_.size() - pos_; }
  /// An error when bytes are left over (a message longer than its fields).
  Status ExpectEnd() const;

 private:
  Status Need(size_t n) const;
  std::string_view body_;
  size_t pos_ = 0;
};

/// The fields of an ErrorResponse or NoticeResponse.
struct ErrorFields {
  std::string severity = "ERROR";  ///< ERROR, FATAL; WARNING, NOTICE for notices
  std::string sqlstate = "XX000";
  std::string message;
  std::string detail;
  std::string hint;
};

/// One column of a RowDescription.
struct FieldDescription {
  std::string name;
  int32_t table_oid = 0;
  int16_t column_number = 0;
  int32_t type_oid = 25;  ///< text
  int16_t type_size = -1;
  int32_t type_modifier = -1;
  int16_t format = 0;  ///< 0 text, 1 binary
};

/// Writes backend messages one after the other into a byte buffer. A message is written with
/// Begin, the field writers, then End (which fills in the length); the named writers below
/// do all three.
class BackendWriter {
 public:
  /// The bytes written so far.
  const std::string& buffer() const { return buffer_; }
  std::string& buffer() { return buffer_; }
  size_t size() const { return buffer_.size(); }
  void Clear() { buffer_.clear(); }

  void Begin(char type);
  void Int16(int16_t v);
  void Int32(int32_t v);
  void Byte(uint8_t v);
  void CString(std::string_view s);
  void Bytes(std::string_view s);
  void End();

  void AuthenticationOk();
  void AuthenticationCleartextPassword();
  /// AuthenticationSASL offering these mechanisms (e.g. SCRAM-SHA-256).
  void AuthenticationSasl(const std::vector<std::string>& mechanisms);
  void AuthenticationSaslContinue(std::string_view data);
  void AuthenticationSaslFinal(std::string_view data);
  void ParameterStatus(std::string_view name, std::string_view value);
  void BackendKeyData(int32_t pid, int32_t secret);
  /// status: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block.
  void ReadyForQuery(char status);
  void RowDescription(const std::vector<FieldDescription>& fields);
  /// Starts a DataRow of `columns` values; add each with DataValue / DataNull, then End().
  void BeginDataRow(int16_t columns);
  void DataValue(std::string_view value);
  void DataNull();
  void CommandComplete(std::string_view tag);
  void EmptyQueryResponse();
  void ErrorResponse(const ErrorFields& error);
  void NoticeResponse(const ErrorFields& notice);
  void ParseComplete();
  void BindComplete();
  void CloseComplete();
  void NoData();
  void ParameterDescription(const std::vector<int32_t>& type_oids);
  void PortalSuspended();
  /// CopyOutResponse: overall format 0 (text) and every column in text.
  void CopyOutResponse(int16_t columns);
  void CopyData(std::string_view data);
  void CopyDone();
  /// The single byte answering an SSLRequest or GSSENCRequest ('S' or 'N'): not a message.
  void SingleByte(char answer);

 private:
  void ErrorOrNotice(char type, const ErrorFields& fields);
  std::string buffer_;
  size_t message_start_ = 0;
};

}  // namespace plexus::server::pg
