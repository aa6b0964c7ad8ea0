// HTTPS on the listener (server.tls): the real binary with certificates from the test PKI, and a
// small blocking OpenSSL client (every call bounded by SO_RCVTIMEO/SO_SNDTIMEO).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"
#include "support/test_pki.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "no OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

// ---- a blocking TLS client ------------------------------------------------------------------

struct TlsClientOptions {
    std::string ca_file;   // verify the server (and "localhost") against this CA; empty: no check
    int min_version = 0;   // e.g. TLS1_2_VERSION; 0 = OpenSSL's default
    int max_version = 0;   // 0 = OpenSSL's default
    bool legacy = false;   // allow TLS 1.0/1.1 on the client side (security level 0)
    Millis timeout = 10s;  // per socket operation
};

class TlsClient {
  public:
    TlsClient() = default;
    ~TlsClient() { close(); }
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;

    // TCP connect and TLS handshake. On failure error() says why and handshake_reason() holds
    // the OpenSSL reason code.
    bool connect(uint16_t port, const TlsClientOptions& o = {}) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) return fail("socket failed");
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(o.timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((o.timeout.count() % 1000) * 1000);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            return fail(std::string("connect failed: ") + std::strerror(errno));
        }
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (ctx_ == nullptr) return fail("SSL_CTX_new: " + openssl_error());
        if (o.legacy) {
            SSL_CTX_set_security_level(ctx_, 0);
            SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
        }
        if (o.min_version != 0) SSL_CTX_set_min_proto_version(ctx_, o.min_version);
        if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
        if (!o.ca_file.empty()) {
            if (SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr) != 1) {
                return fail("cannot load CA " + o.ca_file + ": " + openssl_error());
            }
            SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        }
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, "localhost");
        if (!o.ca_file.empty()) SSL_set1_host(ssl_, "localhost");
        ERR_clear_error();
        if (SSL_connect(ssl_) != 1) {
            handshake_reason_ = ERR_GET_REASON(ERR_peek_error());
            long verify = SSL_get_verify_result(ssl_);
            return fail("handshake failed: " + openssl_error() +
                        (verify != X509_V_OK ? std::string(" (verify: ") +
                                                   X509_verify_cert_error_string(verify) + ")"
                                             : std::string()));
        }
        return true;
    }

    bool send(std::string_view data) {
        while (!data.empty()) {
            int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
            if (n <= 0) return fail("write failed: " + openssl_error());
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    // Appends what arrives until `done(out)` holds, the peer closes or `timeout` passes.
    // Returns true when the peer closed the connection (close_notify or EOF).
    template <class Done>
    bool read(std::string& out, Done&& done, Millis timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        char buf[16384];
        while (!done(out)) {
            int n = SSL_read(ssl_, buf, sizeof buf);
            if (n > 0) {
                out.append(buf, static_cast<size_t>(n));
                continue;
            }
            int err = SSL_get_error(ssl_, n);
            ERR_clear_error();
            if (err == SSL_ERROR_WANT_READ && Clock::now() < deadline) continue;
            return err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL;
        }
        return false;
    }
    bool read_until_closed(std::string& out, Millis timeout = 10s) {
        return read(
            out, [](const std::string&) { return false; }, timeout);
    }
    // One complete response (keep-alive connections).
    HttpResponse read_response(std::string_view method = "GET", Millis timeout = 10s) {
        std::string raw;
        read(
            raw, [&](const std::string& s) { return parse_response(s, method).ok; }, timeout);
        return parse_response(raw, method);
    }

    long peer_serial() const {
        X509* cert = SSL_get1_peer_certificate(ssl_);
        if (cert == nullptr) return -1;
        long serial = ASN1_INTEGER_get(X509_get_serialNumber(cert));
        X509_free(cert);
        return serial;
    }
    std::string peer_common_name() const {
        X509* cert = SSL_get1_peer_certificate(ssl_);
        if (cert == nullptr) return "";
        char cn[256] = {0};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
        X509_free(cert);
        return cn;
    }
    std::string version() const { return SSL_get_version(ssl_); }
    const std::string& error() const { return error_; }
    int handshake_reason() const { return handshake_reason_; }

    // Closes without close_notify, as a client that crashed or lost its network would.
    void drop() {
        if (ssl_ != nullptr) SSL_set_quiet_shutdown(ssl_, 1);
        close();
    }
    // close_notify (best effort), then close.
    void close() {
        if (ssl_ != nullptr) {
            SSL_shutdown(ssl_);
            SSL_free(ssl_);
            ssl_ = nullptr;
        }
        if (ctx_ != nullptr) {
            SSL_CTX_free(ctx_);
            ctx_ = nullptr;
        }
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

  private:
    bool fail(std::string what) {
        error_ = std::move(what);
        return false;
    }
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string error_;
    int handshake_reason_ = 0;
};

struct HttpsResult {
    HttpResponse response;
    std::string error;  // connect / handshake / write problem
    long serial = -1;
    std::string common_name;
    std::string version;
};

// One request on a fresh TLS connection with "Connection: close", read until the server closes.
HttpsResult https_request(uint16_t port, const TlsClientOptions& o, std::string_view method,
                          std::string_view target, std::string_view body = {},
                          Headers headers = {}) {
    HttpsResult r;
    TlsClient c;
    if (!c.connect(port, o)) {
        r.error = c.error();
        return r;
    }
    r.serial = c.peer_serial();
    r.common_name = c.peer_common_name();
    r.version = c.version();
    headers.push_back({"Connection", "close"});
    if (!c.send(build_request(port, method, target, body, headers))) {
        r.error = c.error();
        return r;
    }
    std::string raw;
    c.read_until_closed(raw);
    r.response = parse_response(raw, method);
    return r;
}

std::string describe(const HttpsResult& r) {
    return r.error.empty() ? r.response.describe() : "TLS client: " + r.error;
}

// ---- the gateway over HTTPS ------------------------------------------------------------------

// GatewayConfig's YAML with a server.tls block.
std::string tls_yaml(const GatewayConfig& cfg, const std::string& cert, const std::string& key,
                     const std::string& extra_tls = "") {
    std::string y = cfg.to_yaml();
    const std::string head = "server:\n";
    EXPECT_EQ(y.rfind(head, 0), 0u);
    y.insert(head.size(),
             "  tls: {cert_file: \"" + cert + "\", key_file: \"" + key + "\"" + extra_tls + "}\n");
    return y;
}

// Like GatewayProcess, for a gateway whose ready line says https://.
class TlsGateway {
  public:
    explicit TlsGateway(std::string yaml, EnvChanges env = test_key_env())
        : yaml_(std::move(yaml)), env_(std::move(env)) {
        config_path_ = dir_.write("baton.yaml", yaml_);
    }
    ~TlsGateway() {
        child_.kill_now();
        if (::testing::Test::HasFailure()) {
            std::cerr << "---- gateway config ----\n"
                      << yaml_ << "\n---- gateway stderr ----\n"
                      << stderr_text() << "\n---- end of gateway output ----\n";
        }
    }

    ::testing::AssertionResult start(Millis timeout = 10s) {
        std::string err;
        if (!child_.spawn({baton_binary(), "--config", config_path_}, env_, dir_.file("out.log"),
                          dir_.file("err.log"), &err)) {
            return ::testing::AssertionFailure() << "spawn failed: " << err;
        }
        static const std::regex ready(R"(listening on https://127\.0\.0\.1:(\d+))");
        std::smatch m;
        bool found = wait_until(
            [&] {
                std::string text = stderr_text();
                if (std::regex_search(text, m, ready)) {
                    port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
                    return true;
                }
                return !child_.running();
            },
            timeout);
        if (found && port_ != 0) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "gateway not ready over https\n" << stderr_text();
    }

    uint16_t port() const { return port_; }
    const std::string& config_path() const { return config_path_; }
    ChildProcess& process() { return child_; }
    std::string stderr_text() const { return read_file_text(dir_.file("err.log")); }
    size_t count_in_stderr(const std::string& needle) const {
        std::string text = stderr_text();
        size_t n = 0;
        for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
            ++n;
        }
        return n;
    }
    // Sends SIGHUP and waits for the reload's outcome line.
    ::testing::AssertionResult reload(bool expect_ok) {
        const std::string needle = expect_ok ? "config reloaded" : "reload rejected";
        size_t before = count_in_stderr(needle);
        if (!child_.send_signal(SIGHUP)) return ::testing::AssertionFailure() << "kill failed";
        if (wait_until([&] { return count_in_stderr(needle) > before; }, 5s)) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "no \"" << needle << "\" after SIGHUP\n"
                                             << stderr_text();
    }

  private:
    TempDir dir_;
    std::string yaml_;
    EnvChanges env_;
    std::string config_path_;
    ChildProcess child_;
    uint16_t port_ = 0;
};

struct TlsRig {
    TempDir dir;
    TestPki pki = make_test_pki(dir.path());
    TlsClientOptions client{pki.ca_cert};
};

// ---- tests -----------------------------------------------------------------------------------

TEST(TlsListenerTest, HttpsRequestWithTestCaSucceeds) {
    TlsRig rig;
    GatewayConfig cfg;
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    HttpsResult r = https_request(gw.port(), rig.client, "POST", kChat, chat_body("demo-small"));
    ASSERT_TRUE(r.response.ok) << describe(r);
    EXPECT_EQ(r.response.status, 200u) << describe(r);
    auto j = parse_json(r.response.body);
    ASSERT_TRUE(j.has_value()) << r.response.body;
    EXPECT_EQ((*j)["object"], "chat.completion");
    EXPECT_EQ(r.common_name, "localhost");
    EXPECT_THAT(r.version, ::testing::AnyOf("TLSv1.2", "TLSv1.3"));

    // TLS 1.2 explicitly (the AEAD suites) works too.
    TlsClientOptions v12 = rig.client;
    v12.max_version = TLS1_2_VERSION;
    HttpsResult r12 = https_request(gw.port(), v12, "GET", "/v1/models");
    ASSERT_TRUE(r12.response.ok) << describe(r12);
    EXPECT_EQ(r12.response.status, 200u);
    EXPECT_EQ(r12.version, "TLSv1.2");

    // Keep-alive: several requests on one TLS connection.
    TlsClient c;
    ASSERT_TRUE(c.connect(gw.port(), rig.client)) << c.error();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send(build_request(gw.port(), "GET", "/v1/models", {}, {})));
        HttpResponse resp = c.read_response();
        ASSERT_TRUE(resp.ok) << resp.describe();
        EXPECT_EQ(resp.status, 200u);
    }

    // A client that trusts another CA refuses the certificate.
    TempDir other;
    TlsClientOptions other_ca{make_test_pki(other.path()).ca_cert};
    TlsClient untrusting;
    EXPECT_FALSE(untrusting.connect(gw.port(), other_ca));
    EXPECT_THAT(untrusting.error(), HasSubstr("certificate verify failed"));
}

