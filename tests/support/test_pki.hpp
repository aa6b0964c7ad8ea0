#pragma once
// A throwaway PKI made with the OpenSSL API: a self-signed CA and a server certificate it signs,
// valid for DNS:localhost and IP:127.0.0.1. Written as PEM files into a directory.
#include <string>

namespace baton::test {

struct TestPki {
    std::string ca_cert;      // CA certificate (give to the gateway as tls.ca_file)
    std::string server_cert;  // server certificate followed by nothing else (leaf only)
    std::string server_key;   // server private key
};

// Creates ca.pem, server.pem, server.key in `dir`. Throws std::runtime_error on failure.
TestPki make_test_pki(const std::string& dir);

}  // namespace baton::test
