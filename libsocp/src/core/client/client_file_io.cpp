// The file system side of /file: reading what we send, and writing what we receive without
// ever leaving the download folder or replacing an existing file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/utf8.h"
#include "core/client/client_files.h"
#include "socp/client_core.h"

namespace socp::client {
namespace {

constexpr std::size_t kMaxNameBytes = 200;  // NAME_MAX is 255: room for " (9999)"
constexpr int kMaxNameAttempts = 10'000;

std::string errno_text(int e) {
  return std::strerror(e);
}

// RAII for a POSIX file descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

bool write_all(int fd, std::string_view data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// "report.pdf" -> ("report", ".pdf"); "archive" -> ("archive", ""); the dot must not be first.
std::pair<std::string, std::string> split_ext(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return {name, ""};
  return {name.substr(0, dot), name.substr(dot)};
}

// At most `max` bytes, cut on a code point boundary.
std::string utf8_prefix(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  auto pieces = split_utf8(s, max);
  return pieces.empty() ? std::string() : pieces.front();
}

// Control characters (C0, DEL, C1) and the bidirectional overrides that make a name read
// differently from what it is ("evil\u202Etxt.exe").
bool is_unsafe_code_point(std::int32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f;
}

// What may be sent as a file: a regular file within the size limit.
Status check_sendable(const std::string& path, const struct stat& st, std::uint64_t max) {
  if (S_ISDIR(st.st_mode)) return make_error(Errc::Io, path + " is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return make_error(Errc::Io, path + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max) {
    return make_error(Errc::TooLarge, path + " is " + std::to_string(st.st_size) +
                                          " bytes; the limit is " + std::to_string(max) +
                                          " bytes (--max-file-size)");
  }
  return ok_status();
}

}  // namespace

Result<std::string> read_file_for_send(const std::string& path, std::uint64_t max) {
  if (path.empty()) return make_error(Errc::InvalidArgument, "no file given");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    return make_error(e == ENOENT ? Errc::NotFound : Errc::Io,
                      "cannot read " + path + ": " + errno_text(e));
  }
  SOCP_TRY(check_sendable(path, st, max));
  // O_NONBLOCK: if the path was swapped for a FIFO since stat(), open must not hang.
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (f.fd < 0) {
    const int e = errno;
    return make_error(Errc::Io, "cannot read " + path + ": " + errno_text(e));
  }
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(Errc::Io, path + " is not a regular file");
  }
  std::string data;
  data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      return make_error(Errc::Io, "cannot read " + path + ": " + errno_text(e));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max) {  // it grew while we read it
      return make_error(Errc::TooLarge, path + " is over the limit of " + std::to_string(max) +
                                            " bytes (--max-file-size)");
    }
  }
  return data;
}

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string safe_file_name(std::string_view name, std::string_view file_id) {
  // Only the last component counts, whichever separator the sender's system uses.
  const std::size_t sep = name.find_last_of("/\\");
  if (sep != std::string_view::npos) name.remove_prefix(sep + 1);
  std::string out;
  if (codec::valid_utf8(name)) {
    for (std::size_t i = 0; i < name.size();) {
      const std::size_t start = i;
      const std::int32_t cp = codec::decode_utf8(name, i);
      if (is_unsafe_code_point(cp)) continue;
      out.append(name.substr(start, i - start));
    }
  }
  // No hidden files, no "." / "..": leading dots and blanks go; trailing blanks too.
  std::size_t lead = 0;
  while (lead < out.size() && (out[lead] == '.' || out[lead] == ' ')) ++lead;
  out.erase(0, lead);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxNameBytes) {
    auto [stem, ext] = split_ext(out);
    if (ext.size() > 16) ext.clear();
    out = utf8_prefix(stem, kMaxNameBytes - ext.size()) + ext;
  }
  if (out.empty()) {
    std::string id;
    for (char ch : file_id) {
      if (id.size() >= 64) break;
      if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '-') {
        id.push_back(ch);
      }
    }
    out = "file-" + (id.empty() ? std::string("unnamed") : id);
  }
  return out;
}

Status ensure_dir(const std::string& dir) {
  if (dir.empty()) return make_error(Errc::InvalidArgument, "no download folder configured");
  std::string partial;
  std::size_t pos = 0;
  while (pos <= dir.size()) {
    std::size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    partial = dir.substr(0, next);
    if (!partial.empty() && ::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      const int e = errno;
      return make_error(Errc::Io, "cannot create " + partial + ": " + errno_text(e));
    }
    pos = next + 1;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(Errc::Io, dir + " is not a directory");
  }
  return ok_status();
}

Result<std::string> write_new_file(const std::string& dir, const std::string& name,
                                   std::string_view data) {
  auto [stem, ext] = split_ext(name);
  for (int n = 0; n < kMaxNameAttempts; ++n) {
    const std::string candidate = n == 0 ? name : stem + " (" + std::to_string(n) + ")" + ext;
    const std::string path = dir + "/" + candidate;
    // O_EXCL: never overwrite, and never follow a symlink someone planted under that name.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      const int e = errno;
      return make_error(Errc::Io, "cannot create " + path + ": " + errno_text(e));
    }
    Fd f(fd);
    if (!write_all(fd, data) || ::fsync(fd) != 0) {
      const int e = errno;
      ::unlink(path.c_str());
      return make_error(Errc::Io, "cannot write " + path + ": " + errno_text(e));
    }
    return path;
  }
  return make_error(Errc::Io, "too many files named like " + name + " in " + dir);
}

