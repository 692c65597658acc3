#include "session.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

#include "input.h"
#include "prepare.h"
#include "printer.h"
#include "socp/client_runtime.h"
#include "socp/identity.h"
#include "style.h"
#include "terminal.h"

namespace socp::cli {
namespace {

// Events of the runtime, on its core thread (ClientRuntime: one at a time, in order): printed,
// and the few that need the program's attention handled. Printing happens on that one thread
// only; the terminal (if any) has its own input thread and a thread-safe sink.
class Driver {
 public:
  Driver(const Options& opt, Prepared& prep, Printer& printer)
      : opt_(opt), prep_(prep), printer_(printer) {}

  void attach(ClientRuntime* rt) { rt_ = rt; }
  /// The interactive prompt, if any: it gets the known users for Tab completion.
  void attach(Terminal* term) { term_ = term; }

  void on_event(const json::Value& e, const ClientCore& core) {
    const std::string* name = json::get_string(e, "event");
    if (!name) return;
    if (needs_names(*name)) refresh_users(core);
    printer_.print(e);
    if (e.find("cmd") && (*name == "error" || *name == "failed" || *name == "file_failed" ||
                          (*name == "waited" && !e.find("ok")->as_bool()))) {
      command_failed_ = true;
    }
    if (*name == "registered") {
      save(core, {core.user_id(), opt_.name, prep_.server, prep_.vault});
    } else if (*name == "recovered") {
      save(core, {core.user_id(), opt_.name, prep_.server, core.recovered_vault()});
    } else if (*name == "logged_in" && opt_.no_session && rt_) {
      rt_->input_closed();
    }
  }

  int exit_code(ClientOutcome outcome) const {
    if (local_error_) return kExitUsage;
    switch (outcome) {
      case ClientOutcome::Done:
        return command_failed_ ? kExitCommand : kExitOk;
      case ClientOutcome::AuthFailed:
        return kExitAuth;
      case ClientOutcome::ProtocolError:
        return kExitProtocol;
      default:
        return kExitConnect;
    }
  }

 private:
  // Names for ids and completion candidates change with these events (not with progress
  // ticks, which can be many: the snapshot is a copy of the whole directory).
  static bool needs_names(const std::string& name) {
    return name != "file_progress" && name != "sent" && name != "sent_all" && name != "queued" &&
           name != "delivered";
  }

  void refresh_users(const ClientCore& core) {
    UserList users = core.known_users();
    if (term_) term_->set_users(users, core.user_id());
    printer_.set_users(std::move(users), core.user_id());
  }

  void save(const ClientCore& core, const Identity& id) {
    (void)core;
    Status st = identity::save(prep_.home, id);
    if (st) return;
    // The account exists on the server but cannot be used from here: say so and stop.
    printer_.local_error("IO", "cannot save the identity: " + st.error().detail);
    local_error_ = true;
    if (rt_) rt_->quit();
  }

  const Options& opt_;
  Prepared& prep_;
  Printer& printer_;
  ClientRuntime* rt_ = nullptr;
  Terminal* term_ = nullptr;
  bool local_error_ = false;
  bool command_failed_ = false;
};

/// --json: a session that ended before it started still ends with "closed".
int end_early(const Options& opt, Printer& printer, int exit_code, const std::string& code) {
  if (opt.json) {
    const char* outcome = exit_code == kExitAuth ? "auth_failed" : "local_error";
    printer.print(json::Object{{"event", "closed"}, {"outcome", outcome}, {"code", code}});
  }
  return exit_code;
}

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
  if (prep.exit_code >= 0) return end_early(opt, printer, prep.exit_code, prep.error_code);

  ClientRuntimeOptions ro;
  if (!split_server_url(prep.server, ro.host, ro.port, ro.connect.tls)) {
    printer.local_error("USAGE", "bad server address '" + prep.server + "'");
    return end_early(opt, printer, kExitUsage, "USAGE");
  }
  if (!opt.pin_cert.empty() && !ro.connect.tls) {
    printer.local_error("USAGE", "--pin-cert needs a wss:// server");
    return end_early(opt, printer, kExitUsage, "USAGE");
  }
  ro.connect.pin_sha256 = opt.pin_cert;
  ro.tls_ca_file = opt.ca_file;
  // The transport and the core accept the same frame size (a large mesh's LIST_RESPONSE).
  ro.max_frame = opt.max_frame_size;
  prep.cfg.max_frame_bytes = opt.max_frame_size;
  prep.cfg.server_label = prep.server;
  ro.reconnect = opt.reconnect_for_s > 0;
  ro.give_up_ms = opt.reconnect_for_s * 1000;
  ro.reconnect_min_ms = opt.test_reconnect_ms;
  ro.reconnect_max_ms = std::max(opt.test_reconnect_ms, opt.test_reconnect_max_ms);
  ro.tick_ms = opt.test_tick_ms;
  if (opt.verbose) {
    ro.log = [](LogLevel, std::string_view m) {
      std::fprintf(stderr, "[ws] %.*s\n", static_cast<int>(m.size()), m.data());
    };
  }
  Driver driver(opt, prep, printer);
  ro.on_event = [&driver](const json::Value& e, const ClientCore& core) {
    driver.on_event(e, core);
  };
  auto created = ClientRuntime::create(std::move(prep.cfg), std::move(ro));
  if (!created) {
    printer.local_error("IO", created.error().detail);
    return end_early(opt, printer, kExitConnect, "IO");
  }
  ClientRuntime& rt = *created.value();
  driver.attach(&rt);

  // Command ids are the line numbers of the input (1, 2, ...): lines are handed over in order.
  const auto on_line = [&rt](std::string line) { (void)rt.command(line); };
  const auto on_eof = [&rt] { rt.input_closed(); };
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
      return end_early(opt, printer, kExitUsage, "IO");
    }
    printer.set_sink(term.get());
    driver.attach(term.get());
  } else if (!opt.no_session) {
    if (!reader.start(on_line, on_eof)) {
      printer.local_error("IO", "cannot read stdin");
      return end_early(opt, printer, kExitUsage, "IO");
    }
  }
  rt.run();
  // The terminal prints what is still queued, removes the prompt and restores the terminal
  // settings; the reader is joined before the runtime goes away (no command() after that).
  if (term) term->stop();
  reader.stop();
  printer.set_sink(nullptr);
  return driver.exit_code(rt.outcome());
}

}  // namespace socp::cli
