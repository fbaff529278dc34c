// Loading the catalog's views into the evaluator's DuckDB: the export (SQLite) runs on its own
// thread and copies rows into batches; this thread appends them, a chunk at a time, one table
// per view (joining `by_product` views with `products` as it goes); a third thread makes the
// views computed in DuckDB as soon as what they read is loaded, and those left are made at the
// end, in parallel. Only the views asked for are exported and loaded.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>
#include <unordered_map>

#include "plexus/engine/engine.h"
#include "plexus/governance/evaluator_internal.h"

namespace plexus::governance {

namespace {

/// Appends the exported rows to one table per view, a chunk at a time.
class TableLoader : public catalog::ViewSink {
 public:
  explicit TableLoader(engine::Connection& conn) : conn_(conn) {}

  Status BeginView(const catalog::GovernanceView& view) override {
    using Type = engine::ChunkAppender::Type;
    std::string ddl = "CREATE TABLE " + engine::QuoteIdentifier(view.name) + " (";
    types_.clear();
    for (size_t i = 0; i < view.columns.size(); ++i) {
      std::string_view type = view.columns[i].type;
      ddl += (i ? ", " : "") + engine::QuoteIdentifier(view.columns[i].name) + " " +
             std::string(type);
      types_.push_back(type == "BIGINT"    ? Type::kBigint
                       : type == "BOOLEAN" ? Type::kBoolean
                       : type == "DOUBLE"  ? Type::kDouble
                                           : Type::kVarchar);
    }
    PLEXUS_RETURN_IF_ERROR(conn_.Execute(ddl + ")"));
    PLEXUS_ASSIGN_OR_RETURN(appender_, conn_.MakeChunkAppender(view.name, types_));
    keeps_products_ = std::string_view(view.name) == "products";
    products_loaded_ = products_loaded_ || keeps_products_;
    join_ = Join();
    return view.by_product ? JoinPlan(view) : Status::OK();
  }

  Status Row(const catalog::ViewRow& row) override {
    using Type = engine::ChunkAppender::Type;
    if (keeps_products_) KeepProduct(row);
    const Product* product = nullptr;
    if (join_.key >= 0) {
      if (row.IsNull(join_.key)) return Status::OK();
      auto found = products_.find(row.Text(join_.key));
      if (found == products_.end()) return Status::OK();  // an inner join leaves it out
      product = &found->second;
    }
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      if (product != nullptr && Joined(row, c, *product, i)) continue;
      if (row.IsNull(c)) {
        appender_->SetNull(i);
        continue;
      }
      switch (types_[i]) {
        case Type::kBigint: appender_->SetInt64(i, row.Int(c)); break;
        case Type::kBoolean: appender_->SetBool(i, row.Int(c) != 0); break;
        case Type::kDouble: appender_->SetDouble(i, row.Real(c)); break;
        case Type::kVarchar: appender_->SetText(i, row.Text(c)); break;
      }
    }
    return appender_->EndRow();
  }

  Status EndView(const catalog::GovernanceView&) override {
    Status s = appender_->Close();
    appender_.reset();
    return s;
  }

 private:
  /// A product's domain and SQL name, by id, kept as `products` is loaded.
  struct Product {
    std::string domain;
    std::string name;
  };
  /// Where a `by_product` view's key and joined columns are (-1: none).
  struct Join {
    int key = -1;
    int domain = -1;
    int product = -1;
    int qualified = -1;
  };

  Status JoinPlan(const catalog::GovernanceView& view) {
    for (size_t i = 0; i < view.columns.size(); ++i) {
      std::string_view name = view.columns[i].name;
      int c = static_cast<int>(i);
      if (name == "product_id") join_.key = c;
      if (name == "domain") join_.domain = c;
      if (name == "product") join_.product = c;
      if (name == "qualified_name") join_.qualified = c;
    }
    if (join_.key < 0 || !products_loaded_) {
      return Internal(std::string("view ") + view.name +
                      " is joined with products, which must be loaded before it");
    }
    return Status::OK();
  }

