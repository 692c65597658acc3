#include "transport_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace socp::test {

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    socklen_t len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

Result<std::unique_ptr<WsHost>> create_listener(WsHostOptions opt, WsHost::Handler& h,
                                                std::uint16_t* port_out) {
  Error last = make_error(Errc::Io, "no free port found");
  for (int attempt = 0; attempt < 5; ++attempt) {
    opt.listen_host = "127.0.0.1";
    opt.listen_port = free_port();
    if (opt.listen_port == 0) continue;
    auto r = WsHost::create(opt, h);
    if (r) {
      *port_out = opt.listen_port;
      return r;
    }
    last = r.error();
    if (last.code != Errc::Io) break;
  }
  return last;
}

// ---- Recorder -----------------------------------------------------------------------------

void Recorder::on_open(ConnId c) {
  {
    std::lock_guard<std::mutex> lk(mu);
    opens.push_back(c);
    callback_threads.insert(std::this_thread::get_id());
  }
  cv.notify_all();
  if (on_open_hook) on_open_hook(c);
}

void Recorder::on_frame(ConnId c, std::string f) {
  if (on_frame_hook) on_frame_hook(c, f);
  if (echo && host) host->send(c, f);
  {
    std::lock_guard<std::mutex> lk(mu);
    frames[c].push_back(std::move(f));
    callback_threads.insert(std::this_thread::get_id());
  }
  cv.notify_all();
}

void Recorder::on_close(ConnId c) {
  {
    std::lock_guard<std::mutex> lk(mu);
    closes.push_back(c);
    callback_threads.insert(std::this_thread::get_id());
  }
  cv.notify_all();
}

bool Recorder::wait(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lk(mu);
  return cv.wait_for(lk, limit, pred);
}

std::vector<ConnId> Recorder::opened() {
  std::lock_guard<std::mutex> lk(mu);
  return opens;
}

std::vector<ConnId> Recorder::closed_list() {
  std::lock_guard<std::mutex> lk(mu);
  return closes;
}

std::vector<std::string> Recorder::frames_of(ConnId c) {
  std::lock_guard<std::mutex> lk(mu);
  auto it = frames.find(c);
  return it == frames.end() ? std::vector<std::string>{} : it->second;
}

int Recorder::close_count(ConnId c) {
  std::lock_guard<std::mutex> lk(mu);
  return static_cast<int>(std::count(closes.begin(), closes.end(), c));
}

// ---- LoopThread ---------------------------------------------------------------------------

LoopThread::LoopThread(WsHost& host) : host_(host), thread_([this] { rc_ = host_.run(); }) {}

LoopThread::~LoopThread() {
  stop_and_join();
}

void LoopThread::stop_and_join() {
  if (!thread_.joinable()) return;
  host_.stop();
  thread_.join();
}

// ---- RawWs --------------------------------------------------------------------------------

RawWs::~RawWs() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawWs::connect_only(std::uint16_t port, const char* source_ip) {
  fd_ = connect_loopback(port, 3, source_ip);
  return fd_ >= 0;
}

bool RawWs::send_bytes(const std::string& bytes, std::size_t piece) {
  if (piece == 0) return write_all(fd_, bytes);
  for (std::size_t off = 0; off < bytes.size(); off += piece) {
    if (!write_all(fd_, bytes.substr(off, piece))) return false;
  }
  return true;
}

