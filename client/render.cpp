#include "render.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <functional>
#include <map>

#include "progress.h"
#include "socp/client_core.h"
#include "style.h"

namespace socp::cli {
namespace {

// ---- reading event fields (leniently: a missing field reads as empty) ----------------------

std::string raw(const json::Value& e, const char* key) {
  const std::string* s = json::get_string(e, key);
  return s ? *s : std::string();
}

std::string field(const json::Value& e, const char* key) {
  return printable(raw(e, key));
}

bool flag(const json::Value& e, const char* key) {
  const json::Value* v = e.find(key);
  return v && v->is_bool() && v->as_bool();
}

std::uint64_t count(const json::Value& e, const char* key) {
  const std::int64_t* v = json::get_int(e, key);
  return v && *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
}

bool is_uuid_at(std::string_view s, std::size_t i) {
  if (i + 36 > s.size()) return false;
  for (std::size_t k = 0; k < 36; ++k) {
    const char c = s[i + k];
    const bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// ---- building one styled line ------------------------------------------------------------

// Text in a base style (e.g. dim) with embedded spans in their own style; the base style is
// restored after each span. Without colour it is plain concatenation.
class Styled {
 public:
  Styled(bool color, std::string_view base) : color_(color), base_(base) {
    if (color_ && !base_.empty()) out_.append("\033[").append(base_).append("m");
  }
  Styled& text(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Styled& span(std::string_view s, std::string_view code) {
    if (!color_ || code.empty()) return text(s);
    out_.append("\033[").append(code).append("m").append(s).append("\033[0m");
    if (!base_.empty()) out_.append("\033[").append(base_).append("m");
    return *this;
  }
  std::string str() const {
    if (color_ && !base_.empty()) return out_ + "\033[0m";
    return out_;
  }

 private:
  bool color_;
  std::string base_;
  std::string out_;
};

class Renderer {
 public:
  explicit Renderer(const RenderContext& c) : c_(c) {
    for (const auto& [id, name] : c_.users) ++name_count_[name];
  }

  bool color(Stream s) const { return s == Stream::Out ? c_.color_out : c_.color_err; }

  /// Display name of `id` from the event (`name`), else from the known users, else the id.
  std::string name_of(const std::string& id, const std::string& name) const {
    if (!name.empty()) return printable(name);
    for (const auto& [uid, uname] : c_.users) {
      if (uid == id && !uname.empty()) return printable(uname);
    }
    return printable(id);
  }

  /// A user as shown in text: coloured name, plus a short id when the name is ambiguous.
  void user(Styled& line, const std::string& id, const std::string& name) const {
    const std::string shown = name_of(id, name);
    if (id == c_.self_id && !id.empty()) {
      line.span(shown, sgr::kBold);
    } else {
      line.span(shown, id.empty() ? std::string_view() : user_color(id));
    }
    auto it = name_count_.find(name.empty() ? shown : name);
    if (it != name_count_.end() && it->second > 1 && shown != id) {
      line.text(" (" + printable(id.substr(0, 8)) + "…)");
    }
  }

  /// What to type to reach this user: the name if it is unique and one word, else the id.
  std::string handle(const std::string& id, const std::string& name) const {
    const std::string shown = name_of(id, name);
    auto it = name_count_.find(shown);
    const bool unique = it == name_count_.end() || it->second <= 1;
    if (unique && shown.find(' ') == std::string::npos && !shown.empty()) return shown;
    return printable(id);
  }

  /// The user an error detail is about: a 'quoted' name, else the name of the first UUID.
  std::string subject_of(const std::string& detail) const {
    const std::size_t q = detail.find('\'');
    if (q != std::string::npos) {
      const std::size_t q2 = detail.find('\'', q + 1);
      if (q2 != std::string::npos && q2 > q + 1) return printable(detail.substr(q + 1, q2 - q - 1));
    }
    for (std::size_t i = 0; i + 36 <= detail.size(); ++i) {
      if (is_uuid_at(detail, i)) return name_of(detail.substr(i, 36), "");
    }
    return {};
  }

  const RenderContext& c_;
  std::map<std::string, int> name_count_;
};

// Splits a message text into lines; the continuation lines are indented under the first.
std::string message_body(const std::string& text, std::size_t indent) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = text.find('\n', start);
    std::string part = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!part.empty() && part.back() == '\r') part.pop_back();
    if (start > 0) out += "\n" + std::string(indent, ' ');
    out += printable(part);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// "abcd ef01 ..." in lines of eight groups; lines after the first start with `indent`.
std::string fingerprint_lines(const std::string& hex, const std::string& indent) {
  const std::string groups = format_fingerprint(hex);
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i] == ' ' && ++n % 8 == 0) {
      out += "\n" + indent;
      continue;
    }
    out += groups[i];
  }
  return out;
}

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string error_line(const Renderer& r, const json::Value& e) {
  return Styled(r.c_.color_err, sgr::kRed).text("error: " + error_text(e, r.c_)).str();
}

void render_list(const Renderer& r, const json::Value& e, Rendered& out) {
  const json::Value* users = e.find("users");
  const json::Array empty;
  const json::Array& arr = users && users->is_array() ? users->as_array() : empty;
  std::size_t online = 0, width = 0;
  for (const json::Value& u : arr) {
    online += flag(u, "online") ? 1 : 0;
    width = std::max(width, visible_width(r.name_of(raw(u, "user_id"), raw(u, "display_name"))));
  }
  const bool color = r.c_.color_out;
  std::string text = plural(arr.size(), "user", "users") + ", " + std::to_string(online) +
                     " online" + (arr.empty() ? "" : ":");
  for (const json::Value& u : arr) {
    const std::string id = raw(u, "user_id");
    const std::string name = r.name_of(id, raw(u, "display_name"));
    const bool on = flag(u, "online");
    Styled line(color, "");
    line.text("  ");
    r.user(line, id, raw(u, "display_name"));
    line.text(std::string(width - std::min(width, visible_width(name)) + 2, ' '));
    line.span(on ? "online " : "offline", on ? std::string_view() : sgr::kDim);
    line.text("  ");
    std::string ids = printable(id);
    const std::string server = raw(u, "server_id");
    if (!server.empty()) ids += "  @" + printable(server.substr(0, 8));
    line.span(ids, sgr::kDim);
    if (id == r.c_.self_id && !id.empty()) line.text("  (you)");
    text += "\n" + line.str();
  }
  out.lines.push_back({Stream::Out, text});
}

void render_message(const Renderer& r, const json::Value& e, Rendered& out) {
  const std::string from = raw(e, "from");
  const std::string to = raw(e, "to");
  const std::string clock =
      "[" + format_clock(json::get_int(e, "ts") ? *json::get_int(e, "ts") : 0) + "]";
  Styled line(r.c_.color_out, "");
  line.span(clock, sgr::kDim).text(" ");
  std::size_t indent = clock.size() + 1;
  // A message not addressed to us alone (the public channel): tagged with where it went.
  const std::string channel = raw(e, "channel");
  const bool to_group =
      !channel.empty() || (!to.empty() && to != r.c_.self_id && !r.c_.self_id.empty());
  if (to_group) {
    const std::string group = channel.empty() ? to : channel;
    const std::string tag = group == "public" ? "[all]" : "[" + printable(group) + "]";
    line.span(tag, sgr::kBold).text(" ");
    indent += visible_width(tag) + 1;
  }
  r.user(line, from, raw(e, "from_name"));
  indent += visible_width(r.name_of(from, raw(e, "from_name"))) + 2;
  line.text(": " + message_body(raw(e, "text"), indent));
  out.lines.push_back({Stream::Out, line.str()});
  if (const json::Value* enc = e.find("encrypted"); enc && enc->is_bool() && !enc->as_bool()) {
    Styled note(r.c_.color_err, sgr::kDim);
    note.text("* sent in clear by another implementation's client (signed by ");
    r.user(note, from, raw(e, "from_name"));
    note.text(", not encrypted)");
    out.lines.push_back({Stream::Err, note.str()});
  }
  if (flag(e, "first_contact")) {
    Styled note(r.c_.color_err, sgr::kDim);
    note.text("* first message from ");
    r.user(note, from, raw(e, "from_name"));
    note.text(": its key is now pinned; compare fingerprints with /verify " +
              r.handle(from, raw(e, "from_name")));
    out.lines.push_back({Stream::Err, note.str()});
  }
}

void render_file(const Renderer& r, const std::string& ev, const json::Value& e, Rendered& out) {
  const std::string id = raw(e, "file_id");
  const std::string name = field(e, "name");
  const bool send = raw(e, "direction") == "send";
  if (ev == "file_progress") {
    if (!r.c_.progress) return;
    const std::string arrow = send ? "^ " : "v ";
    const std::size_t width = r.c_.width > 3 ? r.c_.width - 1 : 79;
    out.progress = ProgressUpdate{
        id, arrow + format_progress(name, count(e, "bytes"), count(e, "total"), width - 2), false};
    return;
  }
  if (ev == "file_incoming") {
    Styled line(r.c_.color_err, sgr::kDim);
    line.text("* ");
    r.user(line, raw(e, "from"), raw(e, "from_name"));
    line.text((raw(e, "mode") == "public" ? " is sending everyone " : " is sending you ") + name +
              " (" + format_bytes(count(e, "size")) + ")");
    out.lines.push_back({Stream::Err, line.str()});
    return;
  }
  // The transfer is over: its bar goes away, a final line stays.
  if (r.c_.progress) out.progress = ProgressUpdate{id, "", true};
  const auto peer = [&](Styled& line, const char* id_key, const char* name_key) {
    if (raw(e, id_key) == "public") {
      line.text("everyone");
    } else {
      r.user(line, raw(e, id_key), raw(e, name_key));
    }
  };
  if (ev == "file_sent") {
    Styled line(r.c_.color_err, sgr::kDim);
    line.text("* sent " + name + " (" + format_bytes(count(e, "size")) + ") to ");
    peer(line, "to", "to_name");
    out.lines.push_back({Stream::Err, line.str()});
  } else if (ev == "file_received") {
    Styled line(r.c_.color_out, "");
    line.text("received " + name + " (" + format_bytes(count(e, "size")) + ") from ");
    peer(line, "from", "from_name");
    line.text(", saved as ").span(field(e, "path"), sgr::kBold);
    out.lines.push_back({Stream::Out, line.str()});
    if (const json::Value* m = e.find("manifest_signed"); m && m->is_bool() && !m->as_bool()) {
      Styled note(r.c_.color_err, sgr::kDim);
      note.text(
          "* weaker guarantees: the sender's implementation signs each chunk but not the "
          "file's name, size or order (server " +
          field(e, "sender_server") + ")");
      out.lines.push_back({Stream::Err, note.str()});
    }
  } else {  // file_failed
    Styled line(r.c_.color_err, sgr::kRed);
    if (send) {
      line.text("error: sending " + name + " to ");
      peer(line, "to", "to_name");
    } else {
      line.text("error: receiving " + name + " from ");
      peer(line, "from", "from_name");
    }
    line.text(" failed: " + field(e, "reason"));
    out.lines.push_back({Stream::Err, line.str()});
  }
}

// "2025-05-20 14:03" in local time, or "" for 0 (unknown).
std::string format_date(std::int64_t ts_ms) {
  if (ts_ms <= 0) return {};
  const std::time_t t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  char buf[32] = "";
  if (localtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

// A changed key must not scroll by unnoticed: a framed block, every line marked "!!".
std::string key_changed_banner(const Renderer& r, const json::Value& e) {
  const bool color = r.c_.color_err;
  const std::string rule(66, '=');
  const std::int64_t* since_p = json::get_int(e, "pinned_since");
  const std::string since = format_date(since_p ? *since_p : 0);
  const std::string pinned = format_fingerprint(field(e, "pinned_fingerprint"));
  const std::string offered = format_fingerprint(field(e, "offered_fingerprint"));
  std::vector<std::string> body;
  std::string headline;
  if (raw(e, "kind") == "server") {
    const std::string addr =
        field(e, "server").empty() ? field(e, "display_name") : field(e, "server");
    const bool option = raw(e, "source") == "option";
    headline = "WARNING: the server at " + addr + " presents a DIFFERENT KEY than " +
               (option ? std::string("the one given with --server-key") : "the one pinned for it");
    body.push_back("  expected: " + (pinned.empty() ? std::string("(unusable)") : pinned) +
                   (since.empty() ? "" : "  (pinned " + since + ")"));
    body.push_back("  offered:  " + offered);
    body.push_back("  It may be an impostor. socp-cli refuses to log in.");
    if (!option) {
      const std::string who =
          r.c_.identity.empty() ? std::string() : " --name " + printable(r.c_.identity);
      body.push_back("  If the server really got a new key, accept it deliberately:");
      body.push_back("    socp-cli forget-server " + addr + who);
      body.push_back("  (or log in once with --accept-new-server-key)");
    }
  } else {
    Styled who(false, "");
    r.user(who, raw(e, "user_id"), raw(e, "display_name"));
    headline = "WARNING: the key of " + who.str() + " CHANGED \xe2\x80\x94 it may be an impostor";
    body.push_back("  still pinned: " + pinned + (since.empty() ? "" : "  (since " + since + ")"));
    body.push_back("  offered:      " + offered);
    body.push_back("  The pinned key is kept; messages signed with the new key are rejected.");
    body.push_back("  Compare fingerprints with /verify " +
                   r.handle(raw(e, "user_id"), raw(e, "display_name")) +
                   " (in person or over another channel you trust).");
  }
  std::string text = Styled(color, sgr::kBoldRed).text("!! " + rule).str();
  text += "\n" + Styled(color, sgr::kBoldRed).text("!! " + headline).str();
  for (const std::string& b : body)
    text += "\n" + Styled(color, sgr::kYellow).text("!! " + b).str();
  text += "\n" + Styled(color, sgr::kBoldRed).text("!! " + rule).str();
  return text;
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

std::string format_clock(std::int64_t ts_ms) {
  const std::time_t t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  char buf[16] = "??:??";
  if (localtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

std::string error_text(const json::Value& e, const RenderContext& ctx) {
  const Renderer r(ctx);
  const std::string code = field(e, "code");
  const std::string detail = field(e, "detail");
  const std::string ref = field(e, "msg_ref");
  const std::string who = r.subject_of(raw(e, "detail"));
  const auto with_detail = [&](std::string msg) {
    return detail.empty() ? msg : msg + " (" + detail + ")";
  };
  if (code == "USER_NOT_FOUND")
    return "no such user (or not online): " + (who.empty() ? detail : who);
  if (code == "OFFLINE")
    return who.empty() ? with_detail("the user is offline") : who + " is offline";
  if (code == "NAME_IN_USE")
    return with_detail("that display name is already taken; pick another --name");
  if (code == "BAD_KEY") return with_detail("the key was refused");
  if (code == "SERVER_KEY_CHANGED") return detail;  // says what happened and what to do
  if (code == "INVALID_SIG") return with_detail("a signature did not verify");
  if (code == "BAD_PASSWORD") return "wrong password";
  if (code == "TIMEOUT")
    return detail.empty() ? "timed out: no answer in time" : "timed out: " + detail;
  if (code == "UNKNOWN_TYPE") {
    return with_detail("the server does not support " + (ref.empty() ? "that request" : ref));
  }
  if (code == "BUSY") return with_detail("the server is busy; try again in a moment");
  if (code == "TOO_LARGE") return detail.empty() ? "too large" : "too large: " + detail;
  if (code == "BAD_FRAME") {
    return with_detail("the server refused a malformed " + (ref.empty() ? "frame" : ref));
  }
  if (code == "NOT_AUTHENTICATED") return with_detail("not logged in (yet)");
  if (code == "NO_KEY") return "no key known yet for " + (who.empty() ? detail : who);
  if (code == "USAGE" || code == "UNKNOWN_COMMAND") return detail;
  if (code == "AMBIGUOUS") {
    std::string out = "'" + who + "' matches several users; use an id:";
    if (const json::Value* c = e.find("candidates"); c && c->is_array()) {
      for (const json::Value& id : c->as_array()) {
        if (!id.is_string()) continue;
        out += "\n  " + printable(id.as_string());
      }
    }
    return out;
  }
  return detail.empty() ? code : code + ": " + detail;  // anything else, as received
}

Rendered render_event(const json::Value& e, const RenderContext& ctx) {
  const Renderer r(ctx);
  Rendered out;
  const std::string ev = raw(e, "event");
  const auto status = [&](const std::function<void(Styled&)>& build) {
    Styled line(ctx.color_err, sgr::kDim);
    line.text("* ");
    build(line);
    out.lines.push_back({Stream::Err, line.str()});
  };
  const auto self = [&](Styled& l) { r.user(l, raw(e, "user_id"), raw(e, "display_name")); };

  if (ev == "connected") {
    status([&](Styled& l) { l.text("connected to " + field(e, "server")); });
  } else if (ev == "registered") {
    status([&](Styled& l) {
      l.text("registered as ");
      self(l);
      l.text("; your user id is " + field(e, "user_id") + " (socp-cli recover needs it)");
    });
  } else if (ev == "recovered") {
    status([&](Styled& l) {
      l.text("recovered the key of ");
      self(l);
    });
  } else if (ev == "logged_in") {
    status([&](Styled& l) {
      l.text("logged in as ");
      self(l);
      if (ctx.interactive) l.text(" - /help lists the commands, Tab completes");
    });
  } else if (ev == "presence") {
    status([&](Styled& l) {
      self(l);
      l.text(flag(e, "online") ? " is online" : " went offline");
    });
  } else if (ev == "key_changed") {
    out.lines.push_back({Stream::Err, key_changed_banner(r, e)});
  } else if (ev == "server_forgotten") {
    status([&](Styled& l) {
      if (!flag(e, "forgotten")) {
        l.text("no key was pinned for the server at " + field(e, "server"));
        return;
      }
      l.text("forgot the key pinned for the server at " + field(e, "server") + " (" +
             format_fingerprint(field(e, "fingerprint")) +
             "); the next login pins the key it presents: check its fingerprint");
    });
  } else if (ev == "list") {
    render_list(r, e, out);
  } else if (ev == "sent") {
    status([&](Styled& l) {
      l.text("sent to ");
      r.user(l, raw(e, "to"), raw(e, "to_name"));
      const std::uint64_t pieces = count(e, "pieces");
      if (pieces > 1) l.text(" (in " + std::to_string(pieces) + " pieces)");
    });
  } else if (ev == "queued" || ev == "delivered") {
    status([&](Styled& l) {
      l.text(ev == "queued" ? "kept by the server for " : "delivered to ");
      r.user(l, raw(e, "to"), raw(e, "to_name"));
    });
  } else if (ev == "failed") {
    Styled line(ctx.color_err, sgr::kRed);
    line.text("not delivered to ");
    r.user(line, raw(e, "to"), raw(e, "to_name"));
    line.text(": " + field(e, "code") + " " + field(e, "reason"));
    out.lines.push_back({Stream::Err, line.str()});
  } else if (ev == "reconnecting") {
    status([&](Styled& l) {
      l.text("connection lost; reconnecting in " + std::to_string(count(e, "delay_ms")) +
             " ms (attempt " + std::to_string(count(e, "attempt")) + ", " +
             std::to_string(count(e, "unacknowledged")) + " message(s) kept)");
    });
  } else if (ev == "reconnected") {
    status([&](Styled& l) {
      l.text("reconnected; " + std::to_string(count(e, "resent")) + " message piece(s) sent again");
    });
  } else if (ev == "waited") {
    status([&](Styled& l) {
      const json::Value* ok = e.find("ok");
      l.text(ok && ok->is_bool() && ok->as_bool() ? "wait done" : "wait timed out");
      l.text(" (" + std::to_string(count(e, "pending")) + " pending, " +
             std::to_string(count(e, "received")) + " received)");
    });
  } else if (ev == "sent_all") {
    const std::uint64_t n = count(e, "recipients"), skipped = count(e, "skipped");
    status([&](Styled& l) {
      if (raw(e, "channel") == "public") {
        // The public channel: one post for every member (`members`, ourselves excluded).
        const std::uint64_t members = e.find("members") ? count(e, "members") : n;
        l.text(members == 0 ? std::string("posted to /all (nobody else is in the channel yet)")
                            : "posted to /all (" + plural(members, "member", "members") + ")");
        if (skipped > 0) l.text("; " + std::to_string(skipped) + " without a key cannot read it");
        return;
      }
      l.text(n == 0 ? std::string("nobody else is online: nothing sent")
                    : "sent to " + plural(n, "online user", "online users"));
      if (skipped > 0) l.text("; " + std::to_string(skipped) + " skipped (no key yet)");
    });
  } else if (ev == "message") {
    render_message(r, e, out);
  } else if (ev == "rejected") {
    Styled line(ctx.color_err, sgr::kRed);
    line.text(raw(e, "channel").empty() ? "!! rejected a message claiming to be from "
                                        : "!! rejected an /all post claiming to be from ");
    r.user(line, raw(e, "from"), raw(e, "from_name"));
    line.text(": " + field(e, "reason"));
    out.lines.push_back({Stream::Err, line.str()});
  } else if (ev == "error") {
    out.lines.push_back({Stream::Err, error_line(r, e)});
  } else if (ev == "warning") {
    out.lines.push_back(
        {Stream::Err,
         Styled(ctx.color_err, sgr::kYellow).text("warning: " + field(e, "detail")).str()});
  } else if (ev == "whoami") {
    Styled line(ctx.color_out, "");
    line.text("you are ");
    self(line);
    out.lines.push_back(
        {Stream::Out, line.str() + "\n  user id:     " + field(e, "user_id") +
                          "\n  server:      " + field(e, "server_id") + "\n  fingerprint: " +
                          fingerprint_lines(field(e, "fingerprint"), std::string(15, ' '))});
  } else if (ev == "fingerprint") {
    Styled line(ctx.color_out, "");
    line.text("fingerprint of ");
    self(line);
    line.text(":");
    out.lines.push_back({Stream::Out, line.str() + "\n  " +
                                          fingerprint_lines(field(e, "fingerprint"), "  ") +
                                          "\ncompare it with what " +
                                          r.name_of(raw(e, "user_id"), raw(e, "display_name")) +
                                          " sees in /whoami (in person or over another channel)"});
  } else if (ev == "help") {
    std::string text = raw(e, "text");  // our own text, printed as is
    if (ctx.interactive) {
      text +=
          "\nkeys: Tab completes commands, users and file paths; Up/Down recall earlier "
          "lines; Ctrl-D leaves";
    }
    out.lines.push_back({Stream::Out, text});
  } else if (ev == "closed") {
    const std::string outcome = field(e, "outcome");
    if (outcome == "connect_failed") {
      out.lines.push_back(
          {Stream::Err,
           Styled(ctx.color_err, sgr::kRed).text("error: cannot connect to the server").str()});
    } else if (outcome == "connection_lost") {
      out.lines.push_back(
          {Stream::Err, Styled(ctx.color_err, sgr::kRed).text("error: connection lost").str()});
    } else if (outcome == "done") {
      status([&](Styled& l) { l.text("disconnected"); });
    } else {
      status([&](Styled& l) { l.text("connection closed (" + outcome + ")"); });
    }
  } else if (ev.rfind("file_", 0) == 0 &&
             (ev == "file_progress" || ev == "file_incoming" || ev == "file_sent" ||
              ev == "file_received" || ev == "file_failed")) {
    render_file(r, ev, e, out);
  } else {
    out.lines.push_back({Stream::Out, printable(json::canonical_utf8(e))});  // not known yet
  }
  return out;
}

}  // namespace socp::cli