  /// Keeps a row of `products`, whose first columns are id, domain and name.
  void KeepProduct(const catalog::ViewRow& row) {
    if (row.IsNull(0)) return;
    products_[std::string(row.Text(0))] = {std::string(row.IsNull(1) ? "" : row.Text(1)),
                                           std::string(row.IsNull(2) ? "" : row.Text(2))};
  }

  /// Sets column `c` of a joined row when it is one the join fills; false when it is not.
  bool Joined(const catalog::ViewRow& row, int c, const Product& p, size_t i) {
    if (c == join_.domain) {
      appender_->SetText(i, p.domain);
    } else if (c == join_.product) {
      appender_->SetText(i, p.name);
    } else if (c == join_.qualified) {
      if (row.IsNull(c)) {
        appender_->SetNull(i);
        return true;
      }
      qualified_.assign(p.domain).append(".").append(p.name).append(".").append(row.Text(c));
      appender_->SetText(i, qualified_);
    } else {
      return false;
    }
    return true;
  }

  engine::Connection& conn_;
  std::vector<engine::ChunkAppender::Type> types_;
  std::unique_ptr<engine::ChunkAppender> appender_;
  bool keeps_products_ = false;
  bool products_loaded_ = false;
  std::unordered_map<std::string, Product, internal::TextHash, std::equal_to<>> products_;
  Join join_;
  std::string qualified_;
};

/// Rows of one view copied out of the export, for the loading thread: values in one buffer.
struct RowBatch {
  const catalog::GovernanceView* begin = nullptr;  ///< set: a view starts (no rows)
  const catalog::GovernanceView* end = nullptr;    ///< set: the view ends (no rows)
  struct Cell {
    bool null = true;
    int64_t number = 0;
    double real = 0;
    size_t offset = 0;
    size_t size = 0;
  };
  size_t columns = 0;
  std::vector<Cell> cells;  ///< rows * columns
  std::string text;         ///< the texts, one after the other
};

/// A batch's row as the loader reads it.
class BatchRow : public catalog::ViewRow {
 public:
  BatchRow(const RowBatch& batch, size_t row) : batch_(batch), first_(row * batch.columns) {}
  bool IsNull(int c) const override { return cell(c).null; }
  int64_t Int(int c) const override { return cell(c).number; }
  double Real(int c) const override { return cell(c).real; }
  std::string_view Text(int c) const override {
    return std::string_view(batch_.text).substr(cell(c).offset, cell(c).size);
  }

 private:
  const RowBatch::Cell& cell(int c) const { return batch_.cells[first_ + static_cast<size_t>(c)]; }
  const RowBatch& batch_;
  size_t first_;
};

/// The export's side of the pipeline: copies rows into batches and hands them over through a
/// bounded queue (the loading thread appends one batch while the next is read from SQLite).
class BatchQueue : public catalog::ViewSink {
 public:
  static constexpr size_t kRows = 2048;
  static constexpr size_t kQueued = 8;

  explicit BatchQueue(const std::set<std::string>& only) : only_(only) {}

  bool Wants(const catalog::GovernanceView& view) const override {
    return only_.empty() || only_.count(view.name) != 0;
  }
  Status BeginView(const catalog::GovernanceView& view) override {
    types_.clear();
    for (const auto& c : view.columns) types_.push_back(std::string_view(c.type));
    RowBatch begin;
    begin.begin = &view;
    Push(std::move(begin));
    Fresh();
    return Status::OK();
  }
  Status Row(const catalog::ViewRow& row) override {
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      RowBatch::Cell cell;
      cell.null = row.IsNull(c);
      if (!cell.null) {
        if (types_[i] == "VARCHAR") {
          std::string_view text = row.Text(c);
          cell.offset = batch_.text.size();
          cell.size = text.size();
          batch_.text.append(text);
        } else if (types_[i] == "DOUBLE") {
          cell.real = row.Real(c);
        } else {
          cell.number = row.Int(c);
        }
      }
      batch_.cells.push_back(cell);
    }
    if (batch_.cells.size() >= kRows * types_.size()) {
      Push(std::move(batch_));
      Fresh();
    }
    return Status::OK();
  }
  Status EndView(const catalog::GovernanceView& view) override {
    if (!batch_.cells.empty()) Push(std::move(batch_));
    RowBatch end;
    end.end = &view;
    Push(std::move(end));
    return Status::OK();
  }

