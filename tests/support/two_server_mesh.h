// A two-server mesh for delivery tests: A and B (B joined through A), socp clients alice and
// carol logged in at A, bob and dave at B, everything settled.
#pragma once

#include "mesh_sim.h"

namespace socp::test {

struct TwoServerMesh {
  MeshSim sim;
  TwoServerMesh() {
    sim.add_server("A", "server_a");
    sim.add_server("B", "server_b", {"A"});
    for (const char* u : {"alice", "carol"}) sim.add_user(u, u, "A").socp_client = true;
    for (const char* u : {"bob", "dave"}) sim.add_user(u, u, "B").socp_client = true;
    for (const char* u : {"alice", "carol"}) sim.login(u, "A");
    for (const char* u : {"bob", "dave"}) sim.login(u, "B");
    sim.run();
  }
};

}  // namespace socp::test
