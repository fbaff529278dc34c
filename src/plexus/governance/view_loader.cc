// Loading the catalog's views into the evaluator's DuckDB: the export (SQLite) runs on its own
// thread and writes the rows straight into DuckDB chunks (joining `by_product` views with
// `products` as it goes); this thread makes one table per view from the full chunks (a
// CREATE TABLE AS over a table function that hands DuckDB the chunks as they are); a third
// thread makes the views computed in DuckDB as soon as what they read is loaded, and those left
// are made at the end, in parallel. Only the views asked for are exported and loaded.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "plexus/engine/chunk_builder.h"
#include "plexus/engine/chunk_table.h"
#include "plexus/engine/engine.h"
#include "plexus/governance/evaluator_internal.h"

namespace plexus::governance {

namespace {

using Type = engine::ChunkAppender::Type;

/// The DuckDB types of a view's columns, in order.
std::vector<Type> ColumnTypes(const catalog::GovernanceView& view) {
  std::vector<Type> types;
  for (const auto& c : view.columns) {
    std::string_view type = c.type;
    types.push_back(type == "BIGINT"    ? Type::kBigint
                    : type == "BOOLEAN" ? Type::kBoolean
                    : type == "DOUBLE"  ? Type::kDouble
                                        : Type::kVarchar);
  }
  return types;
}

/// What the export hands the loading thread: a view begins, a full chunk of its rows, or it
/// ends.
struct Handover {
  bool planned = false;  ///< the views to make are known (ChunkFiller::Chosen)
  const catalog::GovernanceView* begin = nullptr;  ///< set: a view starts (no rows)
  const catalog::GovernanceView* end = nullptr;    ///< set: the view ends (no rows)
  const catalog::GovernanceView* view = nullptr;   ///< the rows' view
  std::unique_ptr<engine::ChunkBuilder> rows;
};

/// The queue between the export (producer) and the loading thread (consumer), bounded; the
/// consumer hands emptied chunks back for reuse.
class HandoverQueue {
 public:
  static constexpr size_t kQueued = 8;

  void Push(Handover item) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return queue_.size() < kQueued || abandoned_; });
    if (abandoned_) return;
    queue_.push_back(std::move(item));
    ready_.notify_one();
  }
  /// The next item; nullopt once the producer finished and the queue is empty.
  std::optional<Handover> Pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) return std::nullopt;
    Handover item = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return item;
  }
  /// An emptied chunk of `view`'s, for the producer to fill again.
  void Recycle(const catalog::GovernanceView* view, std::unique_ptr<engine::ChunkBuilder> rows) {
    std::lock_guard lock(mu_);
    if (view == recycling_) spare_.push_back(std::move(rows));
  }
  /// A spare chunk of `view`'s, or null; the spares of other views are dropped.
  std::unique_ptr<engine::ChunkBuilder> Spare(const catalog::GovernanceView* view) {
    std::lock_guard lock(mu_);
    if (view != recycling_) {
      recycling_ = view;
      spare_.clear();
    }
    if (spare_.empty()) return nullptr;
    auto rows = std::move(spare_.back());
    spare_.pop_back();
    return rows;
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
  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<Handover> queue_;
  const catalog::GovernanceView* recycling_ = nullptr;
  std::vector<std::unique_ptr<engine::ChunkBuilder>> spare_;
  bool done_ = false;
  bool abandoned_ = false;
  Status status_;
};

/// The export's side, on its thread: writes each row straight into a DuckDB chunk (joining
/// `by_product` views with `products` as it goes) and hands full chunks to the loading thread,
/// which only stores them.
class ChunkFiller : public catalog::ViewSink {
 public:
  ChunkFiller(const internal::LoadPlan& plan, HandoverQueue& queue)
      : plan_(plan), only_(plan.only), all_(plan.only.empty()), queue_(queue) {}

  /// With a plan that chooses, the views to make are chosen here, in the export's transaction;
  /// the loading thread hears of it (Handover::planned) before the first view.
  Status Versions(const std::map<std::string, std::string>& versions) override {
    if (plan_.choose) {
      PLEXUS_ASSIGN_OR_RETURN(only_, plan_.choose(versions));
      all_ = false;
    }
    Handover planned;
    planned.planned = true;
    queue_.Push(std::move(planned));
    return Status::OK();
  }

  bool Wants(const catalog::GovernanceView& view) const override {
    return all_ || only_.count(view.name) != 0;
  }
  /// The views to make (empty: all of them); known once Handover::planned is popped.
  const std::set<std::string>& Chosen() const { return only_; }

