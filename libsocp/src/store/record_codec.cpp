#include "store/record_codec.h"

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "codec/utf8.h"
#include "socp/json.h"

namespace socp::store {
namespace {

using Field = std::pair<std::string_view, const std::string*>;

// Every string field must be UTF-8 because it is stored as a JSON string.
Status check_utf8(std::initializer_list<Field> fields) {
  for (const auto& [name, value] : fields) {
    if (!codec::valid_utf8(*value))
      return make_error(Errc::InvalidArgument, std::string(name) + " is not valid UTF-8");
  }
  return ok_status();
}

Status check_key(std::string_view name, const std::string& id) {
  if (id.empty()) return make_error(Errc::InvalidArgument, std::string(name) + " is empty");
  if (id.size() > kMaxKeyBytes)
    return make_error(Errc::InvalidArgument, std::string(name) + " is longer than 511 bytes");
  return ok_status();
}

// Strict reader over a decoded record object: the first missing or mistyped field is
// remembered and reported once, so the decoders stay a flat list of fields.
class Reader {
 public:
  Reader(std::string_view table, std::string_view bytes) : table_(table) {
    json::ParseLimits limits;
    limits.max_bytes = bytes.size() + 1;
    limits.max_string = bytes.size() + 1;
    limits.max_depth = 2;
    auto parsed = json::parse(bytes, limits);
    if (!parsed.ok()) {
      fail("not JSON (" + parsed.error().detail + ")");
    } else if (!parsed->is_object()) {
      fail("not a JSON object");
    } else {
      obj_ = std::move(parsed).value();
    }
  }

  void str(std::string_view key, std::string& out) {
    if (!error_.empty()) return;
    const std::string* s = json::get_string(obj_, key);
    if (s == nullptr) return fail("field '" + std::string(key) + "' missing or not a string");
    out = *s;
  }
  void i64(std::string_view key, std::int64_t& out) {
    if (!error_.empty()) return;
    const std::int64_t* i = json::get_int(obj_, key);
    if (i == nullptr) return fail("field '" + std::string(key) + "' missing or not an integer");
    out = *i;
  }
  void u64(std::string_view key, std::uint64_t& out) {
    std::int64_t v = 0;
    i64(key, v);
    out = static_cast<std::uint64_t>(v);  // stored bit-for-bit, see record_codec.h
  }
  void u16(std::string_view key, std::uint16_t& out) {
    std::int64_t v = 0;
    i64(key, v);
    if (!error_.empty()) return;
    if (v < 0 || v > 65535) return fail("field '" + std::string(key) + "' out of range");
    out = static_cast<std::uint16_t>(v);
  }

  // Fields added after schema "1" was first written: absent in older records.
  void opt_i64(std::string_view key, std::int64_t& out) {
    if (!error_.empty() || obj_.find(std::string(key)) == nullptr) return;
    i64(key, out);
  }
  void opt_str(std::string_view key, std::string& out) {
    if (!error_.empty() || obj_.find(std::string(key)) == nullptr) return;
    str(key, out);
  }
  void opt_bool(std::string_view key, bool& out) {
    if (!error_.empty()) return;
    const json::Value* v = obj_.find(std::string(key));
    if (v == nullptr) return;
    if (!v->is_bool()) return fail("field '" + std::string(key) + "' is not a boolean");
    out = v->as_bool();
  }

  template <typename T>
  Result<T> finish(T rec) {
    if (!error_.empty()) return make_error(Errc::Corrupt, error_);
    return rec;
  }

 private:
  void fail(const std::string& why) {
    if (error_.empty())
      error_ = "undecodable record in table '" + std::string(table_) + "': " + why;
  }

