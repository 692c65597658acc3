// Private: small files only their owner may read (identity, trust pins): read with a size
// limit, written atomically. POSIX calls, because the modes and the atomic replace are the
// point.
#pragma once

#include <cstddef>
#include <string>

#include "socp/result.h"

namespace socp::client {

/// `a` + "/" + `b` (no doubled slash).
std::string join_path(std::string_view a, std::string_view b);
/// mkdir -p, mode 0700 for every folder created. Io if `path` is not a folder in the end.
Status make_private_dirs(const std::string& path);
/// The whole file. NotFound if missing, Corrupt if over `max_bytes`, Io otherwise.
Result<std::string> read_private_file(const std::string& path, std::size_t max_bytes);
/// Replaces `path` with `data`: temporary file (0600) in the same folder, fsync, rename, then
/// fsync of the folder. The folder is created (0700) if missing. Nothing is left behind on
/// failure.
Status write_private_file(const std::string& path, const std::string& data);

}  // namespace socp::client
