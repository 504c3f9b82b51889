#pragma once
// Shared, expensive setup of a test suite (a control plane, an agent, a Samba OU) that cannot be
// skipped by accident. GoogleTest skips — not fails — every test of a suite whose SetUpTestSuite
// records a failure, and ctest then counts those tests as skipped. A suite instead calls
// SuiteSetup::ensure from SetUp(): the first test runs the setup (its failures fail that test) and
// every later test of the suite fails at once while the setup has not succeeded.

#include <gtest/gtest.h>

namespace tenure::testing {

class SuiteSetup {
 public:
  // Runs `setup` the first time; afterwards fails the calling test when that run failed. The
  // caller's SetUp() returns when HasFatalFailure() (the test body is then not run).
  void ensure(void (*setup)()) {
    if (!attempted_) {
      attempted_ = true;
      setup();
      ok_ = !::testing::Test::HasFatalFailure();
      return;
    }
    if (!ok_) GTEST_FAIL() << "the suite's shared setup failed in an earlier test of this process";
  }

 private:
  bool attempted_ = false;
  bool ok_ = false;
};

}  // namespace tenure::testing
