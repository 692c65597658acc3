// Trust across sessions: contact pins loaded from the trust store, new pins written back,
// and the server key checked against --server-key and the key pinned for this address.
#include "core/client/client_events.h"
#include "core/client/client_impl.h"

namespace socp {
namespace {

constexpr std::int64_t kSaveIntervalMs = 1000;

std::string short_fp(const std::string& hex) {
  return format_fingerprint(hex.substr(0, 16)) + "…";
}

}  // namespace

void ClientCore::Impl::load_trust() {
  dir.configure(cfg.trust.get(), cfg.clock);
  if (!cfg.server_key.empty()) {
    auto k = PublicKey::parse(cfg.server_key);
    if (k) {
      expected_server_key = std::move(k).value();
    } else {
      // Refused at once in start_session(): an unusable expected key must not mean "any".
      emit(client::ev::warning("the expected server key is not a usable RSA-4096 key: " +
                               k.error().detail));
    }
  }
  if (!cfg.trust) return;
  // Parsed when first needed (ClientDirectory::preload): a start with 10,000 pins stays quick.
  for (const auto& [id, pin] : cfg.trust->contacts()) {
    dir.preload(id, pin.display_name, pin.pubkey, pin.since);
  }
}

void ClientCore::Impl::persist(bool force) {
  if (!cfg.trust || !cfg.trust->dirty()) return;
  if (!force && now() - last_save < kSaveIntervalMs) return;
  last_save = now();
  Status st = cfg.trust->save();
  if (!st && !save_warned) {
    save_warned = true;  // once: the session goes on, its pins last until it ends
    emit(client::ev::warning("cannot save pinned keys: " + st.error().detail));
  }
}

const ServerPin* ClientCore::Impl::server_pin() const {
  if (!cfg.trust || cfg.server_label.empty()) return nullptr;
  return cfg.trust->server(cfg.server_label);
}

bool ClientCore::Impl::accept_server_key(const std::string& id, const PublicKey& offered,
                                         std::vector<std::string> caps) {
  const std::string& addr = cfg.server_label;
  const std::string where = addr.empty() ? std::string("the server") : "the server at " + addr;
  const std::string offered_fp = offered.fingerprint_hex();
  if (!cfg.server_key.empty()) {
    if (!expected_server_key || *expected_server_key != offered) {
      const std::string want = expected_server_key ? expected_server_key->fingerprint_hex() : "";
      emit(client::ev::server_key_changed(addr, id, want, 0, offered, "option"));
      fail(ClientOutcome::AuthFailed, "SERVER_KEY_CHANGED",
           where + " presents key " + short_fp(offered_fp) +
               ", not the key given with --server-key" +
               (want.empty() ? std::string() : " (" + short_fp(want) + ")") +
               "; refusing to log in",
           "USER_HELLO");
      return false;
    }
  } else if (const ServerPin* pin = server_pin()) {
    auto pinned = PublicKey::parse(pin->pubkey);
    if (!pinned || *pinned != offered) {
      const std::string pinned_fp = pinned ? pinned->fingerprint_hex() : std::string();
      if (!cfg.accept_new_server_key) {
        emit(client::ev::server_key_changed(addr, id, pinned_fp, pin->since, offered, "pinned"));
        fail(ClientOutcome::AuthFailed, "SERVER_KEY_CHANGED",
             where + " presents a different key (" + short_fp(offered_fp) +
                 ") than the one pinned for it (" + short_fp(pinned_fp) +
                 "); refusing to log in. If the server really got a new key, accept it "
                 "deliberately: socp-cli forget-server " +
                 addr + " (or log in once with --accept-new-server-key)",
             "USER_HELLO");
        return false;
      }
      emit(client::ev::warning("accepted a NEW key for " + where + " (--accept-new-server-key): " +
                               short_fp(pinned_fp) + " replaced by " + short_fp(offered_fp)));
    }
  }
  if (cfg.trust && !addr.empty()) {
    cfg.trust->pin_server(addr, ServerPin{id, offered.b64url(), std::move(caps), now()});
    persist(true);
  }
  return true;
}

}  // namespace socp
