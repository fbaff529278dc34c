// POST /api/v1/query: one SELECT through the query service, its result streamed as JSON, CSV,
// NDJSON or an Arrow IPC stream with memory bounded by SinkBuffer, whatever the result's size.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <streambuf>

#include <nlohmann/json.hpp>

#include "plexus/access/access_admin.h"
#include "plexus/access/query_service.h"
#include "plexus/engine/arrow_ipc.h"
#include "plexus/engine/result_writer.h"
#include "plexus/server/http_internal.h"
#include "plexus/server/http_routes.h"

namespace plexus::server::internal {
namespace {

using nlohmann::json;

/// An output buffer of bounded size over cpp-httplib's sink: the result writer writes into it
/// and every full buffer goes to the socket (chunked encoding), so the response holds at most
/// kBytes in memory however many rows come. When the client goes away, `on_broken` runs once
/// (it interrupts the query) and later writes are dropped.
class SinkBuffer : public std::streambuf {
 public:
  static constexpr size_t kBytes = 64 * 1024;
  SinkBuffer(httplib::DataSink& sink, std::function<void()> on_broken)
      : sink_(sink), on_broken_(std::move(on_broken)), buffer_(kBytes) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  bool broken() const { return broken_; }

 protected:
  int_type overflow(int_type c) override {
    if (!Drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    std::streamsize done = 0;
    while (done < n) {
      if (pptr() == epptr() && !Drain()) return done;
      std::streamsize room = std::min<std::streamsize>(epptr() - pptr(), n - done);
      std::copy(data + done, data + done + room, pptr());
      pbump(static_cast<int>(room));
      done += room;
    }
    return done;
  }
  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    size_t size = static_cast<size_t>(pptr() - pbase());
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    if (broken_) return false;
    if (size > 0 && (!sink_.is_writable() || !sink_.write(buffer_.data(), size))) {
      broken_ = true;
      on_broken_();
      return false;
    }
    return true;
  }
  httplib::DataSink& sink_;
  std::function<void()> on_broken_;
  std::vector<char> buffer_;
  bool broken_ = false;
};

/// The SQL, format and previewed principal of a query request: a JSON body {"sql", "format",
/// "as"} or plain SQL text (format and as then from the query string).
Status ParseQueryRequest(const httplib::Request& req, std::string& sql, std::string& format,
                         std::string& as) {
  format = req.has_param("format") ? req.get_param_value("format") : "json";
  as = req.get_param_value("as");
  std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    sql = req.body;
  } else {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("sql") || !body["sql"].is_string()) {
      return InvalidArgument("the body must be a JSON object with a string field \"sql\"");
    }
    sql = body["sql"].get<std::string>();
    if (body.contains("format") && body["format"].is_string()) format = body["format"];
    if (body.contains("as") && body["as"].is_string()) as = body["as"];
  }
  if (sql.empty()) return InvalidArgument("no SQL in the request");
  return Status::OK();
}

const char* ContentType(engine::ResultFormat format) {
  switch (format) {
    case engine::ResultFormat::kCsv: return "text/csv";
    case engine::ResultFormat::kNdjson: return "application/x-ndjson";
    case engine::ResultFormat::kTable: return "text/plain; charset=utf-8";
    case engine::ResultFormat::kArrow: return engine::kArrowStreamContentType;
    default: return "application/json";
  }
}

/// Streams the cursor's rows into the response; the audit record gets how it ended. An Arrow
/// result whose types the stream cannot carry is refused (400) before anything is sent.
void StreamResult(httplib::Response& res, std::shared_ptr<access::Cursor> cursor,
                  engine::ResultFormat format) {
  std::shared_ptr<engine::ArrowStreamWriter> arrow;
  if (format == engine::ResultFormat::kArrow) {
    auto writer = engine::ArrowStreamWriter::Make(*cursor->result);
    if (!writer.ok()) {
      cursor->Finish(0, writer.status());
      return SendError(res, writer.status());
    }
    arrow = std::move(writer).value();
  }
  // Deprecated versions read: one header per warning (RFC 9110 allows the repetition).
  for (const auto& warning : cursor->query.warnings) res.set_header("X-Plexus-Warning", warning);
  res.set_chunked_content_provider(
      ContentType(format), [cursor, format, arrow](size_t, httplib::DataSink& sink) {
        engine::Connection* connection = cursor->session ? cursor->session->connection.get()
                                                         : nullptr;
        SinkBuffer buffer(sink, [connection] {
          if (connection != nullptr) connection->Interrupt();  // the client left: stop reading
        });
        std::ostream out(&buffer);
        auto rows = arrow ? arrow->Write(out) : engine::WriteResult(*cursor->result, format, out);
        out.flush();
        Status status = rows.ok() && buffer.broken()
                            ? IOError("the client closed the connection before the end")
                            : rows.status();
        cursor->Finish(rows.ok() ? *rows : 0, status);
        if (!status.ok()) return false;  // aborts the response: the client sees it truncated
        sink.done();
        return true;
      });
}

