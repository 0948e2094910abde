#ifndef STEPWISE_COPENSSL_SHIM_H
#define STEPWISE_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/bio.h>

/* SSL_ctrl / SSL_CTX_ctrl macros and shifted constants the importer cannot see. */
static inline int cossl_set_tlsext_host_name(SSL *s, const char *name) { return (int)SSL_set_tlsext_host_name(s, name); }
static inline int cossl_ctx_set_min_proto_version(SSL_CTX *c, int v) { return (int)SSL_CTX_set_min_proto_version(c, v); }
static inline int cossl_ctx_set_max_proto_version(SSL_CTX *c, int v) { return (int)SSL_CTX_set_max_proto_version(c, v); }
static inline long cossl_ctx_set_mode(SSL_CTX *c, long m) { return SSL_CTX_set_mode(c, m); }
static inline long cossl_set_mode(SSL *s, long m) { return SSL_set_mode(s, m); }
static inline long cossl_ctx_set_session_cache_mode(SSL_CTX *c, long m) { return SSL_CTX_set_session_cache_mode(c, m); }
static inline int cossl_ctx_set1_groups_list(SSL_CTX *c, const char *l) { return (int)SSL_CTX_set1_groups_list(c, l); }
static inline long cossl_ctx_set_tlsext_servername_callback(SSL_CTX *c, int (*cb)(SSL *, int *, void *)) { return SSL_CTX_set_tlsext_servername_callback(c, cb); }
static inline long cossl_ctx_set_tlsext_servername_arg(SSL_CTX *c, void *arg) { return SSL_CTX_set_tlsext_servername_arg(c, arg); }
static inline size_t cossl_bio_pending(BIO *b) { return (size_t)BIO_pending(b); }
static inline void cossl_free(void *p) { OPENSSL_free(p); }
static inline int cossl_sk_x509_name_num(const STACK_OF(X509_NAME) *s) { return sk_X509_NAME_num(s); }
static inline int cossl_sk_general_name_num(const STACK_OF(GENERAL_NAME) *s) { return sk_GENERAL_NAME_num(s); }
static inline GENERAL_NAME *cossl_sk_general_name_value(const STACK_OF(GENERAL_NAME) *s, int i) { return sk_GENERAL_NAME_value(s, i); }
static inline void cossl_general_names_free(STACK_OF(GENERAL_NAME) *s) { GENERAL_NAMES_free(s); }
static const uint64_t COSSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t COSSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t COSSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t COSSL_OP_IGNORE_UNEXPECTED_EOF = SSL_OP_IGNORE_UNEXPECTED_EOF;
static const uint64_t COSSL_OP_NO_TLSv1 = SSL_OP_NO_TLSv1;
static const uint64_t COSSL_OP_NO_TLSv1_1 = SSL_OP_NO_TLSv1_1;

/* Added for the TLS engine (Sources/Reactor/TLS). */
static inline void cossl_bio_set_retry_read(BIO *b) { BIO_set_retry_read(b); }
static inline void cossl_bio_clear_retry_flags(BIO *b) { BIO_clear_retry_flags(b); }
static inline long cossl_bio_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
static inline int cossl_ctx_add1_chain_cert(SSL_CTX *c, X509 *x) { return (int)SSL_CTX_add1_chain_cert(c, x); }
static inline EVP_PKEY *cossl_ec_keygen(const char *curve) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve); }
static const unsigned long COSSL_XN_FLAG_RFC2253 = XN_FLAG_RFC2253;
static const int COSSL_MBSTRING_ASC = MBSTRING_ASC;
#endif
