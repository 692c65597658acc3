// transport/ws_http.cpp — HTTP/1.1 heads, the WebSocket upgrade decision, responses.
#include "transport/ws_http.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>

namespace socp::transport {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 7230 tchar.
bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// Calls fn(token) for each comma-separated element of a header value.
template <typename Fn>
void for_each_element(std::string_view v, Fn fn) {
  while (!v.empty()) {
    const auto comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

const char* reason_phrase(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool is_b64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

// A Sec-WebSocket-Key must decode to exactly 16 bytes: 22 base64 characters and "==".
bool valid_key(std::string_view k) {
  if (k.size() != 24 || k[22] != '=' || k[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i)
    if (!is_b64_char(k[i])) return false;
  return true;
}

std::string base64(const unsigned char* p, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), p, static_cast<int>(n));
  out.resize(len > 0 ? static_cast<std::size_t>(len) : 0);
  return out;
}

ServerDecision reject(int status, std::string why, std::string_view extra = {}) {
  ServerDecision d;
  d.kind = ServerDecision::Kind::Reject;
  d.response = http_response(status, "text/plain; charset=utf-8", "socp: " + why + "\n", extra);
  d.why = std::move(why);
  return d;
}

}  // namespace

// ---- HeadCollector ----------------------------------------------------------------------------

std::size_t HeadCollector::feed(const char* p, std::size_t n) {
  if (status_ != Status::Incomplete) return 0;
  const std::size_t before = head_.size();
  const std::size_t room = kMaxHttpHead + 4 - before;
  const std::size_t take = n < room ? n : room;
  head_.append(p, take);
  const std::size_t from = before >= 3 ? before - 3 : 0;
  const auto end = head_.find("\r\n\r\n", from);
  if (end != std::string::npos) {
    const std::size_t used = end + 4 - before;
    head_.resize(end);
    status_ = Status::Complete;
    return used;
  }
  if (head_.size() >= kMaxHttpHead + 4) {
    status_ = Status::TooLarge;
    head_.clear();
  }
  return take;
}

// ---- heads ------------------------------------------------------------------------------------

const std::string* HttpHead::get(std::string_view name) const {
  for (const auto& h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

bool HttpHead::has_token(std::string_view name, std::string_view token) const {
  bool found = false;
  for (const auto& h : headers) {
    if (h.first != name) continue;
    for_each_element(h.second, [&](std::string_view t) { found = found || iequals(t, token); });
  }
  return found;
}

bool parse_head(const std::string& head, HttpHead& out) {
  std::string_view rest(head);
  auto eol = rest.find("\r\n");
  out.start_line = std::string(rest.substr(0, eol));
  if (out.start_line.empty()) return false;
  rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
  while (!rest.empty()) {
    eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') return false;  // obs-fold
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return false;
    std::string lname;
    for (char c : name) lname.push_back(lower(c));
    out.headers.emplace_back(std::move(lname), std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

// ---- server -----------------------------------------------------------------------------------

ServerDecision decide_request(const std::string& head) {
  HttpHead h;
  if (!parse_head(head, h)) return reject(400, "malformed request");
  // Request line: METHOD SP target SP HTTP/x.y
  const std::string& rl = h.start_line;
  const auto sp1 = rl.find(' ');
  const auto sp2 = sp1 == std::string::npos ? sp1 : rl.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || rl.find(' ', sp2 + 1) != rl.npos)
    return reject(400, "malformed request line");
  const std::string method = rl.substr(0, sp1);
  const std::string target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string version = rl.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || target.front() != '/')
    return reject(400, "malformed request line");
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return reject(400, "unsupported HTTP version");

  if (!h.has_token("upgrade", "websocket")) {
    ServerDecision d;
    d.kind = ServerDecision::Kind::Http;
    d.method = method;
    d.path = target.substr(0, target.find('?'));
    return d;
  }
  if (method != "GET") return reject(400, "a WebSocket upgrade must be a GET");
  if (version != "HTTP/1.1") return reject(400, "a WebSocket upgrade needs HTTP/1.1");
  if (!h.get("host")) return reject(400, "missing Host header");
  if (!h.has_token("connection", "upgrade")) return reject(400, "missing Connection: Upgrade");
  const std::string* version13 = h.get("sec-websocket-version");
  if (!version13 || *version13 != "13")
    return reject(426, "unsupported WebSocket version", "Sec-WebSocket-Version: 13\r\n");
  const std::string* key = h.get("sec-websocket-key");
  if (!key || !valid_key(*key)) return reject(400, "bad Sec-WebSocket-Key");

  ServerDecision d;
  d.kind = ServerDecision::Kind::Upgrade;
  bool socp = false;
  std::string first;
  for (const auto& hd : h.headers) {
    if (hd.first != "sec-websocket-protocol") continue;
    for_each_element(hd.second, [&](std::string_view t) {
      if (t == "socp") socp = true;
      if (first.empty() && is_token(t) && t.size() < 64) first = std::string(t);
    });
  }
  d.subprotocol = socp ? "socp" : first;
  d.response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websocket_accept(*key) + "\r\n";
  if (!d.subprotocol.empty()) d.response += "Sec-WebSocket-Protocol: " + d.subprotocol + "\r\n";
  d.response += "\r\n";
  return d;
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  if (!content_type.empty()) r.append("Content-Type: ").append(content_type).append("\r\n");
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Cache-Control: no-store\r\nConnection: close\r\n";
  r.append(extra_headers);
  r += "\r\n";
  r.append(body);
  return r;
}

std::string websocket_accept(std::string_view key) {
  std::string in(key);
  in.append(kGuid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(in.data(), in.size(), md, &md_len, EVP_sha1(), nullptr) != 1) return {};
  return base64(md, md_len);
}

std::string new_websocket_key() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    // Not a secret (RFC 6455 §4.1 wants a nonce against caching intermediaries).
    for (std::size_t i = 0; i < sizeof raw; ++i) raw[i] = static_cast<unsigned char>(i * 37);
  }
  return base64(raw, sizeof raw);
}

// ---- client -----------------------------------------------------------------------------------

std::string client_request(std::string_view host_header, std::string_view path,
                           std::string_view key) {
  std::string r = "GET ";
  r.append(path.empty() ? std::string_view("/") : path);
  r += " HTTP/1.1\r\nHost: ";
  r.append(host_header);
  r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r.append(key);
  r += "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: socp\r\n\r\n";
  return r;
}

std::string check_server_response(const std::string& head, std::string_view key) {
  HttpHead h;
  if (!parse_head(head, h)) return "malformed HTTP response";
  const std::string& sl = h.start_line;
  if (sl.rfind("HTTP/1.1 101", 0) != 0 || (sl.size() > 12 && sl[12] != ' '))
    return "server answered '" + sl.substr(0, 64) + "', not 101";
  if (!h.has_token("upgrade", "websocket")) return "101 without Upgrade: websocket";
  if (!h.has_token("connection", "upgrade")) return "101 without Connection: Upgrade";
  const std::string* accept = h.get("sec-websocket-accept");
  if (!accept || *accept != websocket_accept(key)) return "wrong Sec-WebSocket-Accept";
  if (h.get("sec-websocket-extensions")) return "server chose an extension we did not offer";
  if (h.get("sec-websocket-protocol")) return "server chose a subprotocol we did not offer";
  return {};
}

}  // namespace socp::transport
