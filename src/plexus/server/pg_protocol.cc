#include "plexus/server/pg_protocol.h"

#include <cstring>

namespace plexus::server::pg {
namespace {

int32_t ReadInt32At(std::string_view bytes, size_t pos) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos + i])); };
  return static_cast<int32_t>((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3));
}

Status Violation(std::string message) { return InvalidArgument(std::move(message)); }

Result<std::vector<std::pair<std::string, std::string>>> ReadStartupParameters(
    std::string_view body) {
  std::vector<std::pair<std::string, std::string>> parameters;
  BodyReader reader(body);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(std::string name, reader.CString());
    if (name.empty()) break;
    PLEXUS_ASSIGN_OR_RETURN(std::string value, reader.CString());
    parameters.emplace_back(std::move(name), std::move(value));
  }
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  return parameters;
}

}  // namespace

std::string StartupPacket::Parameter(std::string_view name) const {
  for (const auto& [key, value] : parameters) {
    if (key == name) return value;
  }
  return "";
}

Result<std::optional<StartupPacket>> ReadStartupPacket(std::string& buffer,
                                                       const MessageLimits& limits) {
  if (buffer.size() < 4) return std::optional<StartupPacket>();
  int32_t length = ReadInt32At(buffer, 0);
  if (length < 8 || static_cast<size_t>(length) > limits.max_startup) {
    return Violation("invalid length of startup packet: " + std::to_string(length));
  }
  if (buffer.size() < static_cast<size_t>(length)) return std::optional<StartupPacket>();
  std::string_view packet(buffer.data(), static_cast<size_t>(length));
  StartupPacket startup;
  startup.version = ReadInt32At(packet, 4);
  Status status;
  switch (startup.version) {
    case kSslRequestCode:
      startup.kind = StartupPacket::Kind::kSslRequest;
      if (length != 8) status = Violation("invalid length of SSLRequest");
      break;
    case kGssEncRequestCode:
      startup.kind = StartupPacket::Kind::kGssEncRequest;
      if (length != 8) status = Violation("invalid length of GSSENCRequest");
      break;
    case kCancelRequestCode:
      startup.kind = StartupPacket::Kind::kCancel;
      if (length != 16) {
        status = Violation("invalid length of CancelRequest");
      } else {
        startup.cancel_pid = ReadInt32At(packet, 8);
        startup.cancel_secret = ReadInt32At(packet, 12);
      }
      break;
    default: {
      if ((startup.version >> 16) != 3) {
        status = Violation("unsupported frontend protocol " +
                           std::to_string(startup.version >> 16) + "." +
                           std::to_string(startup.version & 0xffff) +
                           ": the server supports 3.0");
        break;
      }
      auto parameters = ReadStartupParameters(packet.substr(8));
      if (!parameters.ok()) {
        status = Violation("malformed startup packet: " + parameters.status().message());
      } else {
        startup.parameters = std::move(parameters).value();
      }
    }
  }
  PLEXUS_RETURN_IF_ERROR(status);
  buffer.erase(0, static_cast<size_t>(length));
  return std::optional<StartupPacket>(std::move(startup));
}

size_t MaxMessageSize(char type, const MessageLimits& limits) {
  switch (type) {
    case 'p': return limits.max_auth_message;  // password, SASL
    case 'Q': case 'P': case 'B': case 'd': return limits.max_message;
    default: return 64 * 1024;  // Describe, Execute, Close, Sync, Flush, Terminate, ...
  }
}

Result<std::optional<Message>> ReadMessage(std::string& buffer, size_t max_size) {
  if (buffer.size() < 5) return std::optional<Message>();
  char type = buffer[0];
  int32_t length = ReadInt32At(buffer, 1);
  if (length < 4) {
    return Violation("invalid message length " + std::to_string(length) + " (type '" +
                     std::string(1, type) + "')");
  }
  if (static_cast<size_t>(length) > max_size) {
    return Violation("message of type '" + std::string(1, type) + "' is too large: " +
                     std::to_string(length) + " bytes (limit " + std::to_string(max_size) + ")");
  }
  size_t total = 1 + static_cast<size_t>(length);
  if (buffer.size() < total) return std::optional<Message>();
  Message message;
  message.type = type;
  message.body.assign(buffer, 5, total - 5);
  buffer.erase(0, total);
  return std::optional<Message>(std::move(message));
}