TEST(TlsListenerTest, PlainHttpToTlsPortFailsCleanlyAndServingContinues) {
    TlsRig rig;
    GatewayConfig cfg;
    cfg.threads = 1;
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    // A plain HTTP request gets a plain-text 400 that says why, then the connection closes.
    RawExchange x = raw_exchange(gw.port(),
                                 "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                 "Content-Length: 2\r\n\r\n{}",
                                 5s);
    ASSERT_TRUE(x.connected);
    EXPECT_TRUE(x.closed_by_peer);
    HttpResponse plain = parse_response(x.received);
    ASSERT_TRUE(plain.ok) << x.received;
    EXPECT_TRUE(is_openai_error(plain, 400));
    EXPECT_THAT(plain.body, HasSubstr("https://"));
    EXPECT_EQ(plain.header("connection"), "close");

    // Garbage that is neither TLS nor HTTP: closed, nothing sent back in clear.
    RawExchange g = raw_exchange(gw.port(), std::string("\x16\x03\x01\x00\x05hello", 10), 5s);
    EXPECT_TRUE(g.closed_by_peer);
    EXPECT_THAT(g.received, Not(HasSubstr("HTTP/1.1")));

    // Still serving.
    HttpsResult r = https_request(gw.port(), rig.client, "GET", "/v1/models");
    ASSERT_TRUE(r.response.ok) << describe(r);
    EXPECT_EQ(r.response.status, 200u);
    HttpsResult m = https_request(gw.port(), rig.client, "GET", "/metrics");
    ASSERT_TRUE(m.response.ok) << describe(m);
    EXPECT_THAT(m.response.body,
                HasSubstr("baton_tls_handshake_failures_total{reason=\"plain_http\"} 1"));
}

