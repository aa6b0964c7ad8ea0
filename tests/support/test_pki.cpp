#include "support/test_pki.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace baton::test {

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(const std::string& what) {
    char buf[256] = {0};
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    throw std::runtime_error("test pki: " + what + ": " + buf);
}

PkeyPtr make_key() {
    PkeyPtr k(EVP_EC_gen("P-256"));
    if (!k) fail("EVP_EC_gen");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) fail(std::string("extension ") + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509Ptr make_cert(EVP_PKEY* key, const char* cn, long serial, X509* issuer, EVP_PKEY* issuer_key,
                  bool ca) {
    X509Ptr x(X509_new());
    if (!x) fail("X509_new");
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 30L * 24 * 3600);
    X509_set_pubkey(x.get(), key);
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Baton tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509* iss = issuer != nullptr ? issuer : x.get();
    X509_set_issuer_name(x.get(), X509_get_subject_name(iss));
    if (ca) {
        add_ext(x.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x.get(), iss, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(x.get(), iss, NID_ext_key_usage, "serverAuth");
        add_ext(x.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
        add_ext(x.get(), iss, NID_subject_key_identifier, "hash");
        add_ext(x.get(), iss, NID_authority_key_identifier, "keyid:always");
    }
    if (X509_sign(x.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
        fail("X509_sign");
    }
    return x;
}

void write_cert(const std::string& path, X509* cert) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("test pki: cannot write " + path);
    int ok = PEM_write_X509(f, cert);
    std::fclose(f);
    if (ok == 0) fail("PEM_write_X509");
}

void write_key(const std::string& path, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("test pki: cannot write " + path);
    int ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    if (ok == 0) fail("PEM_write_PrivateKey");
}

}  // namespace

TestPki make_test_pki(const std::string& dir) {
    PkeyPtr ca_key = make_key();
    X509Ptr ca = make_cert(ca_key.get(), "Baton Test CA", 1, nullptr, nullptr, true);
    PkeyPtr srv_key = make_key();
    X509Ptr srv = make_cert(srv_key.get(), "localhost", 2, ca.get(), ca_key.get(), false);
    TestPki p{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
    write_cert(p.ca_cert, ca.get());
    write_cert(p.server_cert, srv.get());
    write_key(p.server_key, srv_key.get());
    return p;
}

struct TestCa::Impl {
    PkeyPtr key;
    X509Ptr cert;
};

TestCa::TestCa(const std::string& ca_cert_path)
    : cert_path_(ca_cert_path), impl_(std::make_unique<Impl>()) {
    impl_->key = make_key();
    impl_->cert = make_cert(impl_->key.get(), "Baton Test CA", 1, nullptr, nullptr, true);
    write_cert(cert_path_, impl_->cert.get());
}

TestCa::~TestCa() = default;

void TestCa::issue_server(const std::string& cert_path, const std::string& key_path, long serial,
                          const std::string& common_name) const {
    PkeyPtr key = make_key();
    X509Ptr cert = make_cert(key.get(), common_name.c_str(), serial, impl_->cert.get(),
                             impl_->key.get(), false);
    write_cert(cert_path, cert.get());
    write_key(key_path, key.get());
}

}  // namespace baton::test
