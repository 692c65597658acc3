// server/pid_file.h — --pid-file: the process id in a file while the server runs.
#pragma once

#include <string>

#include "socp/result.h"

namespace socp_server {

class PidFile {
 public:
  PidFile() = default;
  /// Writes "<pid>\n" to `path` (replacing it). Io error naming the path.
  static socp::Result<PidFile> write(const std::string& path);
  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&& other) noexcept;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();  ///< removes the file

 private:
  std::string path_;
};

}  // namespace socp_server
