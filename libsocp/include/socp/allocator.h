// socp/allocator.h — process-wide heap settings for programs that move large frames.
//
// A socp frame can be megabytes (a bulk file chunk is ~350 KB of base64 JSON, a directory
// page up to half the frame limit), and each one passes through several buffers. With glibc's
// defaults, freeing such a buffer often gives its pages back to the kernel (heap trim, or an
// mmap'd block unmapped), and the next frame faults them in again, zero-filled: on a virtual
// machine those page faults cost more CPU than the copies themselves (measured: a 64 MiB bulk
// transfer took 1.8 CPU-s per server with the defaults, 0.7 with these settings).
//
// Contract: keep_large_buffers() makes blocks up to 16 MiB come from the heap and keeps up to
// 64 MiB of free heap for reuse instead of returning it to the kernel. It trades that much
// resident memory (at most, after a burst of large frames) for CPU. It affects the whole
// process, so it is for executables (socp-server and socp-cli call it first thing in main),
// not something the library does on its own.
// Thread-safety: call it before any thread exists. Errors: none (a C library without these
// settings ignores them; returns false then).
#pragma once

namespace socp {

bool keep_large_buffers() noexcept;

}  // namespace socp
