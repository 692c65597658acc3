// ClientCore harnesses: alice's client against a scripted server_a, in three phases (logging
// in, logged in, files in flight). See fuzz_harness.h for the operations.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "core/client/client_files.h"
#include "fuzz_harness.h"
#include "fuzz_world.h"
#include "socp/bytes.h"
#include "socp/client_core.h"
#include "socp/client_trust.h"
#include "socp/messages.h"

namespace socp::fuzz {
namespace {

namespace fs = std::filesystem;

// A folder under /tmp for this process: the file alice sends and her download folder.
// Removed when the process exits.
struct TempTree {
  std::string root, out_file, downloads;
  TempTree() {
    std::string tmpl = (fs::temp_directory_path() / "socp-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) finding("cannot create a temp folder");
    root = tmpl;
    out_file = root + "/report.txt";
    downloads = root + "/downloads";
    std::ofstream(out_file, std::ios::binary) << std::string(4000, 'r');  // 9 chunks
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  void clean_downloads() const {
    std::error_code ec;
    fs::remove_all(downloads, ec);
  }
};

// Frames every world starts from, made once per process.
struct Fixtures {
  std::string ack_hello, ack_register, adv_bob, adv_carol, file_start;
  TempTree tmp;

  Fixtures() {
    const PrivateKey& sa = key("server_a");
    msg::Ack a;
    a.msg_ref = "USER_HELLO";
    a.server_id = kServerA;
    a.server_pub = sa.public_key().b64url();
    ack_hello = signed_frame(MessageType::Ack, kAlice, kAlice, kT0, a.to_json(), sa);
    msg::Ack r;
    r.msg_ref = "USER_REGISTER";
    ack_register = signed_frame(MessageType::Ack, kServerA, kAlice, kT0, r.to_json(), sa);
    adv_bob = advertise(kBob, "bob", key("bob"));
    adv_carol = advertise(kCarol, "carol", key("server_b"));
    file_start = incoming_file_start();
  }

  static std::string advertise(const std::string& id, const std::string& name,
                               const PrivateKey& k) {
    msg::UserAdvertise ad;
    ad.user_id = id;
    ad.server_id = kServerA;
    ad.pubkey = k.public_key().b64url();
    ad.meta = json::Object{{"display_name", name}};
    return signed_frame(MessageType::UserAdvertise, kServerA, kAlice, kT0, ad.to_json(),
                        key("server_a"));
  }

  // bob → alice: "notes.txt", 1000 bytes in 3 chunks (the chunks come from the seeds).
  static std::string incoming_file_start() {
    const std::string data(1000, 'n');
    const std::string sha = hex_encode(sha256(data));
    const std::string manifest =
        client::file_manifest_bytes(kIncomingFile, kBob, "dm", "notes.txt", sha, 1000, kAlice);
    auto sig = key("bob").sign(manifest);
    if (!sig) finding("cannot sign the manifest");
    json::Object p{{"file_id", kIncomingFile},
                   {"name", "notes.txt"},
                   {"size", 1000},
                   {"sha256", sha},
                   {"mode", "dm"},
                   {"sender", kBob},
                   {"sender_pub", key("bob").public_key().b64url()},
                   {"content_sig", b64url_encode(sig.value())}};
    return signed_frame(MessageType::FileStart, kServerA, kAlice, kT0, json::Value(std::move(p)),
                        key("server_a"));
  }
};

const Fixtures& fixtures() {
  static const Fixtures f;
  return f;
}

class Session {
 public:
  explicit Session(ClientMode mode, std::shared_ptr<TrustStore> trust = nullptr) {
    ClientConfig cfg;
    cfg.trust = std::move(trust);
    cfg.mode = mode;
    cfg.user_id = kAlice;
    cfg.display_name = "alice";
    cfg.key = key("alice");
    cfg.server_label = "127.0.0.1:8765";
    cfg.clock = [this] { return now_; };
    cfg.download_dir = fixtures().tmp.downloads;
    cfg.max_file_size = 64 * 1024;   // commands may name any local file
    cfg.file_chunks_per_second = 2;  // an outgoing file stays in flight across ticks
    if (mode == ClientMode::Register) {
      cfg.privkey_store = "{\"v\":1}";
      cfg.pake_password = "verifier-of-alice";
    }
    core_ = std::make_unique<ClientCore>(std::move(cfg));
  }

  ClientCore& core() { return *core_; }

  void connect() {
    core_->on_connected();
    drain();
  }
  void frame(std::string_view f) {
    core_->on_frame(f);
    drain();
  }
  void command(std::string_view line) {
    core_->command(line);
    drain();
  }

  void run(std::string_view script) {
    for (const Record& r : split_script(script)) {
      if (closed_) break;
      switch (r.op) {
        case 'F':
          frame(r.body);
          break;
        case 'f':
          frame(resign(r.body, key("server_a")));
          break;
        case 'C':
          command(r.body);
          break;
        case 'T':
          now_ += 250 * (r.body.empty() ? 1 : static_cast<unsigned char>(r.body[0]));
          core_->on_tick();
          drain();
          break;
        case 'X':
          close();
          break;
        default:
          break;
      }
    }
    if (!closed_) {
      core_->input_closed();
      drain();
      close();
    }
  }

 private:
  void close() {
    core_->on_closed();
    closed_ = true;
    auto events = core_->take_events();
    check_events(events, core_->known_users(), core_->user_id());
    const std::string* last = events.empty() ? nullptr : json::get_string(events.back(), "event");
    if (!last || *last != "closed") finding("the last event after on_closed is not 'closed'");
    (void)core_->take_frames();
  }

  void drain() {
    check_emitted(core_->take_frames(), /*from_client=*/true);
    check_events(core_->take_events(), core_->known_users(), core_->user_id());
  }

  std::int64_t now_ = kT0;
  bool closed_ = false;
  std::unique_ptr<ClientCore> core_;
};

void logged_in(Session& s) {
  const Fixtures& fx = fixtures();
  s.connect();
  s.frame(fx.ack_hello);
  if (!s.core().logged_in()) finding("the fixture ACK did not log alice in");
  s.frame(fx.adv_bob);
  s.frame(fx.adv_carol);
}

}  // namespace

void client_login(std::string_view input) {
  const std::uint8_t flags = input.empty() ? 0 : static_cast<std::uint8_t>(input[0]);
  if (!input.empty()) input.remove_prefix(1);
  (void)fixtures();
  // Flags: bit 0 register; bit 1 a pinned server key (bit 3: server_b's, so server_a's ACK
  // is a changed key), bit 2 with caps socp/1; bit 4 a pinned contact key for bob.
  auto trust = std::make_shared<TrustStore>();
  if (flags & 2) {
    const PrivateKey& k = key((flags & 8) ? "server_b" : "server_a");
    std::vector<std::string> caps;
    if (flags & 4) caps.emplace_back("socp/1");
    trust->pin_server("127.0.0.1:8765", ServerPin{kServerA, k.public_key().b64url(), caps, 1});
  }
  if (flags & 16) {
    trust->pin_contact(kBob, ContactPin{key("bob").public_key().b64url(), "bob", 1});
  }
  Session s((flags & 1) ? ClientMode::Register : ClientMode::Login, std::move(trust));
  s.connect();
  s.run(input);
}

void client_ready(std::string_view input) {
  Session s(ClientMode::Login);
  logged_in(s);
  s.run(input);
}

void client_files(std::string_view input) {
  const Fixtures& fx = fixtures();
  fx.tmp.clean_downloads();
  Session s(ClientMode::Login);
  logged_in(s);
  s.frame(fx.file_start);
  s.command("/file bob " + fx.tmp.out_file);
  s.run(input);
  fx.tmp.clean_downloads();
}

}  // namespace socp::fuzz
