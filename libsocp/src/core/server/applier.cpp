// core::Applier (applier.h): outboxes, error policy, signature charging, per-turn commit.
#include "core/server/applier.h"

#include <algorithm>
#include <chrono>

#include "core/server/core_impl.h"
#include "core/server/error_policy.h"
#include "core/server/signed_context.h"
#include "socp/bytes.h"

namespace socp::core {

// ---- turns ------------------------------------------------------------------------------

void Applier::begin_turn(ConnId cause) {
  if (depth_++ == 0) {
    cause_ = cause;
    charged_interactive_ = charged_bulk_ = 0;
  }
}

void Applier::end_turn() {
  if (depth_ == 1 && !s_.receipts.empty()) s_.flush_receipts(false);
  if (--depth_ > 0) return;
  if (Conn* c = s_.conn(cause_)) {
    const std::int64_t now = s_.now();
    if (charged_interactive_ > 0) c->budget.interactive.charge(charged_interactive_, now);
    if (charged_bulk_ > 0) c->budget.bulk.charge(charged_bulk_, now);
    c->budget.charged += static_cast<std::uint64_t>(charged_interactive_ + charged_bulk_);
  }
  cause_ = 0;
  if (s_.cfg.commit_off_loop) {
    settle_commits();
    return;
  }
  commit_now();
}

void Applier::note_commit(const Status& st, double seconds) {
  // Wall time of the commit for /metrics only (nothing decides on it, so the injected clock
  // is not needed).
  s_.commit_seconds += seconds;
  ++s_.commit_count;
  if (!st.ok()) {
    s_.count(Counter::StoreCommitErrors);
    if (s_.store_ok) {
      s_.log(LogLevel::Error, "store commit failed (kept for the next turn): " + st.error().detail);
    }
    s_.store_ok = false;
    return;
  }
  if (!s_.store_ok) s_.log(LogLevel::Info, "store commits work again");
  s_.store_ok = true;
  s_.count(Counter::StoreCommits);
}

void Applier::commit_now() {
  if (s_.store.pending() == 0) return;
  const auto t0 = std::chrono::steady_clock::now();
  Status st = s_.store.commit();
  note_commit(st, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// ---- commits off the loop thread (ServerConfig::commit_off_loop) --------------------------
// Every frame records the store epoch open when it was queued (OutFrame::need_epoch) and
// leaves once that epoch is committed. A turn's writes land in the open epoch, so its frames
// wait for them; a turn that writes nothing still waits for the commit in flight (it may
// answer from state that commit makes durable). One commit is in flight at a time, and all
// writes made meanwhile form the next one (group commit: one fsync for many turns).

void Applier::settle_commits() {
  if (s_.commit_in_flight) return;
  if (s_.store.pending() == 0) {
    s_.committed_epoch = s_.store.open_epoch();
    s_.store.skip_epoch();
    flush_all();
    return;
  }
  if (!s_.store_ok && s_.now() < s_.commit_retry_at) return;  // the store failed a moment ago
  start_commit();
}

void Applier::start_commit() {
  auto [batch, epoch] = s_.store.take();
  s_.commit_in_flight = batch;
  s_.commit_epoch = epoch;
  s_.commit_started = std::chrono::steady_clock::now();
  Action a;
  a.kind = Action::Kind::Commit;
  a.batch = std::move(batch);
  a.store = &s_.store.backing();
  a.epoch = epoch;
  actions_.push_back(std::move(a));
}

void Applier::commit_done(std::uint64_t epoch, const Status& st) {
  if (!s_.commit_in_flight || epoch != s_.commit_epoch) return;  // not ours
  note_commit(
      st,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s_.commit_started).count());
  if (st.ok()) {
    s_.store.committed(epoch);
  } else {
    s_.store.requeue(*s_.commit_in_flight);
    s_.commit_retry_at = s_.now() + 1000;
  }
  // Released even when the commit failed, as an in-turn commit that fails releases its turn.
  s_.committed_epoch = std::max(s_.committed_epoch, epoch);
  s_.commit_in_flight.reset();
  flush_all();
}

// ---- effects ----------------------------------------------------------------------------

std::uint64_t lane_of(const std::string& user_id) {
  // FNV-1a with the top bit set: never 0 and never a ConnId (those stay far below 2^63).
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : user_id) h = (h ^ ch) * 1099511628211ull;
  return h | (1ull << 63);
}

std::shared_ptr<SignedPayload> Applier::sign(json::Value payload, bool bulk, bool cacheable,
                                             std::uint64_t lane) {
  auto sp = s_.signer.get(std::move(payload), bulk, cacheable, lane != 0 ? lane : cause_);
  if (s_.signer.fresh()) (bulk ? charged_bulk_ : charged_interactive_) += 1;
  return sp;
}

std::shared_ptr<SignedPayload> Applier::send(ConnId conn, MessageType type, const std::string& to,
                                             json::Value payload, SendOpts o) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing) return nullptr;
  const Dialect d = s_.dialect_of(*c);
  std::int64_t ts = o.ts ? *o.ts : s_.next_ts();
  if (auto dts = envelope_ts_for(d, type, payload)) ts = *dts;
  if (d != Dialect::Socp && encode_for(d, type, payload, s_.self_id, s_.keys)) {
    s_.count(Counter::DialectOut);
  }
  auto sp = sign(with_context(std::move(payload), to_string(type), s_.self_id, to, ts), o.bulk,
                 false, o.lane);
  send_signed_payload(conn, type, to, ts, sp, o.bulk, o.lane);
  return sp;
}

