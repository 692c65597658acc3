#include "fuzz_world.h"

#include <cstdio>
#include <cstdlib>

#include "fixtures.h"
#include "fuzz_harness.h"

#ifdef SOCP_FUZZ_WITH_CLI
#include "completion.h"
#include "render.h"
#endif

namespace socp::fuzz {

const PrivateKey& key(const std::string& name) {
  return test::fixture_key(name);
}

std::string signed_frame(MessageType type, const std::string& from, const std::string& to,
                         std::int64_t ts, json::Value payload, const PrivateKey& signer) {
  Envelope env = make_envelope(type, from, to, ts, std::move(payload));
  auto sig = sign_payload(signer, env.payload);
  if (!sig) finding("cannot sign a fixture frame: " + sig.error().detail);
  env.sig = std::move(sig).value();
  return serialize(env);
}

json::Value with_ctx(MessageType type, const std::string& from, const std::string& to,
                     std::int64_t ts, json::Value payload) {
  if (payload.is_object()) {
    payload.as_object()["ctx"] = json::Object{
        {"type", std::string(to_string(type))}, {"from", from}, {"to", to}, {"ts", ts}};
  }
  return payload;
}

std::string resign(std::string_view frame, const PrivateKey& signer, const std::string& from,
                   bool context) {
  auto env = parse_envelope(frame);
  if (!env) return std::string(frame);
  if (!from.empty()) env->from = from;
  if (context && env->payload.is_object()) {
    env->payload.as_object()["ctx"] = json::Object{
        {"type", env->type_name}, {"from", env->from}, {"to", env->to}, {"ts", env->ts}};
  }
  auto sig = sign_payload(signer, env->payload);
  if (!sig) return std::string(frame);
  env->sig = std::move(sig).value();
  return serialize(env.value());
}

void finding(const std::string& what, std::string_view context) {
  std::fprintf(stderr, "socp fuzz finding: %s\n", what.c_str());
  if (!context.empty()) {
    const std::size_t n = context.size() < 2000 ? context.size() : 2000;
    std::fprintf(stderr, "  context: %.*s\n", static_cast<int>(n), context.data());
  }
  std::fflush(stderr);
  std::abort();
}

void check_emitted(const std::vector<std::string>& frames, bool from_client) {
  for (const std::string& f : frames) {
    json::ParseLimits limits;
    limits.max_bytes = 256u << 20;
    auto env = parse_envelope(f, limits);
    if (!env) finding("emitted frame does not parse: " + env.error().detail, f);
    if (from_client && env->to.empty()) finding("client frame with an empty `to`", f);
  }
}

#ifdef SOCP_FUZZ_WITH_CLI
namespace {

bool terminal_safe(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') continue;
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9f) return false;  // C1 control
    }
  }
  return true;
}

std::vector<cli::DirEntry> fake_dir(const std::string&) {
  return {{"report.pdf", false}, {"docs", true}, {".hidden", false}};
}

}  // namespace
#endif

void check_events(const std::vector<json::Value>& events,
                  const std::vector<std::pair<std::string, std::string>>& known_users,
                  const std::string& self_id) {
  for (const json::Value& e : events) {
    const std::string* name = json::get_string(e, "event");
    if (!name || name->empty()) finding("event without a name", json::canonical(e));
  }
#ifdef SOCP_FUZZ_WITH_CLI
  cli::RenderContext ctx;
  ctx.progress = true;
  ctx.interactive = true;
  ctx.self_id = self_id;
  ctx.users = known_users;
  for (const json::Value& e : events) {
    const cli::Rendered r = cli::render_event(e, ctx);
    for (const cli::Line& line : r.lines) {
      if (!terminal_safe(line.text)) finding("rendered text has a control character", line.text);
    }
    if (r.progress && !terminal_safe(r.progress->text)) {
      finding("progress bar has a control character", r.progress->text);
    }
  }
  // Tab completion after /tell and /file over every known name (bounded: a few prefixes).
  static const char* const kLines[] = {"/tell ",     "/tell a",   "/file ",
                                       "/file bob ", "/verify u", "/"};
  for (const char* l : kLines) {
    const cli::Completion c = cli::complete(l, known_users, self_id, fake_dir);
    (void)cli::common_prefix(c.matches);
  }
  std::size_t n = 0;
  for (const auto& [id, display] : known_users) {
    if (++n > 8) break;
    const cli::Completion c =
        cli::complete("/tell " + display.substr(0, 2), known_users, self_id, fake_dir);
    for (const std::string& m : c.matches) {
      if (m.find_first_of(" \t") != std::string::npos) finding("completion with a blank", m);
      if (!terminal_safe(m)) finding("completion with a control character", m);
    }
    (void)cli::common_prefix(c.matches);
    const std::string listed = cli::format_candidates(c.matches, 80);
    if (!terminal_safe(listed)) finding("listed candidates have a control character", listed);
  }
#else
  (void)known_users;
  (void)self_id;
#endif
}

}  // namespace socp::fuzz
