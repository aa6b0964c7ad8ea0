#include "support/gateway_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <regex>

extern char** environ;

namespace baton::test {

std::string baton_binary() {
    if (const char* p = std::getenv("BATON_TEST_BINARY"); p != nullptr && *p != '\0') return p;
#ifdef BATON_BINARY
    return BATON_BINARY;
#else
    return "baton";
#endif
}

// ---- ChildProcess ---------------------------------------------------------------------------

ChildProcess::~ChildProcess() { kill_now(); }

bool ChildProcess::spawn(const std::vector<std::string>& argv, const EnvChanges& env,
                         const std::string& stdout_path, const std::string& stderr_path,
                         std::string* error) {
    // Everything the child needs is prepared before fork(): after it, only async-signal-safe
    // calls (this process has threads).
    std::map<std::string, std::string> vars;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string kv = *e;
        size_t eq = kv.find('=');
        if (eq == std::string::npos) continue;
        vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) {
        if (v) {
            vars[k] = *v;
        } else {
            vars.erase(k);
        }
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argvp;
    for (auto& s : args) argvp.push_back(s.data());
    argvp.push_back(nullptr);

    int out_fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
        if (error) *error = "cannot open log files: " + std::string(std::strerror(errno));
        if (out_fd >= 0) ::close(out_fd);
        if (err_fd >= 0) ::close(err_fd);
        if (null_fd >= 0) ::close(null_fd);
        return false;
    }
    sigset_t empty;
    sigemptyset(&empty);

    pid_t pid = ::fork();
    if (pid == 0) {
        // Child.
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::close_range(3, ~0U, 0);  // no listening sockets or test connections leak in
        ::signal(SIGPIPE, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGHUP, SIG_DFL);
        ::signal(SIGINT, SIG_DFL);
        ::sigprocmask(SIG_SETMASK, &empty, nullptr);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test run
        ::execve(argvp[0], argvp.data(), envp.data());
        static const char msg[] = "exec failed\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    if (pid < 0) {
        if (error) *error = "fork failed: " + std::string(std::strerror(fork_errno));
        return false;
    }
    pid_ = pid;
    exit_code_.reset();
    return true;
}

bool ChildProcess::reap(bool block) {
    if (pid_ <= 0 || exit_code_) return exit_code_.has_value();
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        if (WIFEXITED(status)) {
            exit_code_ = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            exit_code_ = 128 + WTERMSIG(status);
        } else {
            return false;
        }
        return true;
    }
    if (r < 0) exit_code_ = -1;  // not our child any more
    return exit_code_.has_value();
}

bool ChildProcess::running() { return pid_ > 0 && !reap(false); }

bool ChildProcess::send_signal(int sig) {
    if (!running()) return false;
    return ::kill(pid_, sig) == 0;
}

std::optional<int> ChildProcess::wait_exit(Millis timeout) {
    if (pid_ <= 0) return std::nullopt;
    wait_until([&] { return reap(false); }, timeout, Millis{5});
    return exit_code_;
}

void ChildProcess::kill_now() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        reap(true);
    }
}

CommandResult run_baton(const std::vector<std::string>& args, Millis timeout,
                        const EnvChanges& env) {
    TempDir dir;
    std::vector<std::string> argv{baton_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child;
    CommandResult r;
    std::string err;
    if (!child.spawn(argv, env, dir.file("out.log"), dir.file("err.log"), &err)) {
        r.err = err;
        return r;
    }
    r.exit_code = child.wait_exit(timeout);
    child.kill_now();
    r.out = read_file_text(dir.file("out.log"));
    r.err = read_file_text(dir.file("err.log"));
    return r;
}

// ---- GatewayProcess -------------------------------------------------------------------------

GatewayProcess::GatewayProcess(std::string config_yaml, EnvChanges env)
    : config_yaml_(std::move(config_yaml)), env_(std::move(env)) {
    config_path_ = dir_.write("baton.yaml", config_yaml_);
    stdout_path_ = dir_.file("stdout.log");
    stderr_path_ = dir_.file("stderr.log");
}

GatewayProcess::~GatewayProcess() {
    child_.kill_now();
    if (::testing::Test::HasFailure()) {
        auto tail = [](std::string s) {
            constexpr size_t kMax = 8000;
            return s.size() > kMax ? "...\n" + s.substr(s.size() - kMax) : s;
        };
        std::cerr << "---- gateway config (" << config_path_ << ") ----\n"
                  << config_yaml_ << "\n---- gateway stderr ----\n"
                  << tail(stderr_text()) << "\n---- gateway stdout ----\n"
                  << tail(stdout_text()) << "\n---- end of gateway output ----\n";
    }
}

::testing::AssertionResult GatewayProcess::start(Millis ready_timeout) {
    std::string err;
    const std::string bin = baton_binary();
    if (::access(bin.c_str(), X_OK) != 0) {
        return ::testing::AssertionFailure() << "gateway binary not found: " << bin;
    }
    if (!child_.spawn({bin, "--config", config_path_}, env_, stdout_path_, stderr_path_, &err)) {
        return ::testing::AssertionFailure() << "spawn failed: " << err;
    }
    static const std::regex ready(R"(listening on http://127\.0\.0\.1:(\d+))");
    std::smatch m;
    bool exited = false;
    bool found = wait_until(
        [&] {
            std::string text = stderr_text();
            if (std::regex_search(text, m, ready)) {
                port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
                return true;
            }
            if (!child_.running()) {
                exited = true;
                return true;
            }
            return false;
        },
        ready_timeout, Millis{10});
    if (found && !exited && port_ != 0) return ::testing::AssertionSuccess();
    auto r = ::testing::AssertionFailure();
    if (exited) {
        r << "gateway exited before becoming ready (code "
          << child_.wait_exit(Millis{0}).value_or(-1) << ")";
    } else if (found) {
        r << "gateway printed port 0 in its ready line";
    } else {
        r << "gateway not ready within " << ready_timeout.count() << " ms";
    }
    r << "\n--- stderr ---\n" << stderr_text() << "\n--- stdout ---\n" << stdout_text();
    return r;
}

std::string GatewayProcess::stdout_text() const { return read_file_text(stdout_path_); }

std::string GatewayProcess::stderr_text() const { return read_file_text(stderr_path_); }

bool GatewayProcess::wait_for_stdout(std::string_view needle, Millis timeout) const {
    return wait_until([&] { return stdout_text().find(needle) != std::string::npos; }, timeout,
                      Millis{20});
}

bool GatewayProcess::wait_for_stderr(std::string_view needle, Millis timeout) const {
    return wait_until([&] { return stderr_text().find(needle) != std::string::npos; }, timeout,
                      Millis{20});
}

}  // namespace baton::test
