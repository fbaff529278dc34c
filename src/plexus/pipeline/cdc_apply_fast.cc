// The CDC applier's fast path (cdc_apply_internal.h; the parse and the batch's writes are
// cdc_parse.cc and cdc_parse_apply.cc): which batches may take it, the port's key state held in
// memory (cdc_key_state.h) and kept in step after either path commits, and the batch's
// transaction.
#include <algorithm>
#include <thread>

#include "plexus/pipeline/cdc_apply_internal.h"
#include "plexus/pipeline/cdc_parse.h"

namespace plexus::pipeline {
namespace {

using engine::QuoteIdentifier;

constexpr const char* kOp = internal::kCdcOp;
constexpr const char* kPos = internal::kCdcPos;

}  // namespace

bool CdcApplier::State::FastEligible() const {
  if (!internal::FastPathEnabled() || ports.size() != 1 || row_steps != nullptr) return false;
  for (const auto& c : ports[0].columns) {
    auto kind = internal::FastKindOf(c.type);
    if (!kind || (c.key && *kind == internal::FastKind::kDouble)) return false;
  }
  return true;
}

Result<const internal::IntKeyState*> CdcApplier::State::KeyStateInMemory() {
  const PortTables& p = ports[0];
  std::vector<const Column*> keys;
  for (const auto& c : p.columns) {
    if (c.key) keys.push_back(&c);
  }
  auto kind = keys.size() == 1 ? internal::FastKindOf(keys[0]->type) : std::nullopt;
  if (!kind || (*kind != internal::FastKind::kInt64 && *kind != internal::FastKind::kInt32 &&
                *kind != internal::FastKind::kInt16 && *kind != internal::FastKind::kInt8)) {
    return nullptr;
  }
  uint64_t writes = internal::KeyStateWrites(p.keys_table);
  if (key_state == nullptr || writes != key_state_writes) {
    key_state.reset();
    PLEXUS_ASSIGN_OR_RETURN(key_state, internal::IntKeyState::Load(
                                           *conn, p.keys_table, QuoteIdentifier(keys[0]->name)));
    key_state_writes = writes;
  }
  return key_state.get();
}

void CdcApplier::State::KeepKeyStateInStep() {
  if (key_state == nullptr) return;
  uint64_t writes = internal::KeyStateWrites(ports[0].keys_table);
  auto result = conn->Query("SELECT " + KeyNames(ports[0])[0] + ", " + kPos + ", " + kOp +
                            " = 'd' FROM " + Work("win0") + " WHERE NOT _cdc_stale ORDER BY 1");
  std::vector<int64_t> keys, positions;
  std::vector<uint8_t> deleted;
  bool read = writes == key_state_writes + 1 && result.ok();  // else someone else wrote too
  while (read) {
    auto chunk = (*result)->Fetch();
    if (!chunk.ok()) read = false;
    if (!read || !*chunk) break;
    engine::VectorRef key = (*chunk)->Column(0), position = (*chunk)->Column(1);
    engine::VectorRef is_delete = (*chunk)->Column(2);
    for (size_t r = 0; r < (*chunk)->size(); r++) {
      keys.push_back(key.Int64(r));
      positions.push_back(position.Int64(r));
      deleted.push_back(is_delete.Bool(r));
    }
  }
  if (!read) {
    key_state.reset();
    return;
  }
  key_state->Set(keys, key_state->Find(keys), positions, deleted,
                 std::vector<uint8_t>(keys.size(), 0));
  key_state_writes = writes;
  if (key_state->size() > internal::IntKeyState::kMaxKeys) key_state.reset();
}

Result<std::optional<ApplyReport>> CdcApplier::State::ApplyFast(
    const std::vector<std::string>& events, const SourceOffsets& offsets,
    std::unique_ptr<CdcParseAhead> parsed, Profile& prof) {
  const PortTables& p = ports[0];
  internal::FastTables tables{attach, p.table_name, p.table_name + "__cdc_keys",
                              Work("fkeys"), Work("fdrops")};
  auto mark = [&](const char* step) { prof.Mark(step); };
  std::unique_ptr<internal::ParsedBatch> batch;
  if (parsed != nullptr && parsed->state_->parsed != nullptr &&
      parsed->state_->parsed->Of(events, p.columns)) {
    batch = std::move(parsed->state_->parsed);
    mark("ahead");
  } else {
    batch = internal::ParseBatch(events, p.columns,
                                 std::max(1u, std::thread::hardware_concurrency()));
    mark("parse");
  }
  PLEXUS_ASSIGN_OR_RETURN(const internal::IntKeyState* in_memory, KeyStateInMemory());
  PLEXUS_ASSIGN_OR_RETURN(auto fast, internal::FastBatch::Prepare(*conn, std::move(batch),
                                                                  std::move(tables), in_memory,
                                                                  mark));
  if (!fast) return std::optional<ApplyReport>();
  PLEXUS_RETURN_IF_ERROR(conn->Execute("BEGIN TRANSACTION"));
  Status written = fast->Write(*conn, mark);
  if (written.ok() && !offsets.empty()) written = conn->Execute(OffsetsSql(offsets));
  if (written.ok()) written = conn->Execute("COMMIT");
  uint64_t writes = internal::BumpKeyStateWrites(p.keys_table);
  if (!written.ok()) {
    (void)conn->Execute("ROLLBACK");
    key_state.reset();  // loaded again from the table, which holds what was committed
    return written;
  }
  if (key_state != nullptr) {
    fast->Remember(*key_state);
    key_state_writes = writes;
    if (key_state->size() > internal::IntKeyState::kMaxKeys) key_state.reset();
  }
  prof.Mark("commit");
  PortTables& counted = ports[0];
  if (counted.live[0]) *counted.live[0] += fast->upserted() - fast->replaced_rows();
  if (counted.live[1]) *counted.live[1] += fast->upserted() + fast->deleted() - fast->replaced_keys();
  ApplyReport report;
  report.events = static_cast<int64_t>(events.size());
  report.upserted = fast->upserted();
  report.deleted = fast->deleted();
  report.stale = fast->stale();
  report.newest_event_ms = fast->newest_ts_ms();
  return std::optional<ApplyReport>(std::move(report));
}

CdcParseAhead::CdcParseAhead(std::unique_ptr<State> state) : state_(std::move(state)) {}
CdcParseAhead::~CdcParseAhead() = default;

void CdcParseAhead::Run(const std::vector<std::string>& events) {
  // The applier's thread writes the current batch meanwhile: the other cores parse.
  size_t threads = std::max(2u, std::thread::hardware_concurrency()) - 1;
  state_->parsed = internal::ParseBatch(events, state_->columns, threads);
}

std::unique_ptr<CdcParseAhead> CdcApplier::ParseAhead() const {
  if (!state_->FastEligible()) return nullptr;
  auto state = std::make_unique<CdcParseAhead::State>();
  state->columns = state_->ports[0].columns;
  return std::unique_ptr<CdcParseAhead>(new CdcParseAhead(std::move(state)));
}

}  // namespace plexus::pipeline