TEST(TlsListenerTest, Tls11ClientIsRefused) {
    TlsRig rig;
    GatewayConfig cfg;
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    TlsClientOptions old = rig.client;
    old.legacy = true;
    old.min_version = TLS1_1_VERSION;
    old.max_version = TLS1_1_VERSION;
    TlsClient c;
    EXPECT_FALSE(c.connect(gw.port(), old));
    // The server answered with a protocol_version alert (not a reset, not a certificate error).
    EXPECT_EQ(c.handshake_reason(), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << c.error();

    TlsClientOptions v10 = old;
    v10.min_version = v10.max_version = TLS1_VERSION;
    TlsClient c10;
    EXPECT_FALSE(c10.connect(gw.port(), v10));

    // The same client code with TLS 1.2 allowed gets through.
    TlsClientOptions v12 = old;
    v12.max_version = TLS1_2_VERSION;
    TlsClient ok;
    EXPECT_TRUE(ok.connect(gw.port(), v12)) << ok.error();
    EXPECT_EQ(ok.version(), "TLSv1.2");
}

TEST(TlsListenerTest, MinVersion13RefusesTls12) {
    TlsRig rig;
    GatewayConfig cfg;
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key, ", min_version: \"1.3\""));
    ASSERT_TRUE(gw.start());

    TlsClientOptions v12 = rig.client;
    v12.max_version = TLS1_2_VERSION;
    TlsClient c;
    EXPECT_FALSE(c.connect(gw.port(), v12));
    EXPECT_EQ(c.handshake_reason(), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << c.error();

    HttpsResult r = https_request(gw.port(), rig.client, "GET", "/v1/models");
    ASSERT_TRUE(r.response.ok) << describe(r);
    EXPECT_EQ(r.version, "TLSv1.3");
}

