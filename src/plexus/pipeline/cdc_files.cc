// The files source of CDC inputs: NDJSON change files in a folder (relative to the product
// folder) whose names match `pattern`, read in name order as they arrive. Only complete lines
// are read: a partial last line waits for its newline, unless a newer file exists (the writer
// moved on). The offset is "<file name>:<byte offset>" under the partition "file".
#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "plexus/pipeline/cdc.h"

namespace plexus::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadBlock = 4 << 20;

class FileSource : public ChangeSource {
 public:
  FileSource(fs::path folder, std::string pattern)
      : folder_(std::move(folder)), pattern_(std::move(pattern)) {}

  Status Open(const SourceOffsets& committed) override {
    file_.clear();
    offset_ = 0;
    auto it = committed.find("file");
    if (it == committed.end()) return Status::OK();
    const std::string& text = it->second;
    size_t colon = text.rfind(':');
    uint64_t offset = 0;
    auto parsed = colon == std::string::npos
                      ? std::from_chars_result{text.data(), std::errc::invalid_argument}
                      : std::from_chars(text.data() + colon + 1, text.data() + text.size(), offset);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
      return InvalidArgument("bad committed offset of " + Describe() + ": " + text);
    }
    file_ = text.substr(0, colon);
    offset_ = offset;
    return Status::OK();
  }

  Result<ChangeBatch> Read(size_t max_events, std::chrono::milliseconds wait) override {
    ChangeBatch batch;
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      PLEXUS_RETURN_IF_ERROR(ReadAvailable(max_events, batch));
      if (!batch.events.empty() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!file_.empty()) batch.offsets["file"] = file_ + ":" + std::to_string(offset_);
    return batch;
  }

  Status Acknowledge(const SourceOffsets&) override { return Status::OK(); }

  std::string Describe() const override {
    return "files " + (folder_ / pattern_).string();
  }

 private:
  /// Matching file names after (or equal to) the current one, in name order.
  Result<std::vector<std::string>> Pending() const {
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(folder_, ec), end;
    if (ec) return names;  // no folder yet: no files
    for (; it != end; it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file(ec)) continue;
      std::string name = it->path().filename().string();
      if (fnmatch(pattern_.c_str(), name.c_str(), 0) != 0) continue;
      if (!file_.empty() && name < file_) continue;
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Status ReadAvailable(size_t max_events, ChangeBatch& batch) {
    PLEXUS_ASSIGN_OR_RETURN(auto names, Pending());
    for (size_t n = 0; n < names.size() && batch.events.size() < max_events; n++) {
      if (names[n] != file_) {
        file_ = names[n];
        offset_ = 0;
      }
      bool newer_exists = n + 1 < names.size();
      PLEXUS_RETURN_IF_ERROR(ReadFile(max_events, newer_exists, batch));
      if (batch.events.size() >= max_events) break;
    }
    return Status::OK();
  }

  /// Reads complete lines of the current file from the current offset.
  Status ReadFile(size_t max_events, bool newer_exists, ChangeBatch& batch) {
    fs::path path = folder_ / file_;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return IOError(Describe() + ": cannot open " + path.string());
    if (std::fseek(f, static_cast<long>(offset_), SEEK_SET) != 0) {
      std::fclose(f);
      return IOError(Describe() + ": cannot seek in " + path.string());
    }
    std::string buffer;
    bool eof = false;
    while (batch.events.size() < max_events && !eof) {
      size_t old = buffer.size();
      buffer.resize(old + kReadBlock);
      size_t got = std::fread(buffer.data() + old, 1, kReadBlock, f);
      buffer.resize(old + got);
      eof = got < kReadBlock;
      size_t start = 0;
      while (batch.events.size() < max_events) {
        size_t nl = buffer.find('\n', start);
        if (nl == std::string::npos) break;
        TakeLine(std::string_view(buffer).substr(start, nl - start), batch);
        start = nl + 1;
      }
      offset_ += start;
      buffer.erase(0, start);
    }
    // The writer moved on to a newer file: a last line without its newline is complete.
    if (eof && newer_exists && batch.events.size() < max_events && !buffer.empty()) {
      TakeLine(buffer, batch);
      offset_ += buffer.size();
    }
    std::fclose(f);
    return Status::OK();
  }

  static void TakeLine(std::string_view line, ChangeBatch& batch) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    if (!blank) batch.events.emplace_back(line);
  }

  fs::path folder_;
  std::string pattern_;
  std::string file_;   ///< the file being read (empty: none yet)
  uint64_t offset_ = 0;  ///< bytes of file_ read
};

}  // namespace

Result<std::unique_ptr<ChangeSource>> MakeFileSource(const spec::CdcSpec& spec,
                                                     const std::string& product_dir) {
  if (spec.folder.empty()) return InvalidArgument("a files CDC input needs a folder");
  fs::path folder = fs::path(spec.folder).is_absolute() ? fs::path(spec.folder)
                                                        : fs::path(product_dir) / spec.folder;
  return std::unique_ptr<ChangeSource>(
      new FileSource(folder, spec.pattern.empty() ? "*.ndjson" : spec.pattern));
}

}  // namespace plexus::pipeline
