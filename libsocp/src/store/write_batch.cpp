// WriteBatch: an ordered list of typed writes that a Store applies in one transaction.
#include <utility>

#include "socp/store.h"

namespace socp {

using Kind = WriteBatch::Op::Kind;

void WriteBatch::put_user(UserRecord r) {
  std::string key = r.user_id;
  ops_.push_back({Kind::PutUser, std::move(key), std::move(r)});
}
void WriteBatch::delete_user(std::string user_id) {
  ops_.push_back({Kind::DeleteUser, std::move(user_id), std::monostate{}});
}
void WriteBatch::put_directory(DirectoryRecord r) {
  std::string key = r.user_id;
  ops_.push_back({Kind::PutDirectory, std::move(key), std::move(r)});
}
void WriteBatch::delete_directory(std::string user_id) {
  ops_.push_back({Kind::DeleteDirectory, std::move(user_id), std::monostate{}});
}
void WriteBatch::put_server(ServerRecord r) {
  std::string key = r.server_id;
  ops_.push_back({Kind::PutServer, std::move(key), std::move(r)});
}
void WriteBatch::delete_server(std::string server_id) {
  ops_.push_back({Kind::DeleteServer, std::move(server_id), std::monostate{}});
}
void WriteBatch::put_group(GroupRecord r) {
  std::string key = r.group_id;
  ops_.push_back({Kind::PutGroup, std::move(key), std::move(r)});
}
void WriteBatch::put_group_member(GroupMemberRecord r) {
  std::string key = r.group_id + '\0' + r.member_id;
  ops_.push_back({Kind::PutGroupMember, std::move(key), std::move(r)});
}

void WriteBatch::put_setting(std::string key, std::string value) {
  ops_.push_back({Kind::PutSetting, std::move(key), std::move(value)});
}
void WriteBatch::delete_setting(std::string key) {
  ops_.push_back({Kind::DeleteSetting, std::move(key), std::monostate{}});
}

void WriteBatch::put_queued(QueuedMessage m) {
  std::string key = m.queue;
  ops_.push_back({Kind::PutQueued, std::move(key), std::move(m)});
}
void WriteBatch::delete_queued(std::string queue, std::uint64_t seq) {
  QueuedMessage m;
  m.queue = queue;
  m.seq = seq;
  ops_.push_back({Kind::DeleteQueued, std::move(queue), std::move(m)});
}

}  // namespace socp
