// transport/ws_accept.cpp — who may connect: total and per-IP caps on accepted connections,
// checked at accept time (before any byte is read), and peer addresses for log lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "transport/ws_host_impl.h"

namespace socp {

namespace transport {

std::string ip_of(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    return buf;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      in_addr v4;
      std::memcpy(&v4, &v6->sin6_addr.s6_addr[12], 4);
      ::inet_ntop(AF_INET, &v4, buf, sizeof buf);
      return buf;
    }
    ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    return buf;
  }
  return {};
}

std::string ip_port_of(const sockaddr* sa) {
  const std::string ip = ip_of(sa);
  if (ip.empty()) return {};
  unsigned port = 0;
  if (sa->sa_family == AF_INET) port = ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) port = ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::string peer_of_fd(int fd, std::string* ip) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  if (ip) *ip = ip_of(reinterpret_cast<sockaddr*>(&ss));
  return ip_port_of(reinterpret_cast<sockaddr*>(&ss));
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

}  // namespace transport

int WsHost::Impl::filter_connection(const sockaddr* addr) {
  if (stop_flag.load() || tearing_down) return -1;
  const std::string ip = addr ? transport::ip_of(addr) : std::string();
  const char* why = nullptr;
  if (accepted_open >= opt.max_connections) {
    ++st.refused_max_connections;
    why = "too many connections";
  } else if (!ip.empty()) {
    auto it = per_ip.find(ip);
    if (it != per_ip.end() && it->second >= opt.max_connections_per_ip) {
      ++st.refused_per_ip;
      why = "too many connections from this address";
    }
  }
  if (!why) return 0;
  // Log the first refusal of every second with the count since, not one line per attempt.
  const std::int64_t now = now_ms();
  ++refused_unlogged;
  if (now - refused_logged_ms >= 1000) {
    log(LogLevel::Warn, std::string("ws: refused connection from ") + (ip.empty() ? "?" : ip) +
                            ": " + why + " (" + std::to_string(refused_unlogged) +
                            " refused since last report; " + std::to_string(accepted_open) +
                            " open)");
    refused_logged_ms = now;
    refused_unlogged = 0;
  }
  return -1;
}

}  // namespace socp
