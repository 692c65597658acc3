// server/config_errors.h — one clear line for a config file CLI11 refused.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace socp_server {

/// Turns CLI11's "INI was not able to parse data_dir" into "config file F: unknown key
/// 'data_dir' (did you mean 'data-dir'?)" by reading the file again and naming the first key
/// that no option of `app` takes. Falls back to CLI11's text.
std::string explain_config_error(const CLI::App& app, const CLI::ConfigError& e);

/// The --config file `app` read ("" = none).
std::string config_path(const CLI::App& app);

/// The long option of `app` closest to `key` ("data_dir" -> "data-dir"), or "" if none is
/// close. Hidden options are never suggested.
std::string suggest_key(const CLI::App& app, const std::string& key);

}  // namespace socp_server
