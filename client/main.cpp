// socp-cli: parse the options, run one session, exit with its code (see --help).
#include "options.h"
#include "session.h"

int main(int argc, char** argv) {
  socp::cli::Options opt;
  const int rc = socp::cli::parse_options(argc, argv, opt);
  if (rc >= 0) return rc;
  return socp::cli::run_session(opt);
}
