#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* OpenSSL spells these as macros over SSL_ctrl / SSL_CTX_ctrl, which Swift cannot import. */
static inline long cssl_set_server_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long cssl_ctx_set_min_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int cssl_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int cssl_tls1_3_version(void) { return TLS1_3_VERSION; }

/* Asks OpenSSL not to free its global state from an atexit handler (OPENSSL_INIT_NO_ATEXIT):
   at exit other threads may still be inside libcrypto (libpq's or our own connections). */
static inline int cssl_init_without_exit_cleanup(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

#endif