// ---- BodyReader ----------------------------------------------------------------------------

Status BodyReader::Need(size_t n) const {
  if (remaining() < n) return Violation("message is truncated");
  return Status::OK();
}

Result<int16_t> BodyReader::Int16() {
  PLEXUS_RETURN_IF_ERROR(Need(2));
  auto hi = static_cast<uint8_t>(body_[pos_]);
  auto lo = static_cast<uint8_t>(body_[pos_ + 1]);
  pos_ += 2;
  return static_cast<int16_t>((hi << 8) | lo);
}

Result<int32_t> BodyReader::Int32() {
  PLEXUS_RETURN_IF_ERROR(Need(4));
  int32_t v = ReadInt32At(body_, pos_);
  pos_ += 4;
  return v;
}

Result<uint8_t> BodyReader::Byte() {
  PLEXUS_RETURN_IF_ERROR(Need(1));
  return static_cast<uint8_t>(body_[pos_++]);
}

Result<std::string> BodyReader::CString() {
  size_t end = body_.find('\0', pos_);
  if (end == std::string_view::npos) return Violation("message is truncated (unterminated string)");
  std::string s(body_.substr(pos_, end - pos_));
  pos_ = end + 1;
  return s;
}

Result<std::string_view> BodyReader::Bytes(size_t n) {
  PLEXUS_RETURN_IF_ERROR(Need(n));
  std::string_view s = body_.substr(pos_, n);
  pos_ += n;
  return s;
}

std::string_view BodyReader::Rest() {
  std::string_view s = body_.substr(pos_);
  pos_ = body_.size();
  return s;
}

Status BodyReader::ExpectEnd() const {
  if (remaining() != 0) return Violation("message has " + std::to_string(remaining()) +
                                         " unexpected trailing bytes");
  return Status::OK();
}

// ---- BackendWriter -------------------------------------------------------------------------

void BackendWriter::Begin(char type) {
  buffer_.push_back(type);
  message_start_ = buffer_.size();
  buffer_.append(4, '\0');
}

void BackendWriter::Int16(int16_t v) {
  auto u = static_cast<uint16_t>(v);
  buffer_.push_back(static_cast<char>(u >> 8));
  buffer_.push_back(static_cast<char>(u & 0xff));
}

void BackendWriter::Int32(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  char bytes[4] = {static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff),
                   static_cast<char>((u >> 8) & 0xff), static_cast<char>(u & 0xff)};
  buffer_.append(bytes, 4);
}

void BackendWriter::Byte(uint8_t v) { buffer_.push_back(static_cast<char>(v)); }

void BackendWriter::CString(std::string_view s) {
  // A NUL inside would end the string early on the client: cut it there.
  buffer_.append(s.substr(0, s.find('\0')));
  buffer_.push_back('\0');
}

void BackendWriter::Bytes(std::string_view s) { buffer_.append(s); }

void BackendWriter::End() {
  auto length = static_cast<uint32_t>(buffer_.size() - message_start_);
  buffer_[message_start_] = static_cast<char>(length >> 24);
  buffer_[message_start_ + 1] = static_cast<char>((length >> 16) & 0xff);
  buffer_[message_start_ + 2] = static_cast<char>((length >> 8) & 0xff);
  buffer_[message_start_ + 3] = static_cast<char>(length & 0xff);
}

void BackendWriter::AuthenticationOk() {
  Begin('R');
  Int32(0);
  End();
}

void BackendWriter::AuthenticationCleartextPassword() {
  Begin('R');
  Int32(3);
  End();
}

void BackendWriter::AuthenticationSasl(const std::vector<std::string>& mechanisms) {
  Begin('R');
  Int32(10);
  for (const auto& m : mechanisms) CString(m);
  Byte(0);
  End();
}

