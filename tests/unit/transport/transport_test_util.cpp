#include "transport_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

std::string RawWs::open(std::uint16_t port, const std::string& extra_headers) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return {};
  timeval tv{};
  tv.tv_sec = 3;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return {};
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
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0f)));
  const std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  std::size_t off = 0;
  while (off < f.size()) {
    ssize_t w = ::send(fd_, f.data() + off, f.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
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
  unsigned char h[2];
  if (!read_exact(reinterpret_cast<char*>(h), 2)) return false;
  opcode = h[0] & 0x0f;
  std::uint64_t n = h[1] & 0x7f;
  if (n == 126) {
    unsigned char e[2];
    if (!read_exact(reinterpret_cast<char*>(e), 2)) return false;
    n = (std::uint64_t{e[0]} << 8) | e[1];
  } else if (n == 127) {
    unsigned char e[8];
    if (!read_exact(reinterpret_cast<char*>(e), 8)) return false;
    n = 0;
    for (unsigned char b : e) n = (n << 8) | b;
  }
  if (n > (64u << 20)) return false;
  payload.assign(static_cast<std::size_t>(n), '\0');
  return n == 0 || read_exact(&payload[0], payload.size());
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

}  // namespace socp::test
