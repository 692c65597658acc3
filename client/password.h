// Getting the password without ever echoing or logging it.
#pragma once

#include <string>

#include "socp/bytes.h"
#include "socp/result.h"

namespace socp::cli {

/// --password-file (first line), else $SOCP_PASSWORD, else a prompt on the terminal with echo
/// off (asked twice when `confirm`). InvalidArgument when there is no source (stdin is not a
/// terminal and nothing else was given) or the password is empty; Io for an unreadable file.
Result<SecretBytes> get_password(const std::string& password_file, const std::string& prompt,
                                 bool confirm);

}  // namespace socp::cli
