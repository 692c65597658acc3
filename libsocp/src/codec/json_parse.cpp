// json::parse — RapidJSON's iterative SAX reader feeding an explicit-stack value builder.
//
// Why SAX + our own builder: RapidJSON's recursive parser can be crashed by deep nesting and its
// DOM has neither sorted keys nor duplicate-key detection. The iterative reader never recurses
// on input depth; the handler below keeps its own stack, so the only recursion left is the
// destruction of the (depth-limited) result.
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <vector>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "codec/utf8.h"
#include "socp/json.h"

namespace socp::json {
namespace {

class Builder {
 public:
  explicit Builder(const ParseLimits& limits) : limits_(limits) {}

  // --- RapidJSON SAX interface -----------------------------------------------------------
  bool Null() { return add(Value(nullptr)); }
  bool Bool(bool b) { return add(Value(b)); }
  bool Int(int i) { return add(Value(static_cast<std::int64_t>(i))); }
  bool Uint(unsigned u) { return add(Value(static_cast<std::int64_t>(u))); }
  bool Int64(std::int64_t i) { return add(Value(i)); }
  bool Uint64(std::uint64_t u) {
    if (u > static_cast<std::uint64_t>(INT64_MAX))
      return fail(Errc::BadFrame, "integer out of range");
    return add(Value(static_cast<std::int64_t>(u)));
  }
  bool Double(double) { return fail(Errc::BadFrame, "floats are not allowed"); }
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) { return number({str, len}); }
  bool String(const char* str, rapidjson::SizeType len, bool) {
    std::string_view s(str, len);
    if (!check_string(s, "string")) return false;
    return add(Value(std::string(s)));
  }
  bool Key(const char* str, rapidjson::SizeType len, bool) {
    std::string_view k(str, len);
    if (!check_string(k, "key")) return false;
    Frame& f = stack_.back();  // RapidJSON only calls Key inside an object
    if (f.container.as_object().count(k) != 0) {
      return fail(Errc::BadFrame, "duplicate key \"" + printable(k) + "\"");
    }
    f.key.assign(k.data(), k.size());
    return true;
  }
  bool StartObject() { return open(Value(Object{})); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Value(Array{})); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  // --- results ---------------------------------------------------------------------------
  const std::optional<Error>& error() const { return error_; }
  Value take_root() { return std::move(root_); }

 private:
  struct Frame {
    Value container;  // Array or Object under construction
    std::string key;  // pending member name (objects only)
  };

  bool fail(Errc code, std::string detail) {
    if (!error_) error_ = make_error(code, std::move(detail));
    return false;
  }

  // Keys and error details may contain anything; keep details short and printable.
  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) {
      const auto u = static_cast<unsigned char>(c);
      out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    if (s.size() > 64) out += "...";
    return out;
  }

  bool check_string(std::string_view s, const char* what) {
    if (s.size() > limits_.max_string) {
      return fail(Errc::TooLarge, std::string(what) + " of " + std::to_string(s.size()) +
                                      " bytes exceeds limit of " +
                                      std::to_string(limits_.max_string));
    }
    // RapidJSON validates raw input bytes, but decodes \u escapes without rejecting a lone
    // low surrogate (\udc00) — it would produce ill-formed UTF-8. Re-validate the result.
    if (!codec::valid_utf8(s)) {
      return fail(Errc::BadFrame, std::string(what) + " is not valid UTF-8 (lone surrogate?)");
    }
    return true;
  }

  // Numbers arrive as text (kParseNumbersAsStringsFlag) so we decide ourselves: only integers
  // in int64 range are accepted; RapidJSON has already checked the JSON number grammar.
  bool number(std::string_view text) {
    if (text.find_first_of(".eE") != std::string_view::npos) {
      return fail(Errc::BadFrame, "floats are not allowed");
    }
    bool neg = false;
    std::size_t i = 0;
    if (i < text.size() && text[i] == '-') {
      neg = true;
      ++i;
    }
    if (i == text.size()) return fail(Errc::BadFrame, "invalid number");
    const std::uint64_t limit =
        neg ? static_cast<std::uint64_t>(INT64_MAX) + 1 : static_cast<std::uint64_t>(INT64_MAX);
    std::uint64_t mag = 0;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c < '0' || c > '9') return fail(Errc::BadFrame, "invalid number");
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (mag > (limit - d) / 10) return fail(Errc::BadFrame, "integer out of range");
      mag = mag * 10 + d;
    }
    std::int64_t v = 0;
    if (neg) {
      v = mag == static_cast<std::uint64_t>(INT64_MAX) + 1 ? INT64_MIN
                                                           : -static_cast<std::int64_t>(mag);
    } else {
      v = static_cast<std::int64_t>(mag);
    }
    return add(Value(v));
  }

  bool open(Value container) {
    if (stack_.size() >= limits_.max_depth) {
      return fail(Errc::TooDeep,
                  "JSON nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    stack_.push_back(Frame{std::move(container), {}});
    return true;
  }

  bool close() {
    Value done = std::move(stack_.back().container);
    stack_.pop_back();
    return add(std::move(done));
  }

  bool add(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (f.container.is_array()) {
      f.container.as_array().push_back(std::move(v));
    } else {
      f.container.as_object().emplace(std::move(f.key), std::move(v));
      f.key.clear();
    }
    return true;
  }

  const ParseLimits& limits_;
  std::vector<Frame> stack_;
  Value root_;
  std::optional<Error> error_;
};

// No kParseValidateEncodingFlag: every decoded string and key goes through check_string,
// whose valid_utf8 refuses whatever RapidJSON's byte-by-byte validation would (raw invalid
// bytes are copied into the decoded string as they are) and also the lone surrogates it lets
// through; outside strings any non-ASCII byte is a syntax error anyway. Validating twice cost
// ~15% of relaying a 350 KB bulk file chunk.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;

}  // namespace

Result<Value> parse(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return make_error(Errc::TooLarge, "JSON text of " + std::to_string(text.size()) +
                                          " bytes exceeds limit of " +
                                          std::to_string(limits.max_bytes));
  }
  // RapidJSON's streams use '\0' as end of input: a raw NUL would silently end the document
  // early. Valid JSON never contains one (inside strings it must be escaped as \u0000).
  if (text.empty() || std::memchr(text.data(), 0, text.size()) != nullptr) {
    return make_error(Errc::BadFrame,
                      text.empty() ? "empty JSON text" : "raw NUL byte in JSON text");
  }
  try {
    rapidjson::MemoryStream in(text.data(), text.size());
    rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>> reader;
    Builder builder(limits);
    const rapidjson::ParseResult pr = reader.Parse<kParseFlags>(in, builder);
    if (builder.error()) return *builder.error();
    if (pr.IsError()) {
      return make_error(Errc::BadFrame, std::string("invalid JSON at offset ") +
                                            std::to_string(pr.Offset()) + ": " +
                                            rapidjson::GetParseError_En(pr.Code()));
    }
    return builder.take_root();
  } catch (const std::bad_alloc&) {
    return make_error(Errc::TooLarge, "out of memory while parsing JSON");
  } catch (const std::exception& e) {
    return make_error(Errc::Internal, std::string("JSON parser failure: ") + e.what());
  }
}

}  // namespace socp::json