std::string RawWs::read_until_eof(std::size_t max) {
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

std::string RawWs::open_from(const char* source_ip, std::uint16_t port) {
  if (!connect_only(port, source_ip)) return {};
  return handshake(port, {});
}

std::string RawWs::open(std::uint16_t port, const std::string& extra_headers) {
  if (!connect_only(port)) return {};
  return handshake(port, extra_headers);
}

std::string RawWs::handshake(std::uint16_t port, const std::string& extra_headers) {
  std::string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                    extra_headers + "\r\n";
  if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return {};
  std::string head;
  char c;
  while (head.size() < 8192 && head.find("\r\n\r\n") == std::string::npos) {
    if (::recv(fd_, &c, 1, 0) != 1) break;
    head.push_back(c);
  }
  return head;
}

bool RawWs::send_frame(int opcode, const std::string& payload, bool fin) {
  FrameOpts o;
  o.fin = fin;
  return write_all(fd_, ws_frame(opcode, payload, o));
}

bool RawWs::read_exact(char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd_, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool RawWs::read_frame(int& opcode, std::string& payload) {
  WireFrame f;
  if (!read_wire_frame(fd_, f)) return false;
  opcode = f.opcode;
  payload = std::move(f.payload);
  return true;
}

int RawWs::read_close_code() {
  int op = 0;
  std::string p;
  for (int i = 0; i < 1000; ++i) {
    if (!read_frame(op, p)) return -1;
    if (op == 8) {
      send_frame(8, p.substr(0, 2));  // acknowledge, as RFC 6455 §5.5.1 asks
      if (p.size() < 2) return 1005;
      return (static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]);
    }
  }
  return -1;
}

// ---- frames and sockets -------------------------------------------------------------------

std::string ws_frame(int opcode, const std::string& payload, FrameOpts o) {
  std::string f;
  f.push_back(static_cast<char>((o.fin ? 0x80 : 0) | ((o.rsv & 7) << 4) | (opcode & 0x0f)));
  const std::uint64_t n = o.announce != ~std::uint64_t{0} ? o.announce : payload.size();
  const char mbit = o.mask ? '\x80' : 0;
  int form = o.len_form;
  if (form == 0) form = n < 126 ? 0 : (n < 65536 ? 126 : 127);
  if (form == 0) {
    f.push_back(static_cast<char>(mbit | static_cast<char>(n)));
  } else if (form == 126) {
    f.push_back(static_cast<char>(mbit | 126));
    f.push_back(static_cast<char>((n >> 8) & 0xff));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  if (!o.mask) return f + payload;
  const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

std::string close_payload(int code, const std::string& reason) {
  std::string p;
  p.push_back(static_cast<char>((code >> 8) & 0xff));
  p.push_back(static_cast<char>(code & 0xff));
  return p + reason;
}

namespace {

bool recv_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

bool read_wire_frame(int fd, WireFrame& out) {
  unsigned char h[2];
  if (!recv_exact(fd, reinterpret_cast<char*>(h), 2)) return false;
  out.fin = (h[0] & 0x80) != 0;
  out.opcode = h[0] & 0x0f;
  out.masked = (h[1] & 0x80) != 0;
  std::uint64_t n = h[1] & 0x7f;
  if (n == 126) {
    unsigned char e[2];
    if (!recv_exact(fd, reinterpret_cast<char*>(e), 2)) return false;
    n = (std::uint64_t{e[0]} << 8) | e[1];
  } else if (n == 127) {
    unsigned char e[8];
    if (!recv_exact(fd, reinterpret_cast<char*>(e), 8)) return false;
    n = 0;
    for (unsigned char b : e) n = (n << 8) | b;
  }
  if (n > (64u << 20)) return false;
  unsigned char mask[4] = {0, 0, 0, 0};
  if (out.masked && !recv_exact(fd, reinterpret_cast<char*>(mask), 4)) return false;
  out.payload.assign(static_cast<std::size_t>(n), '\0');
  if (n != 0 && !recv_exact(fd, &out.payload[0], out.payload.size())) return false;
  if (out.masked) {
    for (std::size_t i = 0; i < out.payload.size(); ++i)
      out.payload[i] = static_cast<char>(out.payload[i] ^ mask[i % 4]);
  }
  return true;
}

int connect_loopback(std::uint16_t port, int timeout_s, const char* source_ip) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (source_ip) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip, &local.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  timeval tv{};
  tv.tv_sec = timeout_s;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

// ---- FakeWsServer -------------------------------------------------------------------------

namespace {

std::string accept_key_for(const std::string& key) {
  const std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(in.data(), in.size(), md, &md_len, EVP_sha1(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(md_len));
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

std::string header_value(const std::string& head, const std::string& name) {
  std::string lower;
  for (char c : head)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto pos = lower.find("\r\n" + name + ":");
  if (pos == std::string::npos) return {};
  pos += name.size() + 3;
  auto end = head.find("\r\n", pos);
  std::string v = head.substr(pos, end - pos);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

}  // namespace

FakeWsServer::~FakeWsServer() {
  if (lfd_ >= 0) ::shutdown(lfd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  if (lfd_ >= 0) ::close(lfd_);
}

std::uint16_t FakeWsServer::start(std::string script, std::string response) {
  lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (lfd_ < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 0;
  if (::listen(lfd_, 4) != 0) return 0;
  socklen_t len = sizeof sa;
  if (::getsockname(lfd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  thread_ = std::thread([this, script = std::move(script), response = std::move(response)] {
    serve(script, response);
  });
  return ntohs(sa.sin_port);
}

void FakeWsServer::serve(std::string script, std::string response) {
  int cfd = ::accept(lfd_, nullptr, nullptr);
  std::vector<WireFrame> frames;
  int code = -1;
  bool masked = true;
  std::string head;
  if (cfd >= 0) {
    timeval tv{};
    tv.tv_sec = 5;
    ::setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    while (head.size() < 16384 && head.find("\r\n\r\n") == std::string::npos) {
      if (::recv(cfd, &c, 1, 0) != 1) break;
      head.push_back(c);
    }
    const std::string accept = accept_key_for(header_value(head, "sec-websocket-key"));
    if (response.empty()) {
      response =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: {accept}\r\n\r\n";
    }
    auto at = response.find("{accept}");
    if (at != std::string::npos) response.replace(at, 8, accept);
    write_all(cfd, response + script);
    WireFrame f;
    while (read_wire_frame(cfd, f)) {
      masked = masked && f.masked;
      if (f.opcode == 8) {
        code = f.payload.size() >= 2 ? ((static_cast<unsigned char>(f.payload[0]) << 8) |
                                        static_cast<unsigned char>(f.payload[1]))
                                     : 1005;
        frames.push_back(f);
        break;
      }
      frames.push_back(f);
    }
    ::close(cfd);
  }
  std::lock_guard<std::mutex> lk(mu_);
  request_ = std::move(head);
  frames_ = std::move(frames);
  close_code_ = code;
  all_masked_ = masked;
  done_ = true;
  cv_.notify_all();
}

bool FakeWsServer::wait_done(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, limit, [this] { return done_; });
}

// ---- TempDir, TestCert ---------------------------------------------------------------------

TempDir::TempDir() {
  char tmpl[] = "/tmp/socp-transport-test-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  REQUIRE(made != nullptr);
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

void add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

TestCert make_test_cert(const TempDir& dir, const std::string& prefix) {
  TestCert out;
  out.cert_file = dir.file(prefix + "cert.pem");
  out.key_file = dir.file(prefix + "key.pem");
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  REQUIRE(pkey != nullptr);
  X509* cert = X509_new();
  REQUIRE(cert != nullptr);
  X509_set_version(cert, 2);
  unsigned char serial[8];
  for (std::size_t i = 0; i < sizeof serial; ++i)
    serial[i] = static_cast<unsigned char>(std::rand() & 0x7f);
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24);
  X509_set_pubkey(cert, pkey);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  add_ext(cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  REQUIRE(X509_sign(cert, pkey, EVP_sha256()) > 0);

  FILE* f = std::fopen(out.cert_file.c_str(), "w");
  REQUIRE(f != nullptr);
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(out.key_file.c_str(), "w");
  REQUIRE(f != nullptr);
  PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  REQUIRE(X509_digest(cert, EVP_sha256(), md, &md_len) == 1);
  static const char* const kHex = "0123456789ABCDEF";
  for (unsigned i = 0; i < md_len; ++i) {
    if (i) out.sha256.push_back(':');
    out.sha256.push_back(kHex[md[i] >> 4]);
    out.sha256.push_back(kHex[md[i] & 15]);
  }
  X509_free(cert);
  EVP_PKEY_free(pkey);
  return out;
}

}  // namespace socp::test
