#include "forget.h"

#include "prepare.h"
#include "printer.h"
#include "socp/client_trust.h"
#include "socp/crypto.h"
#include "socp/identity.h"

namespace socp::cli {

int run_forget_server(const Options& opt) {
  Printer printer(opt.json, opt.no_color);
  if (Status st = identity::validate_display_name(opt.name); !st) {
    printer.local_error("USAGE", st.error().detail);
    return kExitUsage;
  }
  auto home = identity::resolve_home(opt.home);
  if (!home) {
    printer.local_error("USAGE", home.error().detail);
    return kExitUsage;
  }
  const std::string addr = canonical_address(opt.forget_address);
  auto store = TrustStore::open(trust_path(home.value(), opt.name));
  if (!store) {
    printer.local_error("IO", store.error().detail);
    return kExitUsage;
  }
  TrustStore& t = *store.value();
  const ServerPin* pin = t.server(addr);
  json::Object e{{"event", "server_forgotten"}, {"server", addr}, {"forgotten", pin != nullptr}};
  if (pin) {
    auto key = PublicKey::parse(pin->pubkey);
    e["server_id"] = pin->server_id;
    e["fingerprint"] = key ? key->fingerprint_hex() : std::string();
    t.forget_server(addr);
    if (Status st = t.save(); !st) {
      printer.local_error("IO", st.error().detail);
      return kExitUsage;
    }
  }
  printer.print(json::Value(std::move(e)));
  return kExitOk;
}

}  // namespace socp::cli
