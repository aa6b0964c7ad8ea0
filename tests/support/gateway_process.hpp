#pragma once
// Running the real `baton` executable as a child process.
//
// GatewayProcess writes the YAML config into a private temp dir, starts
// `baton --config FILE` (fork + exec; stdout → stdout.log, stderr → stderr.log, stdin
// /dev/null, no inherited descriptors), and start() waits (bounded) for the ready line
// "listening on http://127.0.0.1:<port>" on stderr. The destructor SIGKILLs a child that is still
// alive, and prints its logs when the current test has failed.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace baton::test {

// Environment edits applied to a copy of this process's environment: a value sets the
// variable, nullopt removes it.
using EnvChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Path of the gateway under test: $BATON_TEST_BINARY if set, else the build's BATON_BINARY.
std::string baton_binary();

class ChildProcess {
  public:
    ChildProcess() = default;
    ~ChildProcess();  // SIGKILL + reap when still running
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    bool spawn(const std::vector<std::string>& argv, const EnvChanges& env,
               const std::string& stdout_path, const std::string& stderr_path,
               std::string* error = nullptr);
    pid_t pid() const { return pid_; }
    bool running();  // spawned and not yet exited
    bool send_signal(int sig);
    // Exit code, 128 + signal number when killed by a signal, nullopt on timeout.
    std::optional<int> wait_exit(Millis timeout);
    void kill_now();

  private:
    bool reap(bool block);
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
};

struct CommandResult {
    std::optional<int> exit_code;  // nullopt: did not finish in time (killed)
    std::string out;
    std::string err;
};
// Runs `baton args...` to completion (bounded) and captures its output.
CommandResult run_baton(const std::vector<std::string>& args, Millis timeout = 10s,
                        const EnvChanges& env = {});

class GatewayProcess {
  public:
    explicit GatewayProcess(std::string config_yaml, EnvChanges env = {});
    ~GatewayProcess();
    GatewayProcess(const GatewayProcess&) = delete;
    GatewayProcess& operator=(const GatewayProcess&) = delete;

    // Spawns and waits for the ready line; failure carries the child's stderr.
    ::testing::AssertionResult start(Millis ready_timeout = 10s);

    uint16_t port() const { return port_; }
    const std::string& config_path() const { return config_path_; }
    const TempDir& dir() const { return dir_; }
    pid_t pid() const { return child_.pid(); }

    bool running() { return child_.running(); }
    bool send_signal(int sig) { return child_.send_signal(sig); }
    std::optional<int> wait_exit(Millis timeout) { return child_.wait_exit(timeout); }

    std::string stdout_text() const;
    std::string stderr_text() const;
    // Polls (bounded) until stdout / stderr contains `needle`.
    bool wait_for_stdout(std::string_view needle, Millis timeout) const;
    bool wait_for_stderr(std::string_view needle, Millis timeout) const;

  private:
    TempDir dir_;
    std::string config_yaml_;
    EnvChanges env_;
    std::string config_path_;
    std::string stdout_path_;
    std::string stderr_path_;
    ChildProcess child_;
    uint16_t port_ = 0;
};

}  // namespace baton::test
