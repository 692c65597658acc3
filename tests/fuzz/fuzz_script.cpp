// The script format shared by the harnesses (fuzz_harness.h) and the harness registry.
#include "fuzz_harness.h"

namespace socp::fuzz {

std::vector<Record> split_script(std::string_view input) {
  std::vector<Record> out;
  std::size_t start = 0;
  while (start <= input.size() && out.size() < kMaxRecords) {
    std::size_t end = input.find(kRecordSeparator, start);
    if (end == std::string_view::npos) end = input.size();
    if (end > start) out.push_back(Record{input[start], input.substr(start + 1, end - start - 1)});
    start = end + 1;
  }
  return out;
}

std::string join_script(const std::vector<std::pair<char, std::string>>& records) {
  std::string out;
  for (const auto& [op, body] : records) {
    if (!out.empty()) out.push_back(kRecordSeparator);
    out.push_back(op);
    out += body;
  }
  return out;
}

std::vector<std::string> harness_names() {
  return {"client_login", "client_ready", "client_files", "codec", "server"};
}

bool run_harness(std::string_view name, std::string_view input) {
  if (name == "client_login") {
    client_login(input);
  } else if (name == "client_ready") {
    client_ready(input);
  } else if (name == "client_files") {
    client_files(input);
  } else if (name == "codec") {
    codec(input);
  } else if (name == "server") {
    server(input);
  } else {
    return false;
  }
  return true;
}

}  // namespace socp::fuzz