  /// The producer is done (with `status`); Pop then returns nullopt once the queue is empty.
  void Finish(Status status) {
    std::lock_guard lock(mu_);
    done_ = true;
    status_ = std::move(status);
    ready_.notify_all();
  }
  /// The consumer stops early: the producer's pushes return at once.
  void Abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    queue_.clear();
    space_.notify_all();
  }
  std::optional<RowBatch> Pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) return std::nullopt;
    RowBatch batch = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return batch;
  }
  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void Fresh() {
    batch_ = RowBatch();
    batch_.columns = types_.size();
    batch_.cells.reserve(kRows * types_.size());
  }
  void Push(RowBatch batch) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return queue_.size() < kQueued || abandoned_; });
    if (abandoned_) return;
    queue_.push_back(std::move(batch));
    ready_.notify_one();
  }

  const std::set<std::string>& only_;
  std::vector<std::string_view> types_;
  RowBatch batch_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<RowBatch> queue_;
  bool done_ = false;
  bool abandoned_ = false;
  Status status_;
};


/// True when `view`'s DuckDB SQL names `other` (as a word).
bool Names(const catalog::GovernanceView& view, const catalog::GovernanceView& other) {
  return std::regex_search(view.derived, std::regex("\\b" + std::string(other.name) + "\\b"));
}

/// Creates `wave`'s tables, one per connection at a time (a thread each).
Status CreateAll(const std::vector<engine::Connection*>& conns,
                 const std::vector<const catalog::GovernanceView*>& wave) {
  std::vector<Status> status(wave.size());
  std::atomic<size_t> next{0};
  auto work = [&](engine::Connection* c) {
    for (size_t i = next++; i < wave.size(); i = next++) {
      status[i] = c->Execute("CREATE TABLE " + engine::QuoteIdentifier(wave[i]->name) + " AS " +
                             wave[i]->derived);
    }
  };
  std::vector<std::thread> threads;
  for (size_t c = 1; c < conns.size() && c < wave.size(); ++c) threads.emplace_back(work, conns[c]);
  work(conns[0]);
  for (auto& t : threads) t.join();
  for (const auto& s : status) PLEXUS_RETURN_IF_ERROR(s);
  return Status::OK();
}

/// Creates `pending`'s views in waves: a view is made once the computed views it reads are;
/// the views of a wave are made in parallel over `conns`.
Status Derive(const std::vector<engine::Connection*>& conns,
              std::vector<const catalog::GovernanceView*> pending) {
  while (!pending.empty()) {
    std::vector<const catalog::GovernanceView*> wave, later;
    for (const auto* view : pending) {
      bool ready = std::none_of(pending.begin(), pending.end(), [&](const auto* other) {
        return other != view && Names(*view, *other);
      });
      (ready ? wave : later).push_back(view);
    }
    if (wave.empty()) return Internal("the views computed in DuckDB read each other");
    PLEXUS_RETURN_IF_ERROR(CreateAll(conns, wave));
    pending = std::move(later);
  }
  return Status::OK();
}

/// Makes the computed views on a connection of its own while the exported ones still load: a
/// view is made as soon as every view it reads is loaded or made (the loader reports each).
class EarlyDerive {
 public:
  EarlyDerive(engine::Connection* conn, const BatchQueue& queue) : conn_(conn) {
    for (const auto& view : catalog::GovernanceViews()) {
      if (view.derived == nullptr || !queue.Wants(view)) continue;
      Pending p{&view, {}};
      for (const auto& other : catalog::GovernanceViews()) {
        if (&other != &view && queue.Wants(other) && Names(view, other)) {
          p.reads.push_back(other.name);
        }
      }
      pending_.push_back(std::move(p));
    }
    if (conn_ != nullptr && !pending_.empty()) worker_ = std::thread([this] { Work(); });
  }
  ~EarlyDerive() { (void)Stop(); }