/// Sends an exported file in 64 KiB pieces and removes it once the response is done.
void SendFile(httplib::Response& res, const access::ExportedFile& file, const char* type) {
  for (const auto& warning : file.warnings) res.set_header("X-Plexus-Warning", warning);
  res.set_header("X-Plexus-Rows", std::to_string(file.rows));
  std::error_code error;
  auto size = std::filesystem::file_size(file.path, error);
  auto in = std::make_shared<std::ifstream>(file.path, std::ios::binary);
  if (error || !*in) {
    std::filesystem::remove(file.path, error);
    return SendError(res, IOError("the exported result cannot be read"));
  }
  res.set_content_provider(
      static_cast<size_t>(size), type,
      [in](size_t offset, size_t length, httplib::DataSink& sink) {
        std::string piece(std::min<size_t>(length, 64 * 1024), '\0');
        in->seekg(static_cast<std::streamoff>(offset));
        in->read(piece.data(), static_cast<std::streamsize>(piece.size()));
        if (in->gcount() <= 0) return false;
        return sink.write(piece.data(), static_cast<size_t>(in->gcount()));
      },
      [in, path = file.path](bool) {
        in->close();
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
      });
}

void Query(catalog::Catalog* catalog, access::QueryService* queries, const httplib::Request& req,
           httplib::Response& res, const access::Principal& actor) {
  std::string sql, format_name, as;
  Status parsed = ParseQueryRequest(req, sql, format_name, as);
  if (!parsed.ok()) return SendError(res, parsed);
  bool parquet = format_name == "parquet";
  auto format = engine::ParseResultFormat(parquet ? "json" : format_name);
  if (!format.ok()) {
    return SendError(res, InvalidArgument("format must be json, csv, ndjson, arrow, parquet or "
                                          "table"));
  }
  Status refreshed = queries->Refresh();
  if (!refreshed.ok()) return SendError(res, refreshed);
  access::QueryRequest request{&actor, "http", "", {}};
  access::Principal previewed;
  if (!as.empty()) {
    access::AccessAdmin admin(catalog);
    auto preview = admin.Preview(actor, as, &request.only_domains);
    if (!preview.ok()) return SendError(res, preview.status());
    previewed = std::move(preview).value();
    request.principal = &previewed;
    request.previewed_by = actor.name;
  }
  if (parquet) {  // DuckDB's Parquet writer, into a file of the home's temp folder
    auto file = queries->ExportParquet(request, sql);
    if (!file.ok()) return SendError(res, file.status());
    return SendFile(res, *file, "application/vnd.apache.parquet");
  }
  auto cursor = queries->Query(request, sql);
  if (!cursor.ok()) return SendError(res, cursor.status());
  StreamResult(res, std::shared_ptr<access::Cursor>(std::move(cursor).value()), *format);
}

}  // namespace

void QueryRoutes(RouteTable& routes, catalog::Catalog* catalog, access::QueryService* queries) {
  routes
      .Post("/api/v1/query",
            "Run one SELECT over domain.product.port names; the result streams (json, csv, "
            "ndjson, arrow)",
            [catalog, queries](const auto& req, auto& res, const auto& actor) {
              Query(catalog, queries, req, res, actor);
            })
      .Tag("query")
      .Query("format", "json (default), csv, ndjson, arrow (an Arrow IPC stream, "
                       "application/vnd.apache.arrow.stream, one record batch per chunk; "
                       "nested and enum columns are refused with 400), parquet (written by "
                       "DuckDB to a temp file, then sent), or table (aligned text for "
                       "terminals: buffered, not streamed), for a text/plain SQL body")
      .Query("as", "preview what this principal sees (admins; owners over their domains)")
      .Body("{\"sql\": \"SELECT ...\", \"format\": \"json|csv|ndjson|arrow|parquet\", "
            "\"as\": \"name\"}, "
            "or "
            "the SQL as text/plain")
      .Produces("application/json");
}

}  // namespace plexus::server::internal