  std::string_view table_;
  json::Value obj_;
  std::string error_;
};

std::int64_t as_i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

}  // namespace

Status validate_setting(std::string_view key, std::string_view value) {
  if (key.empty() || key.size() > 200) {
    return make_error(Errc::InvalidArgument, "setting key must have 1..200 bytes");
  }
  if (value.size() > (64u << 10)) {
    return make_error(Errc::InvalidArgument, "setting value longer than 64 KiB");
  }
  if (!codec::valid_utf8(key) || !codec::valid_utf8(value)) {
    return make_error(Errc::InvalidArgument, "setting is not valid UTF-8");
  }
  return ok_status();
}

std::string setting_key(std::string_view key) {
  return "setting/" + std::string(key);
}

Status validate(const QueuedMessage& m) {
  if (m.queue.empty() || m.queue.size() > 400 || m.queue.find('\0') != std::string::npos) {
    return make_error(Errc::InvalidArgument, "queue name must have 1..400 bytes, no NUL");
  }
  if (m.body.size() > (4u << 20))
    return make_error(Errc::InvalidArgument, "queued body over 4 MiB");
  return check_utf8({{"queue", &m.queue}, {"body", &m.body}});
}

std::string queued_key(std::string_view queue, std::uint64_t seq) {
  std::string k(queue);
  k.push_back('\0');
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((seq >> (8 * i)) & 0xff));
  return k;
}

std::string encode(const QueuedMessage& m) {
  return json::canonical(json::Object{{"body", m.body}, {"at", m.at}});
}

Result<QueuedMessage> decode_queued(std::string_view key, std::string_view bytes) {
  const auto nul = key.find('\0');
  if (nul == std::string_view::npos || key.size() != nul + 9) {
    return make_error(Errc::Corrupt, "undecodable key in table 'queue'");
  }
  Reader rd("queue", bytes);
  QueuedMessage m;
  m.queue = std::string(key.substr(0, nul));
  for (std::size_t i = nul + 1; i < key.size(); ++i) {
    m.seq = (m.seq << 8) | static_cast<unsigned char>(key[i]);
  }
  rd.str("body", m.body);
  rd.i64("at", m.at);
  return rd.finish(std::move(m));
}

bool valid_key(std::string_view id) noexcept {
  return !id.empty() && id.size() <= kMaxKeyBytes;
}

std::string member_prefix(std::string_view group_id) {
  std::string k(group_id);
  k.push_back('\0');
  return k;
}

std::string member_key(std::string_view group_id, std::string_view member_id) {
  std::string k = member_prefix(group_id);
  k.append(member_id);
  return k;
}

Status validate(const UserRecord& r) {
  SOCP_TRY(check_key("user_id", r.user_id));
  return check_utf8({{"user_id", &r.user_id},
                     {"pubkey", &r.pubkey},
                     {"privkey_store", &r.privkey_store},
                     {"pake_hash", &r.pake_hash},
                     {"meta_json", &r.meta_json}});
}

Status validate(const DirectoryRecord& r) {
  SOCP_TRY(check_key("user_id", r.user_id));
  return check_utf8({{"user_id", &r.user_id},
                     {"pubkey", &r.pubkey},
                     {"server_id", &r.server_id},
                     {"meta_json", &r.meta_json}});
}

Status validate(const ServerRecord& r) {
  SOCP_TRY(check_key("server_id", r.server_id));
  return check_utf8({{"server_id", &r.server_id},
                     {"host", &r.host},
                     {"pubkey", &r.pubkey},
                     {"introduced_by", &r.introduced_by},
                     {"dialect", &r.dialect}});
}

Status validate(const GroupRecord& r) {
  SOCP_TRY(check_key("group_id", r.group_id));
  return check_utf8(
      {{"group_id", &r.group_id}, {"creator_id", &r.creator_id}, {"meta_json", &r.meta_json}});
}

Status validate(const GroupMemberRecord& r) {
  SOCP_TRY(check_key("group_id", r.group_id));
  SOCP_TRY(check_key("member_id", r.member_id));
  if (r.group_id.find('\0') != std::string::npos)
    return make_error(Errc::InvalidArgument, "group_id contains a NUL byte");
  if (r.group_id.size() + 1 + r.member_id.size() > kMaxKeyBytes)
    return make_error(Errc::InvalidArgument, "group_id + member_id longer than 510 bytes");
  return check_utf8({{"group_id", &r.group_id},
                     {"member_id", &r.member_id},
                     {"role", &r.role},
                     {"wrapped_key", &r.wrapped_key}});
}

Status validate(const ServerIdentity& id) {
  return check_utf8({{"server_id", &id.server_id}, {"private_key_pem", &id.private_key_pem}});
}

std::string encode(const UserRecord& r) {
  return json::canonical(json::Object{{"user_id", r.user_id},
                                      {"pubkey", r.pubkey},
                                      {"privkey_store", r.privkey_store},
                                      {"pake_hash", r.pake_hash},
                                      {"meta_json", r.meta_json},
                                      {"version", as_i64(r.version)},
                                      {"created_at", r.created_at},
                                      {"tofu", r.tofu}});
}

