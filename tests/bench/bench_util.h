// What every benchmark in tests/bench prints and measures the same way: METRIC lines, wall
// time since a point, and the process's resident memory. Header only; tests/bench only.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace socp::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// `METRIC name value unit`, flushed at once (the scripts read it while the run goes on).
inline void metric(const std::string& name, double v, const std::string& unit) {
  std::printf("METRIC %s %.3f %s\n", name.c_str(), v, unit.c_str());
  std::fflush(stdout);
}

/// VmRSS of this process in MiB (0 if /proc is unreadable).
inline double rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

}  // namespace socp::bench
