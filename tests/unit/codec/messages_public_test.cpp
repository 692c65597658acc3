// Public channel payloads: round trips, the two KEY_SHARE forms, strictness, signed bytes.
#include <catch2/catch.hpp>

#include "socp/json.h"
#include "socp/messages.h"

using namespace socp;

namespace {

json::Value parsed(const std::string& text) {
  auto v = json::parse(text);
  REQUIRE(v.ok());
  return std::move(v).value();
}

}  // namespace

TEST_CASE("MSG_PUBLIC_CHANNEL: client form omits sender, server form carries it", "[codec]") {
  msg::MsgPublicChannel m{"", "Y3Q", "kid", "cHVi", "c2ln"};
  json::Value v = m.to_json();
  CHECK(json::canonical(v) ==
        R"({"ciphertext":"Y3Q","content_sig":"c2ln","key_id":"kid","sender_pub":"cHVi"})");
  m.sender = "a11ce000-0000-4000-8000-000000000001";
  auto back = msg::MsgPublicChannel::from_json(m.to_json());
  REQUIRE(back.ok());
  CHECK(back->sender == m.sender);
  CHECK(back->key_id == "kid");
  auto missing = msg::MsgPublicChannel::from_json(
      parsed(R"({"ciphertext":"x","sender_pub":"p","content_sig":"s"})"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.code() == Errc::BadFrame);
  CHECK(missing.error().detail.find("key_id") != std::string::npos);
}

TEST_CASE("PUBLIC_CHANNEL_KEY_SHARE: live and stored forms", "[codec]") {
  msg::PublicChannelKeyShare ks;
  ks.key_id = "kid";
  ks.shares = {{"m1", "w1", "s1"}, {"m2", "w2", "s2"}};
  ks.creator_pub = "cHVi";
  ks.content_sig = "c2ln";
  json::Value v = ks.to_json();
  CHECK(v.find("sender") == nullptr);
  CHECK_FALSE(msg::PublicChannelStoredShares::is_stored_form(v));
  auto back = msg::PublicChannelKeyShare::from_json(v);
  REQUIRE(back.ok());
  REQUIRE(back->shares.size() == 2);
  CHECK(back->shares[1].member == "m2");
  CHECK(back->shares[1].wrapped == "w2");
  CHECK(back->shares[1].sig == "s2");

  msg::PublicChannelStoredShares st;
  st.shares.push_back({"snd", "kid", "w", "s", "cHVi"});
  json::Value sv = st.to_json();
  CHECK(msg::PublicChannelStoredShares::is_stored_form(sv));
  auto sback = msg::PublicChannelStoredShares::from_json(sv);
  REQUIRE(sback.ok());
  CHECK(sback->shares[0].sender == "snd");
  CHECK(sback->shares[0].creator_pub == "cHVi");

  auto bad = msg::PublicChannelKeyShare::from_json(
      parsed(R"({"key_id":"k","creator_pub":"p","content_sig":"s","shares":[{"member":"m"}]})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().detail.find("shares[0]") != std::string::npos);
  CHECK_FALSE(msg::PublicChannelStoredShares::from_json(parsed(R"({"shares":5})")).ok());
}

TEST_CASE("PUBLIC_CHANNEL_UPDATED and PUBLIC_CHANNEL_ADD", "[codec]") {
  msg::PublicChannelUpdated u;
  u.version = 3;
  u.members = {"a", "b", "c"};
  CHECK(json::canonical(u.to_json()) == R"({"members":["a","b","c"],"version":3,"wraps":[]})");
  auto back = msg::PublicChannelUpdated::from_json(parsed(R"({"version":2,"wraps":[{"x":1}]})"));
  REQUIRE(back.ok());
  CHECK(back->version == 2);
  CHECK(back->members.empty());
  CHECK_FALSE(msg::PublicChannelUpdated::from_json(parsed(R"({"version":-1})")).ok());
  msg::PublicChannelAdd a{"u1", 7};
  CHECK(json::canonical(a.to_json()) == R"({"user_id":"u1","version":7})");
  CHECK(msg::PublicChannelAdd::from_json(a.to_json())->user_id == "u1");
}

TEST_CASE("public channel signed bytes", "[codec]") {
  CHECK(msg::share_sig_message("S", "M", "K", "W") == "socp-share-v1|S|M|K|W");
  CHECK(msg::key_share_content("S", "K", {{"m", "w", "s"}}) ==
        R"({"key_id":"K","sender":"S","shares":[{"member":"m","sig":"s","wrapped":"w"}]})");
}