  Status BeginView(const catalog::GovernanceView& view) override {
    view_ = &view;
    types_ = ColumnTypes(view);
    keeps_products_ = std::string_view(view.name) == "products";
    products_loaded_ = products_loaded_ || keeps_products_;
    join_ = Join();
    last_key_.clear();
    last_product_ = nullptr;
    if (view.by_product) PLEXUS_RETURN_IF_ERROR(JoinPlan(view));
    Handover begin;
    begin.begin = &view;
    queue_.Push(std::move(begin));
    rows_.reset();  // made at the first row: an empty view needs none
    return Status::OK();
  }

  Status Row(const catalog::ViewRow& row) override {
    if (keeps_products_) KeepProduct(row);
    if (!rows_) rows_ = Fresh();
    const Product* product = nullptr;
    if (join_.key >= 0) {
      product = Find(row);
      if (product == nullptr) return Status::OK();  // an inner join leaves it out
    }
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      if (product != nullptr && Joined(row, c, *product, i)) continue;
      if (row.IsNull(c)) {
        rows_->SetNull(i);
        continue;
      }
      switch (types_[i]) {
        case Type::kBigint: rows_->SetInt64(i, row.Int(c)); break;
        case Type::kBoolean: rows_->SetBool(i, row.Int(c) != 0); break;
        case Type::kDouble: rows_->SetDouble(i, row.Real(c)); break;
        default: rows_->SetText(i, row.Text(c)); break;
      }
    }
    if (rows_->EndRow()) Hand();
    return Status::OK();
  }

  Status EndView(const catalog::GovernanceView& view) override {
    if (rows_ && rows_->size() > 0) Hand();
    rows_.reset();
    Handover end;
    end.end = &view;
    queue_.Push(std::move(end));
    return Status::OK();
  }

 private:
  /// A product's domain and SQL name, by id, kept as `products` is exported (the joined rows
  /// reference them: a node's strings do not move).
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

  std::unique_ptr<engine::ChunkBuilder> Fresh() {
    auto rows = queue_.Spare(view_);
    return rows ? std::move(rows) : std::make_unique<engine::ChunkBuilder>(types_);
  }
  void Hand() {
    Handover item;
    item.view = view_;
    item.rows = std::move(rows_);
    queue_.Push(std::move(item));
  }

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

  /// The row's product, or null (no key, or not a product): a view's rows come grouped by
  /// product, so the last one found is tried first.
  const Product* Find(const catalog::ViewRow& row) {
    if (row.IsNull(join_.key)) return nullptr;
    std::string_view key = row.Text(join_.key);
    if (last_product_ != nullptr && key == last_key_) return last_product_;
    auto found = products_.find(key);
    if (found == products_.end()) return nullptr;
    last_key_.assign(key);
    last_product_ = &found->second;
    return last_product_;
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
      rows_->SetTextRef(i, p.domain);
    } else if (c == join_.product) {
      rows_->SetTextRef(i, p.name);
    } else if (c == join_.qualified) {
      if (row.IsNull(c)) {
        rows_->SetNull(i);
        return true;
      }
      qualified_.assign(p.domain).append(".").append(p.name).append(".").append(row.Text(c));
      rows_->SetText(i, qualified_);
    } else {
      return false;
    }
    return true;
  }

  const internal::LoadPlan& plan_;
  std::set<std::string> only_;
  bool all_;
  HandoverQueue& queue_;
  const catalog::GovernanceView* view_ = nullptr;
  std::vector<Type> types_;
  std::unique_ptr<engine::ChunkBuilder> rows_;
  bool keeps_products_ = false;
  bool products_loaded_ = false;
  std::unordered_map<std::string, Product, internal::TextHash, std::equal_to<>> products_;
  Join join_;
  std::string last_key_;
  const Product* last_product_ = nullptr;
  std::string qualified_;
};