// ---- FileSource ----------------------------------------------------------------------------

Result<FileSource> FileSource::open(const std::string& path, std::uint64_t max) {
  if (path.empty()) return make_error(Errc::InvalidArgument, "no file given");
  // O_NONBLOCK: a FIFO must not make open hang; fstat then refuses anything not regular.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int e = errno;
    return make_error(e == ENOENT ? Errc::NotFound : Errc::Io,
                      "cannot read " + path + ": " + errno_text(e));
  }
  FileSource src;
  src.fd_ = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(Errc::Io, "cannot read " + path);
  SOCP_TRY(check_sendable(path, st, max));
  src.size_ = static_cast<std::uint64_t>(st.st_size);
  return src;
}

FileSource::FileSource(FileSource&& o) noexcept : fd_(o.fd_), size_(o.size_) {
  o.fd_ = -1;
}

FileSource& FileSource::operator=(FileSource&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    size_ = o.size_;
    o.fd_ = -1;
  }
  return *this;
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> FileSource::read_at(std::uint64_t offset, std::size_t n) const {
  if (fd_ < 0) return make_error(Errc::Io, "file not open");
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      return make_error(Errc::Io, "cannot read: " + errno_text(e));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

// ---- PartialFile ---------------------------------------------------------------------------

Result<PartialFile> PartialFile::create(const std::string& dir, std::string_view file_id) {
  if (Status st = ensure_dir(dir); !st) return st.error();
  PartialFile p;
  p.dir_ = dir;
  p.tmp_ = dir + "/.socp-part-" + safe_file_name("", file_id).substr(5);  // "file-" dropped
  const int fd = ::open(p.tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int e = errno;
    p.tmp_.clear();
    return make_error(Errc::Io, "cannot create a file in " + dir + ": " + errno_text(e));
  }
  p.fd_ = fd;
  return p;
}

PartialFile::PartialFile(PartialFile&& o) noexcept
    : fd_(o.fd_), dir_(std::move(o.dir_)), tmp_(std::move(o.tmp_)) {
  o.fd_ = -1;
  o.tmp_.clear();
}

PartialFile& PartialFile::operator=(PartialFile&& o) noexcept {
  if (this != &o) {
    discard();
    fd_ = o.fd_;
    dir_ = std::move(o.dir_);
    tmp_ = std::move(o.tmp_);
    o.fd_ = -1;
    o.tmp_.clear();
  }
  return *this;
}

PartialFile::~PartialFile() {
  discard();
}

void PartialFile::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_.clear();
}

Status PartialFile::append(std::string_view data) {
  if (fd_ < 0) return make_error(Errc::Io, "file not open");
  if (!write_all(fd_, data)) {
    const int e = errno;
    return make_error(Errc::Io, "cannot write " + tmp_ + ": " + errno_text(e));
  }
  return ok_status();
}

Result<std::string> PartialFile::commit(const std::string& name) {
  if (fd_ < 0) return make_error(Errc::Io, "file not open");
  if (::fsync(fd_) != 0) {
    const int e = errno;
    return make_error(Errc::Io, "cannot write " + tmp_ + ": " + errno_text(e));
  }
  ::close(fd_);
  fd_ = -1;
  auto [stem, ext] = split_ext(name);
  for (int n = 0; n < kMaxNameAttempts; ++n) {
    const std::string candidate = n == 0 ? name : stem + " (" + std::to_string(n) + ")" + ext;
    const std::string path = dir_ + "/" + candidate;
    // link() never replaces an existing file (EEXIST), like O_EXCL.
    if (::link(tmp_.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) continue;
      const int e = errno;
      return make_error(Errc::Io, "cannot create " + path + ": " + errno_text(e));
    }
    ::unlink(tmp_.c_str());
    tmp_.clear();
    return path;
  }
  return make_error(Errc::Io, "too many files named like " + name + " in " + dir_);
}

std::string missing_ranges(const std::map<std::int64_t, std::string>& have, std::int64_t total) {
  std::string out;
  std::int64_t missing = 0;
  std::int64_t shown = 0;
  for (std::int64_t i = 0; i < total;) {
    if (have.count(i)) {
      ++i;
      continue;
    }
    std::int64_t j = i;
    while (j + 1 < total && !have.count(j + 1)) ++j;
    missing += j - i + 1;
    if (shown < 8) {  // a short list: the count says the rest
      if (!out.empty()) out += ", ";
      out += j == i ? std::to_string(i) : std::to_string(i) + "-" + std::to_string(j);
    } else if (shown == 8) {
      out += ", ...";
    }
    ++shown;
    i = j + 1;
  }
  return out + " (" + std::to_string(missing) + " of " + std::to_string(total) + ")";
}

}  // namespace socp::client
