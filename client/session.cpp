#include "session.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "host_options.h"
#include "input.h"
#include "prepare.h"
#include "printer.h"
#include "socp/client_core.h"
#include "socp/identity.h"
#include "socp/ws_host.h"
#include "style.h"
#include "terminal.h"

namespace socp::cli {
namespace {

constexpr ConnId kConn = kOutgoingBit | 1;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Glue between the loop (WsHost callbacks, posted stdin lines, ticks) and the ClientCore.
// Everything here runs on the loop thread.
class Driver : public WsHost::Handler {
 public:
  Driver(const Options& opt, Prepared& prep, Printer& printer)
      : opt_(opt), prep_(prep), printer_(printer), core_(std::move(prep.cfg)) {}

  void attach(WsHost& host) { host_ = &host; }
  /// The interactive prompt, if any: it gets the known users for Tab completion.
  void attach(Terminal* term) { term_ = term; }

  void on_open(ConnId) override {
    core_.on_connected();
    pump();
  }
  void on_frame(ConnId, std::string frame) override {
    core_.on_frame(frame);
    pump();
  }
  void on_close(ConnId) override {
    core_.on_closed();
    pump();
    host_->stop();
  }

  void command(const std::string& line) {
    core_.command(line);
    pump();
  }
  void input_closed() {
    core_.input_closed();
    pump();
  }
  void tick() {
    core_.on_tick();
    pump();
  }

  int exit_code() const {
    if (local_error_) return kExitUsage;
    switch (core_.outcome()) {
      case ClientOutcome::Done:
        return kExitOk;
      case ClientOutcome::AuthFailed:
        return kExitAuth;
      case ClientOutcome::ProtocolError:
        return kExitProtocol;
      default:
        return kExitConnect;
    }
  }

 private:
  void pump() {
    // on_event may feed the core again (input_closed, /quit): loop until it is quiet. Bounded:
    // those reactions produce no further reactions.
    for (int round = 0; round < 8; ++round) {
      std::vector<std::string> frames = core_.take_frames();
      std::vector<json::Value> events = core_.take_events();
      if (frames.empty() && events.empty()) break;
      for (std::string& f : frames) host_->send(kConn, std::move(f));
      if (needs_names(events)) refresh_users();
      for (const json::Value& e : events) {
        printer_.print(e);
        on_event(e);
      }
    }
    if (core_.wants_close() && !closing_) {
      closing_ = true;
      host_->close(kConn, 1000);  // after the queued frames are written
    }
  }

  // Names for ids and completion candidates change with these events (not with progress
  // ticks, which can be many: the snapshot is a copy of the whole directory).
  static bool needs_names(const std::vector<json::Value>& events) {
    for (const json::Value& e : events) {
      const std::string* name = json::get_string(e, "event");
      if (name && *name != "file_progress" && *name != "sent" && *name != "sent_all") return true;
    }
    return false;
  }

  void refresh_users() {
    UserList users = core_.known_users();
    if (term_) term_->set_users(users, core_.user_id());
    printer_.set_users(std::move(users), core_.user_id());
  }

  void on_event(const json::Value& e) {
    const std::string* name = json::get_string(e, "event");
    if (!name) return;
    if (*name == "registered") {
      save({core_.user_id(), opt_.name, prep_.server, prep_.vault});
    } else if (*name == "recovered") {
      save({core_.user_id(), opt_.name, prep_.server, core_.recovered_vault()});
    } else if (*name == "logged_in" && opt_.no_session) {
      core_.input_closed();
    }
  }

  void save(const Identity& id) {
    Status st = identity::save(prep_.home, id);
    if (st) return;
    // The account exists on the server but cannot be used from here: say so and stop.
    printer_.local_error("IO", "cannot save the identity: " + st.error().detail);
    local_error_ = true;
    core_.command("/quit");
  }

  const Options& opt_;
  Prepared& prep_;
  Printer& printer_;
  ClientCore core_;
  WsHost* host_ = nullptr;
  Terminal* term_ = nullptr;
  bool closing_ = false;
  bool local_error_ = false;
};

}  // namespace

int run_session(const Options& opt) {
  // Line editing only when a person is at a terminal on both ends; a script (stdin not a
  // terminal) is read exactly as before, line by line until its end.
  const bool line_editing =
      ::isatty(STDIN_FILENO) != 0 && ::isatty(STDOUT_FILENO) != 0 && !opt.no_session;
  Printer printer(opt.json, opt.no_color);
  printer.set_interactive(line_editing);
  printer.set_identity(opt.name);
  Prepared prep = prepare(opt, printer);
  if (prep.exit_code >= 0) return prep.exit_code;

  std::string host_name;
  std::uint16_t port = 0;
  ConnectOptions co;
  if (!split_server_url(prep.server, host_name, port, co.tls)) {
    printer.local_error("USAGE", "bad server address '" + prep.server + "'");
    return kExitUsage;
  }
  prep.cfg.server_label = prep.server;
  prep.cfg.clock = now_ms;

  // The transport and the core accept the same frame size (a large mesh's LIST_RESPONSE).
  prep.cfg.max_frame_bytes = opt.max_frame_size;

  Driver driver(opt, prep, printer);
  WsHostOptions wo = host_options(opt.max_frame_size, opt.verbose);
  wo.tls_ca_file = opt.ca_file;
  if (!opt.pin_cert.empty() && !co.tls) {
    printer.local_error("USAGE", "--pin-cert needs a wss:// server");
    return kExitUsage;
  }
  co.pin_sha256 = opt.pin_cert;
  auto host = WsHost::create(std::move(wo), driver);
  if (!host) {
    printer.local_error("IO", host.error().detail);
    return kExitConnect;
  }
  WsHost& h = *host.value();
  driver.attach(h);
  h.set_tick(500, [&driver] { driver.tick(); });
  h.connect(kConn, host_name, port, co);

  const auto on_line = [&h, &driver](std::string line) {
    h.post([&driver, l = std::move(line)] { driver.command(l); });
  };
  const auto on_eof = [&h, &driver] { h.post([&driver] { driver.input_closed(); }); };
  StdinReader reader;
  std::unique_ptr<Terminal> term;
  if (line_editing) {
    Terminal::Config tc;
    tc.prompt_name = opt.name;
    const std::string id_path = identity::identity_path(prep.home, opt.name);
    tc.history_path = id_path.substr(0, id_path.rfind('/') + 1) + "history";
    tc.color = !opt.json && color_wanted(STDOUT_FILENO, opt.no_color);
    term = std::make_unique<Terminal>(std::move(tc));
    if (!term->start(on_line, on_eof)) {
      printer.local_error("IO", "cannot set up the terminal");
      return kExitUsage;
    }
    printer.set_sink(term.get());
    driver.attach(term.get());
  } else if (!opt.no_session) {
    if (!reader.start(on_line, on_eof)) {
      printer.local_error("IO", "cannot read stdin");
      return kExitUsage;
    }
  }
  h.run();
  // Joined before the host goes away: no post() after that. The terminal prints what is
  // still queued, removes the prompt and restores the terminal settings.
  if (term) term->stop();
  printer.set_sink(nullptr);
  reader.stop();
  return driver.exit_code();
}

}  // namespace socp::cli