void BackendWriter::AuthenticationSaslContinue(std::string_view data) {
  Begin('R');
  Int32(11);
  Bytes(data);
  End();
}

void BackendWriter::AuthenticationSaslFinal(std::string_view data) {
  Begin('R');
  Int32(12);
  Bytes(data);
  End();
}

void BackendWriter::ParameterStatus(std::string_view name, std::string_view value) {
  Begin('S');
  CString(name);
  CString(value);
  End();
}

void BackendWriter::BackendKeyData(int32_t pid, int32_t secret) {
  Begin('K');
  Int32(pid);
  Int32(secret);
  End();
}

void BackendWriter::ReadyForQuery(char status) {
  Begin('Z');
  Byte(static_cast<uint8_t>(status));
  End();
}

void BackendWriter::RowDescription(const std::vector<FieldDescription>& fields) {
  Begin('T');
  Int16(static_cast<int16_t>(fields.size()));
  for (const auto& f : fields) {
    CString(f.name);
    Int32(f.table_oid);
    Int16(f.column_number);
    Int32(f.type_oid);
    Int16(f.type_size);
    Int32(f.type_modifier);
    Int16(f.format);
  }
  End();
}

void BackendWriter::BeginDataRow(int16_t columns) {
  Begin('D');
  Int16(columns);
}

void BackendWriter::DataValue(std::string_view value) {
  Int32(static_cast<int32_t>(value.size()));
  buffer_.append(value);
}

void BackendWriter::DataNull() { Int32(-1); }

void BackendWriter::CommandComplete(std::string_view tag) {
  Begin('C');
  CString(tag);
  End();
}

void BackendWriter::EmptyQueryResponse() {
  Begin('I');
  End();
}

void BackendWriter::ErrorOrNotice(char type, const ErrorFields& fields) {
  Begin(type);
  Byte('S');
  CString(fields.severity);
  Byte('V');  // the non-localized severity (PostgreSQL 9.6+)
  CString(fields.severity);
  Byte('C');
  CString(fields.sqlstate);
  Byte('M');
  CString(fields.message);
  if (!fields.detail.empty()) {
    Byte('D');
    CString(fields.detail);
  }
  if (!fields.hint.empty()) {
    Byte('H');
    CString(fields.hint);
  }
  Byte(0);
  End();
}

void BackendWriter::ErrorResponse(const ErrorFields& error) { ErrorOrNotice('E', error); }
void BackendWriter::NoticeResponse(const ErrorFields& notice) { ErrorOrNotice('N', notice); }

#define PLEXUS_PG_EMPTY_MESSAGE(Name, type) \
  void BackendWriter::Name() {              \
    Begin(type);                            \
    End();                                  \
  }
PLEXUS_PG_EMPTY_MESSAGE(ParseComplete, '1')
PLEXUS_PG_EMPTY_MESSAGE(BindComplete, '2')
PLEXUS_PG_EMPTY_MESSAGE(CloseComplete, '3')
PLEXUS_PG_EMPTY_MESSAGE(NoData, 'n')
PLEXUS_PG_EMPTY_MESSAGE(PortalSuspended, 's')
PLEXUS_PG_EMPTY_MESSAGE(CopyDone, 'c')
#undef PLEXUS_PG_EMPTY_MESSAGE

void BackendWriter::ParameterDescription(const std::vector<int32_t>& type_oids) {
  Begin('t');
  Int16(static_cast<int16_t>(type_oids.size()));
  for (int32_t oid : type_oids) Int32(oid);
  End();
}

void BackendWriter::CopyOutResponse(int16_t columns) {
  Begin('H');
  Byte(0);
  Int16(columns);
  for (int16_t i = 0; i < columns; ++i) Int16(0);
  End();
}

void BackendWriter::CopyData(std::string_view data) {
  Begin('d');
  Bytes(data);
  End();
}

void BackendWriter::SingleByte(char answer) { buffer_.push_back(answer); }

}  // namespace plexus::server::pg