std::string encode(const DirectoryRecord& r) {
  return json::canonical(json::Object{{"user_id", r.user_id},
                                      {"pubkey", r.pubkey},
                                      {"server_id", r.server_id},
                                      {"meta_json", r.meta_json},
                                      {"version", as_i64(r.version)},
                                      {"last_login", r.last_login}});
}

std::string encode(const ServerRecord& r) {
  return json::canonical(json::Object{{"server_id", r.server_id},
                                      {"host", r.host},
                                      {"port", static_cast<int>(r.port)},
                                      {"pubkey", r.pubkey},
                                      {"last_seen", r.last_seen},
                                      {"socp", r.socp},
                                      {"introduced_by", r.introduced_by},
                                      {"dialect", r.dialect}});
}

std::string encode(const GroupRecord& r) {
  return json::canonical(json::Object{{"group_id", r.group_id},
                                      {"creator_id", r.creator_id},
                                      {"meta_json", r.meta_json},
                                      {"created_at", r.created_at},
                                      {"version", as_i64(r.version)}});
}

std::string encode(const GroupMemberRecord& r) {
  return json::canonical(json::Object{{"group_id", r.group_id},
                                      {"member_id", r.member_id},
                                      {"role", r.role},
                                      {"wrapped_key", r.wrapped_key},
                                      {"added_at", r.added_at}});
}

std::string encode(const ServerIdentity& id) {
  return json::canonical(
      json::Object{{"server_id", id.server_id}, {"private_key_pem", id.private_key_pem}});
}

Result<UserRecord> decode_user(std::string_view bytes) {
  Reader rd("users", bytes);
  UserRecord r;
  rd.str("user_id", r.user_id);
  rd.str("pubkey", r.pubkey);
  rd.str("privkey_store", r.privkey_store);
  rd.str("pake_hash", r.pake_hash);
  rd.str("meta_json", r.meta_json);
  rd.u64("version", r.version);
  rd.i64("created_at", r.created_at);
  rd.opt_bool("tofu", r.tofu);
  return rd.finish(std::move(r));
}

Result<DirectoryRecord> decode_directory(std::string_view bytes) {
  Reader rd("directory", bytes);
  DirectoryRecord r;
  rd.str("user_id", r.user_id);
  rd.str("pubkey", r.pubkey);
  rd.str("server_id", r.server_id);
  rd.str("meta_json", r.meta_json);
  rd.u64("version", r.version);
  rd.opt_i64("last_login", r.last_login);
  return rd.finish(std::move(r));
}

Result<ServerRecord> decode_server(std::string_view bytes) {
  Reader rd("servers", bytes);
  ServerRecord r;
  rd.str("server_id", r.server_id);
  rd.str("host", r.host);
  rd.u16("port", r.port);
  rd.str("pubkey", r.pubkey);
  rd.i64("last_seen", r.last_seen);
  rd.opt_bool("socp", r.socp);
  rd.opt_str("introduced_by", r.introduced_by);
  rd.opt_str("dialect", r.dialect);
  return rd.finish(std::move(r));
}

Result<GroupRecord> decode_group(std::string_view bytes) {
  Reader rd("groups", bytes);
  GroupRecord r;
  rd.str("group_id", r.group_id);
  rd.str("creator_id", r.creator_id);
  rd.str("meta_json", r.meta_json);
  rd.i64("created_at", r.created_at);
  rd.u64("version", r.version);
  return rd.finish(std::move(r));
}

Result<GroupMemberRecord> decode_group_member(std::string_view bytes) {
  Reader rd("group_members", bytes);
  GroupMemberRecord r;
  rd.str("group_id", r.group_id);
  rd.str("member_id", r.member_id);
  rd.str("role", r.role);
  rd.str("wrapped_key", r.wrapped_key);
  rd.i64("added_at", r.added_at);
  return rd.finish(std::move(r));
}

Result<ServerIdentity> decode_identity(std::string_view bytes) {
  Reader rd("meta", bytes);
  ServerIdentity id;
  rd.str("server_id", id.server_id);
  rd.str("private_key_pem", id.private_key_pem);
  return rd.finish(std::move(id));
}

}  // namespace socp::store