/// True when `view`'s DuckDB SQL names `other`.
bool Names(const catalog::GovernanceView& view, const catalog::GovernanceView& other) {
  return internal::NamesWord(view.derived, other.name);
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
  EarlyDerive(engine::Connection* conn, const ChunkFiller& queue) : conn_(conn) {
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

namespace internal {

bool NamesWord(std::string_view sql, std::string_view word) {
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  for (size_t at = sql.find(word); at != std::string_view::npos; at = sql.find(word, at + 1)) {
    size_t after = at + word.size();
    if ((at == 0 || !is_word(sql[at - 1])) && (after == sql.size() || !is_word(sql[after]))) {
      return true;
    }
  }
  return false;
}

}  // namespace internal

namespace {

/// The loading thread's side: one view's chunks, as the export hands them over, for the
/// table made from them (engine::ChunkTables: DuckDB reads the chunks as they are).
class ViewChunks : public engine::ChunkSource {
 public:
  ViewChunks(HandoverQueue& queue, const catalog::GovernanceView& view)
      : queue_(queue), view_(view) {}

  Result<engine::ChunkBuilder*> Next() override {
    // The chunk handed before is read (and reset): the export may fill it again.
    if (handed_) queue_.Recycle(&view_, std::move(handed_));
    auto item = queue_.Pop();
    if (!item || item->end != nullptr) return nullptr;  // the view ends (or the export stopped)
    if (item->view != &view_ || !item->rows) {
      return Internal(std::string("view ") + view_.name + ": the export's rows came out of order");
    }
    handed_ = std::move(item->rows);
    return handed_.get();
  }

 private:
  HandoverQueue& queue_;
  const catalog::GovernanceView& view_;
  std::unique_ptr<engine::ChunkBuilder> handed_;
};

/// The table of `view`, made from the export's chunks.
Status LoadView(engine::ChunkTables& tables, HandoverQueue& queue,
                const catalog::GovernanceView& view) {
  std::vector<engine::ChunkColumn> columns;
  std::vector<Type> types = ColumnTypes(view);
  for (size_t i = 0; i < view.columns.size(); ++i) {
    columns.push_back({view.columns[i].name, types[i]});
  }
  ViewChunks chunks(queue, view);
  return tables.Create(view.name, columns, chunks);
}

/// The computed views not made while loading, then the internal tables they were computed
/// from are dropped (unless the plan keeps them).
Status Finish(engine::Connection& conn, const std::vector<engine::Connection*>& helpers,
              std::vector<const catalog::GovernanceView*> left, const ChunkFiller& filler,
              bool keep_internal) {
  std::vector<engine::Connection*> conns = {&conn};
  conns.insert(conns.end(), helpers.begin(), helpers.end());
  PLEXUS_RETURN_IF_ERROR(Derive(conns, std::move(left)));
  if (keep_internal) return Status::OK();
  for (const auto& view : catalog::GovernanceViews()) {
    if (view.internal && filler.Wants(view)) {
      PLEXUS_RETURN_IF_ERROR(conn.Execute("DROP TABLE " + engine::QuoteIdentifier(view.name)));
    }
  }
  return Status::OK();
}

}  // namespace

Status LoadViews(const std::function<Status(catalog::ViewSink&)>& read, engine::Connection& conn,
                 const std::set<std::string>& only,
                 const std::vector<engine::Connection*>& helpers) {
  internal::LoadPlan plan;
  plan.only = only;
  return internal::LoadViews(read, conn, plan, helpers);
}

namespace internal {

Status LoadViews(const std::function<Status(catalog::ViewSink&)>& read, engine::Connection& conn,
                 const LoadPlan& plan, const std::vector<engine::Connection*>& helpers) {
  // The export (SQLite) fills DuckDB chunks on its own thread while this one stores them: on
  // two cores the load takes about as long as the slower of the two.
  HandoverQueue queue;
  ChunkFiller filler(plan, queue);
  std::thread producer([&] { queue.Finish(read(filler)); });
  auto tables = engine::ChunkTables::Make(conn);
  Status loaded = tables.status();
  if (!loaded.ok()) queue.Abandon();
  // Once the views to make are known (the export says so first; a reader that does not is
  // taken to make them all): the plan's step before, then the computed views as they can be.
  std::optional<EarlyDerive> early;
  auto start = [&] {
    if (early || !loaded.ok()) return;
    if (plan.before) loaded = plan.before(filler.Chosen());
    early.emplace(helpers.empty() ? nullptr : helpers[0], filler);
    if (!loaded.ok()) queue.Abandon();
  };
  while (auto item = queue.Pop()) {
    if (!loaded.ok()) continue;  // after an error: drained
    if (item->planned) start();
    if (!loaded.ok() || item->begin == nullptr) continue;
    start();
    loaded = LoadView(**tables, queue, *item->begin);
    if (loaded.ok()) {
      early->Done(item->begin->name);
    } else {
      queue.Abandon();
    }
  }
  producer.join();
  PLEXUS_RETURN_IF_ERROR(loaded);
  PLEXUS_RETURN_IF_ERROR(queue.status());
  start();
  PLEXUS_RETURN_IF_ERROR(loaded);
  auto left = early->Stop();
  PLEXUS_RETURN_IF_ERROR(left.status());
  return Finish(conn, helpers, std::move(left).value(), filler, plan.keep_internal);
}

}  // namespace internal

}  // namespace plexus::governance
