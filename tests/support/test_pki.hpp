#pragma once
// A throwaway PKI made with the OpenSSL API: a self-signed CA and a server certificate it signs,
// valid for DNS:localhost and IP:127.0.0.1. Written as PEM files into a directory.
#include <memory>
#include <string>

namespace baton::test {

struct TestPki {
    std::string ca_cert;      // CA certificate (give to the gateway as tls.ca_file)
    std::string server_cert;  // server certificate followed by nothing else (leaf only)
    std::string server_key;   // server private key
};

// Creates ca.pem, server.pem, server.key in `dir`. Throws std::runtime_error on failure.
TestPki make_test_pki(const std::string& dir);

// A CA kept in memory so that it can issue more server certificates (certificate rotation
// tests). Throws std::runtime_error on failure.
class TestCa {
  public:
    explicit TestCa(const std::string& ca_cert_path);  // writes the CA certificate there
    ~TestCa();
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;

    const std::string& cert_path() const { return cert_path_; }
    // A fresh key and a server certificate for DNS:localhost and IP:127.0.0.1 with this serial
    // number and subject CN, written as PEM.
    void issue_server(const std::string& cert_path, const std::string& key_path, long serial,
                      const std::string& common_name) const;

  private:
    struct Impl;
    std::string cert_path_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baton::test