TEST(TlsListenerTest, SilentClientTimesOutWithoutBlockingOthers) {
    TlsRig rig;
    GatewayConfig cfg;
    cfg.threads = 1;  // one worker: a blocked handshake would block everyone
    cfg.header_read = "1s";
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    // Connects and sends nothing (a second one sends half a ClientHello).
    Socket silent = Socket::connect(gw.port());
    ASSERT_TRUE(silent.valid());
    Socket partial = Socket::connect(gw.port());
    ASSERT_TRUE(partial.valid());
    ASSERT_TRUE(partial.send_all(std::string("\x16\x03\x01\x02\x00\x01", 6), Clock::now() + 1s));
    const auto connected = Clock::now();

    // Others are served meanwhile, promptly.
    for (int i = 0; i < 3; ++i) {
        auto t0 = Clock::now();
        HttpsResult r = https_request(gw.port(), rig.client, "POST", kChat,
                                      chat_body("demo-small", "hi", true));
        ASSERT_TRUE(r.response.ok) << describe(r);
        EXPECT_EQ(r.response.status, 200u);
        EXPECT_LT(seconds_between(t0, Clock::now()), 0.9);
    }

    // The silent ones are closed once header_read (1 s) has passed.
    std::string junk;
    EXPECT_TRUE(silent.read_until_closed(junk, Clock::now() + 5s));
    double waited = seconds_between(connected, Clock::now());
    EXPECT_GT(waited, 0.7);
    EXPECT_LT(waited, 3.0);
    EXPECT_TRUE(partial.read_until_closed(junk, Clock::now() + 5s));

    HttpsResult m = https_request(gw.port(), rig.client, "GET", "/metrics");
    ASSERT_TRUE(m.response.ok) << describe(m);
    EXPECT_THAT(m.response.body,
                HasSubstr("baton_tls_handshake_failures_total{reason=\"timeout\"} 2"));
}