void Applier::send_signed_payload(ConnId conn, MessageType type, const std::string& to,
                                  std::int64_t ts, std::shared_ptr<SignedPayload> sp, bool bulk,
                                  std::uint64_t lane) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing) return;
  OutFrame f;
  f.header.type = type;
  f.header.type_name = std::string(to_string(type));
  f.header.from = s_.self_id;
  f.header.to = to;
  f.header.ts = ts;
  f.sp = std::move(sp);
  f.bulk = bulk;
  f.lane = lane;
  enqueue(*c, std::move(f));
}

void Applier::enqueue(Conn& c, OutFrame f) {
  if (s_.cfg.commit_off_loop) f.need_epoch = s_.store.open_epoch();
  if (f.bulk) {
    ++c.bulk_queued;
  } else {
    ++c.lane_frames[f.lane];
  }
  c.outbox.push_back(std::move(f));
  flush(c.id);
}

void Applier::send_unsigned(ConnId conn, MessageType type, const std::string& to,
                            json::Value payload) {
  auto sp = std::make_shared<SignedPayload>();
  sp->payload = std::move(payload);
  sp->ready = true;
  send_signed_payload(conn, type, to, s_.next_ts(), std::move(sp), false);
}

bool Applier::relay_bulk_chunk(ConnId conn, const std::string& to, json::Value payload) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing || !takes_bulk(s_, *c)) return false;
  auto sp = std::make_shared<SignedPayload>();
  sp->payload = std::move(payload);
  sp->ready = true;  // no signature: see the header
  s_.count(Counter::FileBulkChunksRelayed);
  send_signed_payload(conn, MessageType::FileBulkChunk, to, s_.now(), std::move(sp), true);
  return true;
}

void Applier::forward(ConnId conn, const Envelope& env) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing) return;
  OutFrame f;
  f.header = env;
  f.header.payload = json::Object{};
  f.sp = std::make_shared<SignedPayload>();
  f.sp->payload = env.payload;
  f.sp->sig = env.sig;
  f.sp->ready = true;
  s_.count(Counter::FramesForwarded);
  enqueue(*c, std::move(f));
}

void Applier::error(ConnId conn, Errc code, const std::string& detail, ErrorOpts o) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing) return;
  s_.count(Counter::ErrorsSent);
  ++s_.errors_by_code[std::string(wire_code(code))];
  const bool proven = c->role == Role::User || c->role == Role::Server;
  if (!proven) {
    // Fixed payload, no signed context: signed once per process, nothing echoed.
    s_.log(LogLevel::Debug, "error to unauthenticated " + s_.who(conn) + ": " +
                                std::string(wire_code(code)) + " " + detail);
    const std::string to = is_uuid(o.to) ? o.to : std::string("*");
    auto sp = sign(fixed_error_payload(code, o.msg_ref), false, /*cacheable=*/true);
    send_signed_payload(conn, MessageType::Error, to, s_.next_ts(), std::move(sp), false);
  } else {
    if (c->role == Role::User) {
      const std::int64_t now = s_.now();
      if (now - c->error_window_start > kErrorWindowMs) {
        c->error_window_start = now;
        c->errors_in_window = 0;
      }
      if (++c->errors_in_window > kMaxErrorsPerWindow) {
        s_.log(LogLevel::Info, "closing user " + c->user_id + ": too many errors");
        close(conn, 1008, "too many errors");
        return;
      }
    }
    json::Object p = std::move(o.extra);
    p["code"] = std::string(wire_code(code));
    p["detail"] = clip_detail(detail);
    if (!o.msg_ref.empty()) p["msg_ref"] = clip_detail(o.msg_ref);
    const std::string to =
        !o.to.empty() ? o.to : (c->role == Role::User ? c->user_id : c->server_id);
    send(conn, MessageType::Error, to, json::Value(std::move(p)));
  }
  if (o.fatal) {
    close(conn, o.close_code,
          o.close_reason.empty() ? std::string(wire_code(code)) : o.close_reason);
  }
}

