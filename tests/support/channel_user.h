// ClientMesh: real ClientCore instances (socp-cli's engine) attached to MeshSim users, so mesh
// tests exercise client and servers together (public channel: key shares, posts, holds).
//
// Each client talks over the MeshSim user connection: frames the server sends land in the
// user's inbox (MeshSim) and are fed to the ClientCore; frames the ClientCore wants to send go
// out with MeshSim::send_raw. pump() repeats this until nothing moves (bounded). The clients
// share the simulation's fake clock. Header-only so tests/CMakeLists.txt needs no change.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mesh_sim.h"
#include "socp/client_core.h"
#include "socp/envelope.h"
#include "socp/json.h"

namespace socp::test {

class ClientMesh {
 public:
  explicit ClientMesh(MeshSim& sim) : sim_(sim) {}

  /// Logs MeshSim user `name` (an account made with add_user) in at `node` through a ClientCore.
  /// `tweak` may adjust the client's configuration (e.g. download_dir for files).
  ClientCore& login(const std::string& name, const std::string& node,
                    const std::function<void(ClientConfig&)>& tweak = {}) {
    MeshSim::User& u = sim_.user(name);
    Entry& e = clients_[name];
    ClientConfig cfg;
    cfg.mode = ClientMode::Login;
    cfg.user_id = u.user_id;
    cfg.display_name = name;
    cfg.key = any_fixture_key(u.key_name);
    cfg.server_label = node;
    cfg.clock = [this] { return sim_.now(); };
    if (tweak) tweak(cfg);
    e.core = std::make_unique<ClientCore>(std::move(cfg));
    // A new process logs in at a later millisecond: identical hello bytes would be a replay.
    sim_.advance(1, 1);
    sim_.connect(name, node);
    e.cursor = sim_.user(name).inbox.size();
    e.core->on_connected();
    pump();
    REQUIRE(e.core->logged_in());
    return *e.core;
  }

  /// Closes the client's connection (the server sees the user go offline).
  void logout(const std::string& name) {
    Entry& e = entry(name);
    sim_.logout(name);
    e.core->on_closed();
    collect(e);
    pump();
  }

  ClientCore& client(const std::string& name) { return *entry(name).core; }

  /// Types a command line into the client, then lets the mesh settle.
  void command(const std::string& name, const std::string& line, bool settle = true) {
    entry(name).core->command(line);
    if (settle) pump();
  }

  /// Moves frames between clients and servers until nothing moves.
  void pump() {
    for (int round = 0; round < 100'000; ++round) {
      bool progress = false;
      for (auto& [name, e] : clients_) {
        if (!e.core) continue;
        while (e.cursor < sim_.user(name).inbox.size()) {
          const std::string text = serialize(sim_.user(name).inbox[e.cursor++]);
          const auto t0 = std::chrono::steady_clock::now();
          e.core->on_frame(text);
          client_time_ += std::chrono::steady_clock::now() - t0;
          progress = true;
        }
        collect(e);
        for (const std::string& f : e.core->take_frames()) {
          progress = true;
          if (sim_.connected(name)) sim_.send_raw(name, f);
        }
      }
      if (!progress) return;
    }
    FAIL("ClientMesh did not settle");
  }

  /// Advances the fake clock (servers tick) and ticks every client.
  void advance(std::int64_t ms, std::int64_t step_ms = 500) {
    const std::int64_t end = sim_.now() + ms;
    while (sim_.now() < end) {
      sim_.advance(std::min(step_ms, end - sim_.now()), step_ms);
      for (auto& [name, e] : clients_) {
        if (e.core) e.core->on_tick();
      }
      pump();
    }
  }

  /// Every event the client emitted so far (in order).
  const std::vector<json::Value>& events(const std::string& name) { return entry(name).events; }
  void clear_events(const std::string& name) { entry(name).events.clear(); }

  /// Time spent inside ClientCore::on_frame so far (benchmarks split client and server work).
  std::chrono::steady_clock::duration client_time() const { return client_time_; }

  /// Events named `event`; with `channel_only`, only those carrying "channel":"public".
  std::vector<json::Value> named(const std::string& name, const std::string& event,
                                 bool channel_only = false) {
    std::vector<json::Value> out;
    for (const json::Value& e : entry(name).events) {
      const std::string* n = json::get_string(e, "event");
      if (!n || *n != event) continue;
      const std::string* ch = json::get_string(e, "channel");
      if (channel_only && (!ch || *ch != "public")) continue;
      out.push_back(e);
    }
    return out;
  }

  /// Texts of the public channel messages the client showed, in order.
  std::vector<std::string> channel_texts(const std::string& name) {
    std::vector<std::string> out;
    for (const json::Value& e : named(name, "message", true)) {
      const std::string* t = json::get_string(e, "text");
      out.push_back(t ? *t : std::string());
    }
    return out;
  }

 private:
  struct Entry {
    std::unique_ptr<ClientCore> core;
    std::size_t cursor = 0;
    std::vector<json::Value> events;
  };

  Entry& entry(const std::string& name) {
    auto it = clients_.find(name);
    REQUIRE(it != clients_.end());
    return it->second;
  }

  static void collect(Entry& e) {
    for (json::Value& ev : e.core->take_events()) e.events.push_back(std::move(ev));
  }

  MeshSim& sim_;
  std::map<std::string, Entry> clients_;
  std::chrono::steady_clock::duration client_time_{};
};

}  // namespace socp::test