TEST(TlsListenerTest, CertificateRotatesOnSighup) {
    TempDir dir;
    TestCa ca(dir.file("ca.pem"));
    const std::string cert = dir.file("server.pem");
    const std::string key = dir.file("server.key");
    ca.issue_server(cert, key, 1001, "baton-one");
    TlsClientOptions client{ca.cert_path()};
    GatewayConfig cfg;
    cfg.threads = 2;
    TlsGateway gw(tls_yaml(cfg, cert, key));
    ASSERT_TRUE(gw.start());

    HttpsResult first = https_request(gw.port(), client, "GET", "/v1/models");
    ASSERT_TRUE(first.response.ok) << describe(first);
    EXPECT_EQ(first.serial, 1001);
    EXPECT_EQ(first.common_name, "baton-one");

    // A keep-alive connection made before the rotation.
    TlsClient before;
    ASSERT_TRUE(before.connect(gw.port(), client)) << before.error();
    ASSERT_TRUE(before.send(build_request(gw.port(), "GET", "/v1/models", {}, {})));
    ASSERT_TRUE(before.read_response().ok);

    // Rotate: same paths, new certificate and key, SIGHUP.
    ca.issue_server(cert, key, 2002, "baton-two");
    ASSERT_TRUE(gw.reload(true));
    // Every new connection (whichever worker accepts it) sees the new certificate.
    for (int i = 0; i < 6; ++i) {
        HttpsResult r = https_request(gw.port(), client, "GET", "/v1/models");
        ASSERT_TRUE(r.response.ok) << describe(r);
        EXPECT_EQ(r.serial, 2002);
        EXPECT_EQ(r.common_name, "baton-two");
    }
    // The established connection keeps working (with the context it started with).
    ASSERT_TRUE(before.send(build_request(gw.port(), "GET", "/v1/models", {}, {})));
    HttpResponse again = before.read_response();
    ASSERT_TRUE(again.ok) << again.describe();
    EXPECT_EQ(again.status, 200u);
    EXPECT_EQ(before.peer_serial(), 1001);

    // A key that does not match the certificate: rejected, the old pair stays in use.
    ca.issue_server(cert, dir.file("other.key"), 3003, "baton-three");
    ca.issue_server(dir.file("other.pem"), key, 4004, "baton-four");
    ASSERT_TRUE(gw.reload(false));
    EXPECT_THAT(gw.stderr_text(), HasSubstr("does not match the certificate"));
    // A key file that is not a key at all: rejected as well.
    write_file_text(key, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
    ASSERT_TRUE(gw.reload(false));
    EXPECT_THAT(gw.stderr_text(), HasSubstr("server.tls.key_file"));
    for (int i = 0; i < 4; ++i) {
        HttpsResult r = https_request(gw.port(), client, "GET", "/v1/models");
        ASSERT_TRUE(r.response.ok) << describe(r);
        EXPECT_EQ(r.serial, 2002) << "a rejected reload changed the certificate";
    }
    HttpsResult m = https_request(gw.port(), client, "GET", "/metrics");
    EXPECT_THAT(m.response.body, HasSubstr("baton_config_reloads_total{result=\"ok\"} 1"));
    EXPECT_THAT(m.response.body, HasSubstr("baton_config_reloads_total{result=\"rejected\"} 2"));

    // Repaired: the third pair is picked up.
    ca.issue_server(cert, key, 5005, "baton-five");
    ASSERT_TRUE(gw.reload(true));
    HttpsResult r = https_request(gw.port(), client, "GET", "/v1/models");
    ASSERT_TRUE(r.response.ok) << describe(r);
    EXPECT_EQ(r.serial, 5005);
}

TEST(TlsListenerTest, CheckReportsBadTlsFiles) {
    TempDir dir;
    TestPki pki = make_test_pki(dir.path());
    GatewayConfig cfg;
    auto check = [&](const std::string& yaml) {
        std::string path = dir.write("check.yaml", yaml);
        return run_baton({"--check", path}, 10s, test_key_env());
    };

    // A missing key file: file:line:col, the YAML path, the file and the reason.
    CommandResult missing = check(tls_yaml(cfg, pki.server_cert, dir.file("missing.key")));
    EXPECT_EQ(missing.exit_code, 1) << missing.out << missing.err;
    static const std::regex where(
        R"(check\.yaml:2:\d+: server\.tls\.key_file: cannot read key file ".*missing\.key": )"
        R"(No such file or directory)");
    EXPECT_TRUE(std::regex_search(missing.out, where)) << missing.out;

    // Relative paths are relative to the config file.
    CommandResult relative = check(tls_yaml(cfg, "server.pem", "server.key"));
    EXPECT_EQ(relative.exit_code, 0) << relative.out << relative.err;

    // A key that belongs to another certificate.
    TempDir other;
    TestPki pki2 = make_test_pki(other.path());
    CommandResult mismatch = check(tls_yaml(cfg, pki.server_cert, pki2.server_key));
    EXPECT_EQ(mismatch.exit_code, 1);
    EXPECT_THAT(mismatch.out, HasSubstr("server.tls.key_file: the private key in"));
    EXPECT_THAT(mismatch.out, HasSubstr("does not match the certificate"));

    // Not a certificate.
    std::string junk = dir.write("junk.pem", "hello\n");
    CommandResult bad_cert = check(tls_yaml(cfg, junk, pki.server_key));
    EXPECT_EQ(bad_cert.exit_code, 1);
    EXPECT_THAT(bad_cert.out, HasSubstr("server.tls.cert_file: cannot load the certificate chain"));

    // TLS 1.1 is never allowed; unknown keys are errors like everywhere else.
    CommandResult v11 =
        check(tls_yaml(cfg, pki.server_cert, pki.server_key, ", min_version: \"1.1\""));
    EXPECT_EQ(v11.exit_code, 1);
    EXPECT_THAT(v11.out, HasSubstr("server.tls.min_version: TLS 1.1 is not allowed"));
    CommandResult typo = check(tls_yaml(cfg, pki.server_cert, pki.server_key, ", ciphers: x"));
    EXPECT_EQ(typo.exit_code, 1);
    EXPECT_THAT(typo.out, HasSubstr("unknown key \"ciphers\""));
    CommandResult no_key =
        check("server: {listen: 127.0.0.1:0, tls: {cert_file: \"" + pki.server_cert + "\"}}\n" +
              "providers: [{name: demo, kind: mock}]\n"
              "models: [{name: demo-small, provider: demo}]\n");
    EXPECT_EQ(no_key.exit_code, 1);
    EXPECT_THAT(no_key.out, HasSubstr("missing required key \"key_file\""));

    // Starting with a bad key is a config error (exit 1), not a crash or a plain listener.
    std::string bad = dir.write("bad.yaml", tls_yaml(cfg, pki.server_cert, pki2.server_key));
    CommandResult start = run_baton({"--config", bad}, 10s, test_key_env());
    EXPECT_EQ(start.exit_code, 1) << start.err;
    EXPECT_THAT(start.err, HasSubstr("does not match the certificate"));
}

TEST(TlsListenerTest, StreamedChatCompletionOverTls) {
    TlsRig rig;
    GatewayConfig cfg;
    cfg.mock_tokens = 12;
    cfg.mock_chunk_delay = "5ms";
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    HttpsResult r = https_request(gw.port(), rig.client, "POST", kChat,
                                  chat_body("demo-small", "Say hello", true));
    ASSERT_TRUE(r.response.ok) << describe(r);
    EXPECT_EQ(r.response.status, 200u) << describe(r);
    EXPECT_TRUE(r.response.chunked);
    EXPECT_THAT(r.response.header("content-type"), HasSubstr("text/event-stream"));
    auto events = sse_data(r.response.body);
    ASSERT_GE(events.size(), 3u) << r.response.body;
    EXPECT_EQ(events.back(), "[DONE]");
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        auto j = parse_json(events[i]);
        ASSERT_TRUE(j.has_value()) << events[i];
        EXPECT_EQ((*j)["object"], "chat.completion.chunk");
    }
}