  /// `name` is loaded (or made).
  void Done(std::string_view name) {
    std::lock_guard lock(mu_);
    done_.insert(std::string(name));
    wake_.notify_one();
  }
  /// Stops once the view being made is; the views not made yet (in order) and the first error.
  Result<std::vector<const catalog::GovernanceView*>> Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      wake_.notify_one();
    }
    if (worker_.joinable()) worker_.join();
    PLEXUS_RETURN_IF_ERROR(status_);
    std::vector<const catalog::GovernanceView*> left;
    for (const auto& p : pending_) left.push_back(p.view);
    return left;
  }

 private:
  struct Pending {
    const catalog::GovernanceView* view;
    std::vector<std::string> reads;
  };

  void Work() {
    std::unique_lock lock(mu_);
    while (true) {
      auto ready = pending_.end();
      wake_.wait(lock, [&] { return stop_ || (ready = Ready()) != pending_.end(); });
      if (stop_) return;
      const catalog::GovernanceView* view = ready->view;
      pending_.erase(ready);
      lock.unlock();
      Status s = conn_->Execute("CREATE TABLE " + engine::QuoteIdentifier(view->name) + " AS " +
                                view->derived);
      lock.lock();
      if (!s.ok()) {
        status_ = s;
        return;
      }
      done_.insert(view->name);
    }
  }
  std::vector<Pending>::iterator Ready() {
    return std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) {
      return std::all_of(p.reads.begin(), p.reads.end(),
                         [&](const std::string& r) { return done_.count(r) != 0; });
    });
  }

  engine::Connection* conn_;
  std::vector<Pending> pending_;
  std::set<std::string> done_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  Status status_;
  std::thread worker_;
};

}  // namespace

Status LoadViews(const std::function<Status(catalog::ViewSink&)>& read, engine::Connection& conn,
                 const std::set<std::string>& only,
                 const std::vector<engine::Connection*>& helpers) {
  // The export (SQLite) runs on its own thread while this one appends (DuckDB): on two cores
  // the load takes about as long as the slower of the two.
  BatchQueue queue(only);
  std::thread producer([&] { queue.Finish(read(queue)); });
  TableLoader loader(conn);
  EarlyDerive early(helpers.empty() ? nullptr : helpers[0], queue);
  Status loaded;
  while (auto batch = queue.Pop()) {
    if (!loaded.ok()) continue;
    if (batch->begin != nullptr) {
      loaded = loader.BeginView(*batch->begin);
    } else if (batch->end != nullptr) {
      loaded = loader.EndView(*batch->end);
      if (loaded.ok()) early.Done(batch->end->name);
    } else {
      size_t rows = batch->columns == 0 ? 0 : batch->cells.size() / batch->columns;
      for (size_t row = 0; row < rows && loaded.ok(); ++row) {
        loaded = loader.Row(BatchRow(*batch, row));
      }
    }
    if (!loaded.ok()) queue.Abandon();
  }
  producer.join();
  auto left = early.Stop();
  PLEXUS_RETURN_IF_ERROR(loaded);
  PLEXUS_RETURN_IF_ERROR(queue.status());
  PLEXUS_RETURN_IF_ERROR(left.status());
  // The computed views not made yet, then the internal tables they were computed from are
  // dropped.
  std::vector<engine::Connection*> conns = {&conn};
  conns.insert(conns.end(), helpers.begin(), helpers.end());
  PLEXUS_RETURN_IF_ERROR(Derive(conns, std::move(left).value()));
  for (const auto& view : catalog::GovernanceViews()) {
    if (view.internal && queue.Wants(view)) {
      PLEXUS_RETURN_IF_ERROR(conn.Execute("DROP TABLE " + engine::QuoteIdentifier(view.name)));
    }
  }
  return Status::OK();
}

}  // namespace plexus::governance
