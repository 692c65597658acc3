// server/sd_notify.h — systemd's readiness protocol (Type=notify) without libsystemd.
//
// When systemd starts the server it sets $NOTIFY_SOCKET to a unix datagram socket (a path, or
// an abstract name starting with '@'); each state change is one datagram of "KEY=value" lines.
// Without $NOTIFY_SOCKET every call does nothing.
// Thread-safety: any thread.
#pragma once

#include <string>

namespace socp_server {

/// Sends `state` (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET. False if there is no
/// socket or the send failed (never fatal: the server runs on).
bool sd_notify(const std::string& state);

/// READY=1 with a STATUS line.
bool notify_ready(const std::string& status);
/// RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ones ignore it).
bool notify_reloading();
bool notify_stopping();

}  // namespace socp_server
