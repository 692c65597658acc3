#include "printer.h"

#include <cstdio>
#include <ctime>

#include "socp/client_core.h"

namespace socp::cli {
namespace {

std::string field(const json::Value& e, const char* key) {
  const std::string* s = json::get_string(e, key);
  return s ? printable(*s) : std::string();
}

bool flag(const json::Value& e, const char* key) {
  const json::Value* v = e.find(key);
  return v && v->is_bool() && v->as_bool();
}

std::int64_t integer(const json::Value& e, const char* key) {
  const std::int64_t* v = json::get_int(e, key);
  return v ? *v : 0;
}

std::string clock_of(std::int64_t ts_ms) {
  const std::time_t t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  char buf[16] = "??:??:??";
  if (localtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string who(const json::Value& e, const char* name_key, const char* id_key) {
  std::string name = field(e, name_key), id = field(e, id_key);
  return name.empty() || name == id ? id : name + " (" + id + ")";
}

// The help text is ours (not from the network): printed with its newlines.
std::string field_raw_help(const json::Value& e) {
  const std::string* s = json::get_string(e, "text");
  return s ? *s : std::string();
}

void out(const std::string& line) {
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

void err(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

std::string printable(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\t') {
      o.push_back(' ');
    } else if (c < 0x20 || c == 0x7f) {
      o.push_back('?');
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      o.push_back('?');  // C1 control (U+0080..U+009F), e.g. CSI
      ++i;
    } else {
      o.push_back(static_cast<char>(c));
    }
  }
  return o;
}

void Printer::print(const json::Value& event) {
  if (json_) {
    out(json::canonical_utf8(event));
    return;
  }
  print_text(event);
}

void Printer::local_error(const std::string& code, const std::string& detail) {
  if (json_) {
    out(json::canonical_utf8(
        json::Object{{"event", "error"}, {"code", code}, {"detail", detail}, {"msg_ref", ""}}));
  } else {
    err("error: " + code + ": " + detail);
  }
}

void Printer::print_text(const json::Value& e) {
  const std::string ev = field(e, "event");
  if (ev == "connected") {
    err("* connected to " + field(e, "server"));
  } else if (ev == "registered") {
    err("* registered " + who(e, "display_name", "user_id"));
  } else if (ev == "recovered") {
    err("* recovered the key of " + who(e, "display_name", "user_id"));
  } else if (ev == "logged_in") {
    err("* logged in as " + who(e, "display_name", "user_id") + " on server " +
        field(e, "server_id"));
    if (interactive_) err("* type /help for commands");
  } else if (ev == "presence") {
    err("* " + who(e, "display_name", "user_id") + (flag(e, "online") ? " is online" : " left"));
  } else if (ev == "key_changed") {
    err("warning: " + who(e, "display_name", "user_id") + " presented a DIFFERENT key (via " +
        field(e, "source") + "); keeping the pinned one.\n  pinned:  " +
        format_fingerprint(field(e, "pinned_fingerprint")) +
        "\n  offered: " + format_fingerprint(field(e, "offered_fingerprint")));
  } else if (ev == "list") {
    const json::Value* users = e.find("users");
    const std::size_t n = users && users->is_array() ? users->as_array().size() : 0;
    out(std::to_string(n) + (n == 1 ? " user:" : " users:"));
    if (n == 0) return;
    for (const json::Value& u : users->as_array()) {
      out(std::string(flag(u, "online") ? "  online   " : "  offline  ") +
          field(u, "display_name") + "  " + field(u, "user_id") + "  @" + field(u, "server_id"));
    }
  } else if (ev == "sent") {
    err("* sent to " + who(e, "to_name", "to") + " (" + std::to_string(integer(e, "bytes")) +
        " bytes)");
  } else if (ev == "sent_all") {
    err("* sent to " + std::to_string(integer(e, "recipients")) + " online user(s)");
  } else if (ev == "message") {
    out("[" + clock_of(integer(e, "ts")) + "] " + field(e, "from_name") + ": " + field(e, "text"));
    if (flag(e, "first_contact")) {
      err("* first message from " + who(e, "from_name", "from") +
          ": key pinned on first use; compare it out of band with /verify " + field(e, "from"));
    }
  } else if (ev == "rejected") {
    err("rejected a message claiming to be from " + who(e, "from_name", "from") + ": " +
        field(e, "reason"));
  } else if (ev == "error") {
    std::string line = "error: " + field(e, "code") + ": " + field(e, "detail");
    if (const json::Value* c = e.find("candidates"); c && c->is_array()) {
      for (const json::Value& id : c->as_array()) {
        if (id.is_string()) line += "\n  candidate: " + printable(id.as_string());
      }
    }
    err(line);
  } else if (ev == "warning") {
    err("warning: " + field(e, "detail"));
  } else if (ev == "whoami") {
    out("you are " + who(e, "display_name", "user_id") + " on server " + field(e, "server_id") +
        "\nfingerprint: " + format_fingerprint(field(e, "fingerprint")));
  } else if (ev == "fingerprint") {
    out(who(e, "display_name", "user_id") +
        " fingerprint: " + format_fingerprint(field(e, "fingerprint")));
  } else if (ev == "help") {
    out(field_raw_help(e));
  } else if (ev == "closed") {
    const std::string outcome = field(e, "outcome");
    if (outcome == "connect_failed") {
      err("error: cannot connect to the server");
    } else if (outcome == "connection_lost") {
      err("error: connection lost");
    } else {
      err("* connection closed (" + outcome + ")");
    }
  } else {
    out(json::canonical_utf8(e));  // an event this printer does not know yet
  }
}

}  // namespace socp::cli
