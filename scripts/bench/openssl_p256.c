/* OpenSSL's P-256 on this machine, timed like the applet's criterion benches (wall
 * clock, median of batches): SHA-256 + sign with a loaded key; key generation + public
 * key + SHA-256 + sign; ECDH with a loaded key. Contexts and algorithms are fetched
 * once, as `openssl speed` does, so OpenSSL 3's per-call fetches are not counted. Built and run by scripts/bench-e2e.sh when a C
 * compiler and OpenSSL's headers are there (Debian: libssl-dev).
 *   cc -O2 -o openssl_p256 openssl_p256.c -lcrypto
 * Output: one line per figure, "name median_us". */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES 31
#define PER_BATCH 200

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const unsigned char msg[69] = {7};
static EVP_MD *sha256;
static EVP_PKEY_CTX *loaded; /* signing context of the loaded key, made once */

/* SHA-256 of the message, then ECDSA over the digest with a prepared context. */
static int sign_with(EVP_PKEY_CTX *ctx) {
    unsigned char digest[32], sig[80];
    unsigned int dlen = sizeof digest;
    size_t len = sizeof sig;
    return EVP_Digest(msg, sizeof msg, digest, &dlen, sha256, NULL) == 1 &&
           EVP_PKEY_sign(ctx, sig, &len, digest, dlen) == 1;
}

static int sign(EVP_PKEY *unused) {
    (void)unused;
    return sign_with(loaded);
}

static EVP_PKEY_CTX *keygen_ctx; /* P-256 key generation context, made once */

static int keygen_sign(EVP_PKEY *unused) {
    (void)unused;
    unsigned char pub[65];
    size_t len = 0;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int ok = EVP_PKEY_keygen(keygen_ctx, &key) == 1 &&
             EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub,
                                             &len) == 1 &&
             (ctx = EVP_PKEY_CTX_new(key, NULL)) != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
             sign_with(ctx);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

static EVP_PKEY *peer;

static EVP_PKEY_CTX *derive; /* ECDH context of the loaded key and the peer, made once */

static int ecdh(EVP_PKEY *unused) {
    (void)unused;
    unsigned char z[32];
    size_t len = sizeof z;
    return EVP_PKEY_derive(derive, z, &len) == 1;
}

static int run(const char *name, int (*op)(EVP_PKEY *), EVP_PKEY *key) {
    double t[BATCHES];
    for (int i = 0; i < PER_BATCH; i++)
        if (!op(key)) return 0;
    for (int b = 0; b < BATCHES; b++) {
        double start = now_us();
        for (int i = 0; i < PER_BATCH; i++)
            if (!op(key)) return 0;
        t[b] = (now_us() - start) / PER_BATCH;
    }
    qsort(t, BATCHES, sizeof t[0], cmp);
    printf("%s %.3f\n", name, t[BATCHES / 2]);
    return 1;
}

int main(void) {
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    loaded = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    keygen_ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    derive = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    if (!key || !peer || !sha256 || !loaded || !keygen_ctx || !derive ||
        EVP_PKEY_sign_init(loaded) != 1 || EVP_PKEY_keygen_init(keygen_ctx) != 1 ||
        EVP_PKEY_CTX_set_group_name(keygen_ctx, "P-256") != 1 ||
        EVP_PKEY_derive_init(derive) != 1 || EVP_PKEY_derive_set_peer(derive, peer) != 1)
        return 1;
    int ok = run("openssl/p256_sign", sign, key) &&
             run("openssl/p256_keygen_sign", keygen_sign, key) &&
             run("openssl/p256_ecdh", ecdh, key);
    printf("openssl/version %s\n", OpenSSL_version(OPENSSL_VERSION));
    return ok ? 0 : 1;
}
