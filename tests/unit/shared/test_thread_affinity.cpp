// ThreadAffinity: an owned entry point called from another thread aborts (in builds with
// assertions), the owner and an unbound affinity pass.
#include <gtest/gtest.h>

#include <thread>

#include "shared/thread_affinity.hpp"

using namespace deskpod;

TEST(ThreadAffinity, UnboundChecksNothing) {
    ThreadAffinity affinity{"test"};
    std::thread([&] { affinity.check("unbound"); }).join();
    affinity.check("unbound");
}

TEST(ThreadAffinity, TheOwnerPasses) {
    ThreadAffinity affinity{"test"};
    affinity.bind_to_current_thread();
    affinity.check("owner");
    affinity.unbind();
    std::thread([&] { affinity.check("after unbind"); }).join();
}

#ifndef NDEBUG
TEST(ThreadAffinityDeathTest, AnotherThreadAborts) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            ThreadAffinity affinity{"compositor"};
            affinity.bind_to_current_thread();
            std::thread([&] { affinity.check("Server::publish"); }).join();
        },
        "Server::publish called off the compositor thread");
}
#endif