void Applier::close(ConnId conn, int code, const std::string& reason) {
  Conn* c = s_.conn(conn);
  if (!c || c->closing) return;
  c->closing = true;
  c->close_code = code;
  c->close_reason = reason;
  flush(conn);  // emits the Close once frames already queued (e.g. an ERROR) are written
}

void Applier::connect(ConnId conn, const std::string& host, std::uint16_t port) {
  Action a;
  a.kind = Action::Kind::Connect;
  a.conn = conn;
  a.host = host;
  a.port = port;
  actions_.push_back(std::move(a));
}

void Applier::run_job(Job job) {
  Action a;
  a.kind = Action::Kind::RunJob;
  a.job = std::move(job);
  actions_.push_back(std::move(a));
}

void Applier::frame_limit(ConnId conn, std::size_t limit) {
  Action a;
  a.kind = Action::Kind::SetFrameLimit;
  a.conn = conn;
  a.limit = limit;
  actions_.push_back(std::move(a));
}

void Applier::flush(ConnId id) {
  Conn* c = s_.conn(id);
  if (!c || c->close_emitted) {
    waiting_.erase(id);
    return;
  }
  // Queue order, except that a bulk frame (file traffic) still waiting for its signature does
  // not hold back the non-bulk frames behind it; bulk frames keep their own order. Once
  // blocked, the scan stops as soon as only bulk frames are left. On a server link, order is
  // kept per lane (SendOpts::lane): a frame waits only for earlier frames of its own lane.
  // A user's connection keeps one order (a client sees its login answers before anything).
  const bool by_lane = c->role == Role::Server;
  std::vector<std::uint64_t> waiting;  // lanes with an earlier frame still unsigned
  bool bulk_blocked = false;
  auto drop = [c](const OutFrame& f) {
    if (f.bulk) {
      --c->bulk_queued;
    } else if (auto n = c->lane_frames.find(f.lane);
               n != c->lane_frames.end() && --n->second == 0) {
      c->lane_frames.erase(n);
    }
  };
  for (auto it = c->outbox.begin(); it != c->outbox.end();) {
    if (bulk_blocked && c->bulk_queued == c->outbox.size()) break;
    if (!waiting.empty() && waiting.size() == c->lane_frames.size() &&
        (bulk_blocked || c->bulk_queued == 0)) {
      break;  // every lane still here waits: nothing behind can leave
    }
    OutFrame& f = *it;
    if (f.sp->failed) {
      drop(f);
      it = c->outbox.erase(it);
      continue;
    }
    const bool ready = f.sp->ready && f.need_epoch <= s_.committed_epoch;
    if (f.bulk && (bulk_blocked || !ready)) {
      bulk_blocked = true;
      ++it;
      continue;
    }
    const bool lane_waits =
        by_lane && std::find(waiting.begin(), waiting.end(), f.lane) != waiting.end();
    if (!ready || lane_waits) {
      if (!by_lane) break;
      if (!lane_waits) waiting.push_back(f.lane);
      ++it;
      continue;
    }
    Envelope env = std::move(f.header);
    if (env.type) ++s_.frames_out_by_type[std::string(to_string(*env.type))];
    env.payload = f.sp->payload;
    env.sig = f.sp->sig;
    Action a;
    a.kind = Action::Kind::Send;
    a.conn = id;
    a.text = serialize(env);
    actions_.push_back(std::move(a));
    drop(f);
    it = c->outbox.erase(it);
    s_.count(Counter::FramesOut);
  }
  if (c->outbox.empty()) {
    waiting_.erase(id);
  } else {
    waiting_.insert(id);
  }
  if (c->closing && !c->close_emitted && c->outbox.empty()) {
    c->close_emitted = true;
    Action a;
    a.kind = Action::Kind::Close;
    a.conn = id;
    a.close_code = c->close_code;
    a.text = c->close_reason;
    actions_.push_back(std::move(a));
  }
}

void Applier::flush_all() {
  const std::vector<ConnId> ids(waiting_.begin(), waiting_.end());
  for (ConnId id : ids) flush(id);
}

std::vector<Action> Applier::take() {
  std::vector<Action> out;
  out.swap(actions_);
  return out;
}

}  // namespace socp::core
