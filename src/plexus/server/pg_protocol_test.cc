#include "plexus/server/pg_protocol.h"

#include <gtest/gtest.h>

namespace plexus::server::pg {
namespace {

std::string Int32Bytes(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  return {static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff),
          static_cast<char>((u >> 8) & 0xff), static_cast<char>(u & 0xff)};
}

std::string Startup(const std::string& params) {
  std::string body = Int32Bytes(kProtocol30) + params + std::string(1, '\0');
  return Int32Bytes(static_cast<int32_t>(body.size() + 4)) + body;
}

std::string Typed(char type, const std::string& body) {
  return std::string(1, type) + Int32Bytes(static_cast<int32_t>(body.size() + 4)) + body;
}

TEST(PgProtocol, ReadsAStartupPacketInPieces) {
  std::string packet = Startup(std::string("user\0alice\0database\0plexus\0", 27));
  std::string buffer = packet.substr(0, 10);
  auto first = ReadStartupPacket(buffer, {});
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());  // incomplete: wait for more
  buffer += packet.substr(10) + "Q";
  auto startup = ReadStartupPacket(buffer, {});
  ASSERT_TRUE(startup.ok()) << startup.status().ToString();
  ASSERT_TRUE(startup->has_value());
  EXPECT_EQ((*startup)->kind, StartupPacket::Kind::kStartup);
  EXPECT_EQ((*startup)->Parameter("user"), "alice");
  EXPECT_EQ((*startup)->Parameter("database"), "plexus");
  EXPECT_EQ((*startup)->Parameter("missing"), "");
  EXPECT_EQ(buffer, "Q");  // the next bytes stay
}

TEST(PgProtocol, ReadsSslGssAndCancelRequests) {
  std::string ssl = Int32Bytes(8) + Int32Bytes(kSslRequestCode);
  EXPECT_EQ((*ReadStartupPacket(ssl, {}))->kind, StartupPacket::Kind::kSslRequest);
  std::string gss = Int32Bytes(8) + Int32Bytes(kGssEncRequestCode);
  EXPECT_EQ((*ReadStartupPacket(gss, {}))->kind, StartupPacket::Kind::kGssEncRequest);
  std::string cancel = Int32Bytes(16) + Int32Bytes(kCancelRequestCode) + Int32Bytes(42) +
                       Int32Bytes(-7);
  auto packet = ReadStartupPacket(cancel, {});
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ((*packet)->kind, StartupPacket::Kind::kCancel);
  EXPECT_EQ((*packet)->cancel_pid, 42);
  EXPECT_EQ((*packet)->cancel_secret, -7);
}

TEST(PgProtocol, RefusesBadStartupPackets) {
  std::string tiny = Int32Bytes(3) + "abcd";
  EXPECT_FALSE(ReadStartupPacket(tiny, {}).ok());
  std::string huge = Int32Bytes(1 << 30);
  auto status = ReadStartupPacket(huge, {});
  ASSERT_FALSE(status.ok());  // refused on the length alone, before any body arrives
  EXPECT_NE(status.status().message().find("invalid length"), std::string::npos);
  std::string v2 = Int32Bytes(8) + Int32Bytes(2 << 16);
  EXPECT_NE(ReadStartupPacket(v2, {}).status().message().find("unsupported frontend protocol"),
            std::string::npos);
  std::string unterminated = Int32Bytes(13) + Int32Bytes(kProtocol30) + "user\0";
  unterminated.resize(13);
  unterminated[12] = 'x';
  EXPECT_FALSE(ReadStartupPacket(unterminated, {}).ok());
  std::string bad_cancel = Int32Bytes(12) + Int32Bytes(kCancelRequestCode) + Int32Bytes(1);
  EXPECT_FALSE(ReadStartupPacket(bad_cancel, {}).ok());
}

TEST(PgProtocol, ReadsTypedMessagesAndChecksLengths) {
  std::string buffer = Typed('Q', std::string("SELECT 1\0", 9)) + Typed('S', "");
  auto query = ReadMessage(buffer, 1024);
  ASSERT_TRUE(query.ok() && query->has_value());
  EXPECT_EQ((*query)->type, 'Q');
  BodyReader body((*query)->body);
  EXPECT_EQ(*body.CString(), "SELECT 1");
  EXPECT_TRUE(body.ExpectEnd().ok());
  auto sync = ReadMessage(buffer, 1024);
  ASSERT_TRUE(sync.ok() && sync->has_value());
  EXPECT_EQ((*sync)->type, 'S');
  EXPECT_TRUE(buffer.empty());

  std::string partial = Typed('Q', "SELECT 42").substr(0, 7);
  auto incomplete = ReadMessage(partial, 1024);
  ASSERT_TRUE(incomplete.ok());
  EXPECT_FALSE(incomplete->has_value());

  std::string oversized = "Q" + Int32Bytes(2000);
  auto too_big = ReadMessage(oversized, 1024);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("too large"), std::string::npos);
  std::string negative = "Q" + Int32Bytes(-5);
  EXPECT_FALSE(ReadMessage(negative, 1024).ok());
}

TEST(PgProtocol, BodyReaderNeverReadsPastTheEnd) {
  BodyReader body(std::string_view("\x00\x01\x41", 3));
  EXPECT_EQ(*body.Int16(), 1);
  EXPECT_FALSE(body.Int32().ok());
  EXPECT_FALSE(body.CString().ok());  // no NUL before the end
  EXPECT_FALSE(body.Bytes(5).ok());
  EXPECT_EQ(*body.Byte(), 0x41);
  EXPECT_FALSE(body.Byte().ok());
  BodyReader trailing(std::string_view("ab", 2));
  EXPECT_FALSE(trailing.ExpectEnd().ok());
}

TEST(PgProtocol, WritesBackendMessages) {
  BackendWriter out;
  out.ReadyForQuery('I');
  EXPECT_EQ(out.buffer(), std::string("Z\0\0\0\x05I", 6));
  out.Clear();
  out.CommandComplete("SELECT 3");
  EXPECT_EQ(out.buffer(), Typed('C', std::string("SELECT 3\0", 9)));
  out.Clear();
  out.BeginDataRow(2);
  out.DataValue("ab");
  out.DataNull();
  out.End();
  EXPECT_EQ(out.buffer(), Typed('D', std::string("\0\x02", 2) + Int32Bytes(2) + "ab" +
                                         Int32Bytes(-1)));
  out.Clear();
  out.ErrorResponse({"ERROR", "42501", "no", "", "try"});
  EXPECT_EQ(out.buffer(), Typed('E', std::string("SERROR\0VERROR\0C42501\0Mno\0Htry\0\0", 31)));
  out.Clear();
  out.AuthenticationSasl({"SCRAM-SHA-256"});
  EXPECT_EQ(out.buffer(), Typed('R', Int32Bytes(10) + std::string("SCRAM-SHA-256\0\0", 15)));
  out.Clear();
  out.RowDescription({FieldDescription{"n", 0, 0, 23, 4, -1, 0}});
  std::string field = std::string("n\0", 2) + Int32Bytes(0) + std::string("\0\0", 2) +
                      Int32Bytes(23) + std::string("\0\x04", 2) + Int32Bytes(-1) +
                      std::string("\0\0", 2);
  EXPECT_EQ(out.buffer(), Typed('T', std::string("\0\x01", 2) + field));
  out.Clear();
  out.CopyOutResponse(2);
  EXPECT_EQ(out.buffer(), Typed('H', std::string("\0\0\x02\0\0\0\0", 7)));
}

}  // namespace
}  // namespace plexus::server::pg