TEST(TlsListenerTest, ClientLeavingMidStreamCancelsUpstream) {
    // The disconnect watch under TLS reads through the TLS stream: the upstream request must be
    // cancelled as soon as the client leaves, long before the next chunk would fail to write.
    TlsRig rig;
    FakeUpstream up;
    std::vector<std::string> words(6, " w");
    up.enqueue(Reply::sse(sse_chunks(words, 1500ms)));  // ~9 s if nobody cancels
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();
    cfg.upstream_idle_timeout = "5s";
    cfg.total_timeout = "30s";
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    TlsClient c;
    ASSERT_TRUE(c.connect(gw.port(), rig.client)) << c.error();
    ASSERT_TRUE(c.send(build_request(gw.port(), "POST", kChat, chat_body("m1", "hi", true), {})));
    std::string got;
    c.read(got, [](const std::string& s) { return s.find("data: ") != std::string::npos; });
    ASSERT_THAT(got, HasSubstr("data: ")) << got;
    c.close();  // close_notify, then FIN
    const auto closed = Clock::now();
    ASSERT_TRUE(up.wait_for_peer_close(0, 5s))
        << "the gateway kept the upstream request running after the client left";
    Exchange e = up.exchange(0);
    EXPECT_LT(seconds_between(closed, e.peer_closed_at), 1.0);
    EXPECT_FALSE(e.response_complete);

    // A client that leaves without close_notify (a bare FIN) is noticed as well.
    up.enqueue(Reply::sse(sse_chunks(words, 1500ms)));
    TlsClient rude;
    ASSERT_TRUE(rude.connect(gw.port(), rig.client)) << rude.error();
    ASSERT_TRUE(
        rude.send(build_request(gw.port(), "POST", kChat, chat_body("m1", "hi", true), {})));
    std::string got2;
    rude.read(got2, [](const std::string& s) { return s.find("data: ") != std::string::npos; });
    ASSERT_THAT(got2, HasSubstr("data: "));
    rude.drop();
    const auto dropped = Clock::now();
    ASSERT_TRUE(up.wait_for_peer_close(1, 5s));
    EXPECT_LT(seconds_between(dropped, up.exchange(1).peer_closed_at), 1.0);

    // The gateway still serves over TLS.
    HttpsResult r =
        https_request(gw.port(), rig.client, "POST", kChat, chat_body("demo-small", "hi", true));
    ASSERT_TRUE(r.response.ok) << describe(r);
    EXPECT_EQ(r.response.status, 200u);
}

