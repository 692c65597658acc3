// SeenCache: duplicates, TTL with fake times, capacity, frame keys.
#include <catch2/catch.hpp>

#include <string>

#include "socp/envelope.h"
#include "socp/seen_cache.h"

using namespace socp;

namespace {

const char* const kFrom = "6f1c2d3e-4a5b-4c6d-8e7f-901234567890";
const char* const kTo = "0a1b2c3d-4e5f-4a6b-9c7d-8e9f00112233";

Envelope parse_ok(const std::string& text) {
  auto r = parse_envelope(text);
  INFO(text);
  REQUIRE(r.ok());
  return std::move(r).value();
}

Envelope base() {
  return make_envelope(MessageType::ServerDeliver, kFrom, kTo, 1700000000000,
                       json::Object{{"user_id", "u"}, {"ciphertext", "abc"}});
}

}  // namespace

TEST_CASE("seen cache: duplicates are detected", "[directory][seen_cache]") {
  SeenCache c(10, 1000);
  CHECK(c.insert("k1", 0));
  CHECK_FALSE(c.insert("k1", 1));
  CHECK_FALSE(c.insert("k1", 999));
  CHECK(c.insert("k2", 5));
  CHECK(c.contains("k1", 10));
  CHECK(c.contains("k2", 10));
  CHECK_FALSE(c.contains("k3", 10));
  CHECK(c.size() == 2);
}

TEST_CASE("seen cache: entries expire after the TTL", "[directory][seen_cache]") {
  SeenCache c(10, 1000);
  REQUIRE(c.insert("k1", 0));
  REQUIRE(c.insert("k2", 500));
  CHECK(c.contains("k1", 999));
  CHECK_FALSE(c.contains("k1", 1000));  // expiry is exclusive
  CHECK(c.contains("k2", 1000));

  // A duplicate does not extend the lifetime of the first sighting.
  CHECK_FALSE(c.insert("k2", 900));
  CHECK_FALSE(c.contains("k2", 1500));

  // After expiry the key counts as new again; expired entries are evicted on insert.
  CHECK(c.insert("k1", 1000));
  CHECK(c.size() == 2);  // k1 (again) and k2
  CHECK(c.insert("k3", 1600));
  CHECK(c.size() == 2);  // k2 expired at 1500
  CHECK_FALSE(c.insert("k1", 1999));
  CHECK(c.insert("k1", 2000));
}

TEST_CASE("seen cache: capacity evicts the oldest entry", "[directory][seen_cache]") {
  SeenCache c(3, 1'000'000);
  REQUIRE(c.insert("a", 1));
  REQUIRE(c.insert("b", 2));
  REQUIRE(c.insert("c", 3));
  CHECK(c.size() == 3);
  REQUIRE(c.insert("d", 4));
  CHECK(c.size() == 3);
  CHECK_FALSE(c.contains("a", 5));
  CHECK(c.contains("b", 5));
  CHECK(c.contains("d", 5));
  CHECK(c.insert("a", 6));  // forgotten, so new again (evicts b)
  CHECK_FALSE(c.contains("b", 6));
  CHECK(c.size() == 3);
}

TEST_CASE("seen cache: stays bounded under a long stream", "[directory][seen_cache]") {
  SeenCache c(100, 50);
  for (int i = 0; i < 10000; ++i) {
    REQUIRE(c.insert("k" + std::to_string(i), i));
    REQUIRE(c.size() <= 50);  // TTL is the tighter bound here
  }
  SeenCache d(100, 1'000'000);
  for (int i = 0; i < 10000; ++i) REQUIRE(d.insert("k" + std::to_string(i), i));
  CHECK(d.size() == 100);
  CHECK(d.contains("k9999", 10000));
  CHECK_FALSE(d.contains("k9899", 10000));
}

TEST_CASE("seen cache: a re-inserted expired key is not dropped by its stale entry",
          "[directory][seen_cache]") {
  SeenCache c(10, 100);
  REQUIRE(c.insert("a", 100));  // expires at 200
  REQUIRE(c.insert("k", 0));    // fake clock went backwards: expires at 100, queued behind a
  // At 150 "k" has expired but its queue entry sits behind the live "a": inserting it again
  // leaves a stale (100, "k") entry in the queue.
  REQUIRE(c.insert("k", 150));  // expires at 250
  REQUIRE(c.insert("x", 200));  // pops "a" and the stale "k" entry
  CHECK(c.contains("k", 249));
  CHECK_FALSE(c.insert("k", 249));
  CHECK(c.size() == 2);  // k and x
}

TEST_CASE("seen cache: zero capacity behaves as one", "[directory][seen_cache]") {
  SeenCache c(0, 100);
  CHECK(c.insert("a", 0));
  CHECK_FALSE(c.insert("a", 1));
  CHECK(c.insert("b", 2));
  CHECK(c.size() == 1);
}

TEST_CASE("seen cache: key_of depends on ts, from, to and payload", "[directory][seen_cache]") {
  const Envelope e = base();
  const std::string k = SeenCache::key_of(e);
  CHECK(k.rfind("1700000000000|" + std::string(kFrom) + "|" + kTo + "|", 0) == 0);
  CHECK(k.size() == std::string("1700000000000|").size() + 36 + 1 + 36 + 1 + 64);

  Envelope ts = e;
  ts.ts += 1;
  Envelope from = e;
  from.from = kTo;
  Envelope to = e;
  to.to = kFrom;
  Envelope payload = e;
  payload.payload.as_object()["ciphertext"] = "abd";
  Envelope extra_field = e;
  extra_field.payload.as_object()["x"] = 1;
  for (const Envelope* other : {&ts, &from, &to, &payload, &extra_field}) {
    CHECK(SeenCache::key_of(*other) != k);
  }

  // sig, type and unknown envelope fields are not part of the key.
  Envelope resigned = e;
  resigned.sig = "c2ln";
  resigned.extra["relay"] = "x";
  CHECK(SeenCache::key_of(resigned) == k);
}

TEST_CASE("seen cache: key_of is the same however the JSON was spelled",
          "[directory][seen_cache]") {
  const std::string a = std::string(R"({"type":"SERVER_DELIVER","from":")") + kFrom +
                        R"(","to":")" + kTo +
                        R"(","ts":1700000000000,"payload":{"user_id":"u","ciphertext":"abc",)"
                        R"("meta":{"b":1,"a":"\u00e9"}},"sig":"c2ln"})";
  const std::string b = std::string(R"({ "sig" : "b3RoZXI", "payload" : { "meta" : { "a" : "é", )"
                                    R"("b" : 1 }, "ciphertext" : "abc", "user_id" : "u" }, )"
                                    R"("ts" : 1700000000000, "to" : ")") +
                        kTo + R"(", "from" : ")" + kFrom + R"(", "type" : "SERVER_DELIVER" })";
  const Envelope ea = parse_ok(a);
  const Envelope eb = parse_ok(b);
  CHECK(SeenCache::key_of(ea) == SeenCache::key_of(eb));

  SeenCache c;
  CHECK(c.insert(SeenCache::key_of(ea), 0));
  CHECK_FALSE(c.insert(SeenCache::key_of(eb), 1));  // the forwarded copy is a duplicate
}
