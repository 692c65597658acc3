// socp-cli: parse the options, run one session, exit with its code (see --help).
#include "forget.h"
#include "options.h"
#include "session.h"
#include "socp/allocator.h"

int main(int argc, char** argv) {
  socp::keep_large_buffers();  // before any thread: file chunks are large frames
  socp::cli::Options opt;
  const int rc = socp::cli::parse_options(argc, argv, opt);
  if (rc >= 0) return rc;
  if (opt.mode == socp::cli::Options::Mode::ForgetServer) return socp::cli::run_forget_server(opt);
  return socp::cli::run_session(opt);
}