TEST(TlsListenerTest, DrainFinishesTlsStreamsAndExits) {
    TlsRig rig;
    GatewayConfig cfg;
    cfg.threads = 1;
    cfg.mock_tokens = 20;
    cfg.mock_chunk_delay = "50ms";  // ~1 s stream
    cfg.drain = "10s";
    TlsGateway gw(tls_yaml(cfg, rig.pki.server_cert, rig.pki.server_key));
    ASSERT_TRUE(gw.start());

    // An idle keep-alive TLS connection and a streaming one.
    TlsClient idle;
    ASSERT_TRUE(idle.connect(gw.port(), rig.client)) << idle.error();
    ASSERT_TRUE(idle.send(build_request(gw.port(), "GET", "/v1/models", {}, {})));
    ASSERT_TRUE(idle.read_response().ok);
    TlsClient busy;
    ASSERT_TRUE(busy.connect(gw.port(), rig.client)) << busy.error();
    ASSERT_TRUE(busy.send(
        build_request(gw.port(), "POST", kChat, chat_body("demo-small", "hi", true), {})));
    std::string got;
    busy.read(got, [](const std::string& s) { return s.find("data: ") != std::string::npos; });
    ASSERT_THAT(got, HasSubstr("data: "));

    const auto t0 = Clock::now();
    ASSERT_TRUE(gw.process().send_signal(SIGTERM));
    // The stream completes (with Connection: close semantics), then the server closes.
    bool closed = busy.read_until_closed(got, 10s);
    EXPECT_TRUE(closed);
    EXPECT_THAT(got, HasSubstr("data: [DONE]"));
    EXPECT_THAT(got, HasSubstr("\r\n0\r\n\r\n"));
    std::string rest;
    EXPECT_TRUE(idle.read_until_closed(rest, 5s)) << "idle TLS connection not closed by drain";
    auto code = gw.process().wait_exit(10s);
    ASSERT_TRUE(code.has_value()) << "gateway did not exit after SIGTERM";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(seconds_between(t0, Clock::now()), 5.0);
}

}  // namespace
}  // namespace baton::test
