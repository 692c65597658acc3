// TrustStore (socp/client_trust.h): pins kept across sessions, one JSON file per identity.
#include "core/client/private_file.h"
#include "socp/client_trust.h"
#include "socp/json.h"

namespace socp {
namespace {

Error corrupt(const std::string& path, const std::string& why) {
  return make_error(Errc::Corrupt, "unreadable trust file " + path + ": " + why +
                                       " (fix or remove it; it holds the keys you pinned)");
}

std::int64_t int_or_zero(const json::Value& v, const char* key) {
  const std::int64_t* i = json::get_int(v, key);
  return i ? *i : 0;
}

json::Value strings(const std::vector<std::string>& v) {
  json::Array a;
  for (const std::string& s : v) a.emplace_back(s);
  return json::Value(std::move(a));
}

}  // namespace

Result<std::shared_ptr<TrustStore>> TrustStore::open(std::string path) {
  auto store = std::make_shared<TrustStore>();
  store->path_ = path;
  auto text = client::read_private_file(path, kMaxFileBytes);
  if (!text) {
    if (text.code() == Errc::NotFound) return store;
    if (text.code() == Errc::Corrupt) return corrupt(path, "larger than 128 MiB");
    return text.error();
  }
  json::ParseLimits limits;
  limits.max_bytes = kMaxFileBytes;
  limits.max_depth = 8;
  auto v = json::parse(text.value(), limits);
  if (!v || !v->is_object()) return corrupt(path, v ? "not an object" : v.error().detail);
  const std::int64_t* ver = json::get_int(v.value(), "v");
  if (!ver || *ver != 1) return corrupt(path, "unknown version");

  if (const json::Value* servers = v->find("servers")) {
    if (!servers->is_object()) return corrupt(path, "'servers' is not an object");
    for (const auto& [address, entry] : servers->as_object()) {
      const std::string* pub = json::get_string(entry, "pubkey");
      const std::string* id = json::get_string(entry, "server_id");
      if (!pub || pub->empty()) return corrupt(path, "server " + address + " has no pubkey");
      if (store->servers_.size() >= kMaxServers) break;
      ServerPin pin;
      pin.pubkey = *pub;
      pin.server_id = id ? *id : std::string();
      pin.since = int_or_zero(entry, "since");
      if (const json::Value* caps = entry.find("caps"); caps && caps->is_array()) {
        for (const json::Value& c : caps->as_array()) {
          if (c.is_string()) pin.caps.push_back(c.as_string());
        }
      }
      store->servers_.emplace(address, std::move(pin));
    }
  }
  if (const json::Value* contacts = v->find("contacts")) {
    if (!contacts->is_object()) return corrupt(path, "'contacts' is not an object");
    for (const auto& [user_id, entry] : contacts->as_object()) {
      const std::string* pub = json::get_string(entry, "pubkey");
      if (!pub || pub->empty()) return corrupt(path, "contact " + user_id + " has no pubkey");
      if (store->contacts_.size() >= kMaxContacts) break;
      const std::string* name = json::get_string(entry, "display_name");
      store->contacts_.emplace(
          user_id, ContactPin{*pub, name ? *name : std::string(), int_or_zero(entry, "since")});
    }
  }
  return store;
}

const ServerPin* TrustStore::server(std::string_view address) const {
  auto it = servers_.find(address);
  return it == servers_.end() ? nullptr : &it->second;
}

void TrustStore::pin_server(const std::string& address, ServerPin pin) {
  auto it = servers_.find(address);
  if (it == servers_.end()) {
    if (servers_.size() >= kMaxServers) return;
    servers_.emplace(address, std::move(pin));
    dirty_ = true;
    return;
  }
  ServerPin& old = it->second;
  if (old.pubkey == pin.pubkey && old.server_id == pin.server_id && old.caps == pin.caps) return;
  if (old.pubkey == pin.pubkey && old.since != 0) pin.since = old.since;  // same key: same age
  old = std::move(pin);
  dirty_ = true;
}

bool TrustStore::forget_server(std::string_view address) {
  auto it = servers_.find(address);
  if (it == servers_.end()) return false;
  servers_.erase(it);
  dirty_ = true;
  return true;
}

const ContactPin* TrustStore::contact(std::string_view user_id) const {
  auto it = contacts_.find(user_id);
  return it == contacts_.end() ? nullptr : &it->second;
}

bool TrustStore::pin_contact(const std::string& user_id, ContactPin pin) {
  if (contacts_.count(user_id) || contacts_.size() >= kMaxContacts) return false;
  contacts_.emplace(user_id, std::move(pin));
  dirty_ = true;
  return true;
}

void TrustStore::set_contact_name(std::string_view user_id, const std::string& display_name) {
  auto it = contacts_.find(user_id);
  if (it == contacts_.end() || it->second.display_name == display_name) return;
  it->second.display_name = display_name;
  dirty_ = true;
}

Status TrustStore::save() {
  if (!dirty_) return ok_status();
  if (path_.empty()) {
    dirty_ = false;
    return ok_status();
  }
  json::Object servers;
  for (const auto& [address, pin] : servers_) {
    servers.emplace(address, json::Object{{"server_id", pin.server_id},
                                          {"pubkey", pin.pubkey},
                                          {"caps", strings(pin.caps)},
                                          {"since", pin.since}});
  }
  json::Object contacts;
  for (const auto& [id, pin] : contacts_) {
    contacts.emplace(
        id, json::Object{
                {"pubkey", pin.pubkey}, {"display_name", pin.display_name}, {"since", pin.since}});
  }
  json::Object root{{"v", 1}, {"servers", std::move(servers)}, {"contacts", std::move(contacts)}};
  SOCP_TRY(client::write_private_file(path_, json::canonical(json::Value(std::move(root))) + "\n"));
  dirty_ = false;
  return ok_status();
}

}  // namespace socp
