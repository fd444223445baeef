/*
 * The PC/SC API of pcsc-lite, loaded at run time.
 *
 * The `pcsc` crate calls pcsc-lite's functions by name. Linking them from
 * libpcsclite at build time would make the tapfido binary need the PC/SC
 * development files to build and libpcsclite.so.1 to even start; a machine
 * without PC/SC could then not run `tapfido demo` in process. This file
 * defines the same symbols (the build links it in place of libpcsclite,
 * see host/build.rs and .cargo/config.toml) and forwards each call to
 * libpcsclite.so.1, opened with dlopen() on first use.
 *
 * When the library cannot be opened every call answers
 * SCARD_F_INTERNAL_ERROR (0x80100001), which the host crate reports as
 * "libpcsclite.so.1 not found" with what to install. pcsc-lite itself never
 * returns that code from SCardEstablishContext.
 *
 * Types follow pcsc-lite on Linux: LONG is long, DWORD unsigned long,
 * SCARDCONTEXT and SCARDHANDLE are LONG (PCSC/pcsclite.h, wintypes.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

typedef long LONG;
typedef unsigned long DWORD;
typedef LONG SCARDCONTEXT;
typedef LONG SCARDHANDLE;

typedef struct {
    DWORD dwProtocol;
    DWORD cbPciLength;
} SCARD_IO_REQUEST;

#define SCARD_F_INTERNAL_ERROR ((LONG)0x80100001)

/* pcsc-lite exports these protocol control blocks; callers pass their
 * address to SCardTransmit, which reads dwProtocol and cbPciLength only. */
const SCARD_IO_REQUEST g_rgSCardT0Pci = {0x0001, sizeof(SCARD_IO_REQUEST)};
const SCARD_IO_REQUEST g_rgSCardT1Pci = {0x0002, sizeof(SCARD_IO_REQUEST)};
const SCARD_IO_REQUEST g_rgSCardRawPci = {0x0004, sizeof(SCARD_IO_REQUEST)};

static struct {
    LONG (*EstablishContext)(DWORD, const void *, const void *, SCARDCONTEXT *);
    LONG (*ReleaseContext)(SCARDCONTEXT);
    LONG (*IsValidContext)(SCARDCONTEXT);
    LONG (*Cancel)(SCARDCONTEXT);
    LONG (*Connect)(SCARDCONTEXT, const char *, DWORD, DWORD, SCARDHANDLE *, DWORD *);
    LONG (*Reconnect)(SCARDHANDLE, DWORD, DWORD, DWORD, DWORD *);
    LONG (*Disconnect)(SCARDHANDLE, DWORD);
    LONG (*GetStatusChange)(SCARDCONTEXT, DWORD, void *, DWORD);
    LONG (*ListReaders)(SCARDCONTEXT, const char *, char *, DWORD *);
    LONG (*BeginTransaction)(SCARDHANDLE);
    LONG (*EndTransaction)(SCARDHANDLE, DWORD);
    LONG (*Status)(SCARDHANDLE, char *, DWORD *, DWORD *, DWORD *, unsigned char *, DWORD *);
    LONG (*GetAttrib)(SCARDHANDLE, DWORD, unsigned char *, DWORD *);
    LONG (*SetAttrib)(SCARDHANDLE, DWORD, const unsigned char *, DWORD);
    LONG (*Transmit)(SCARDHANDLE, const SCARD_IO_REQUEST *, const unsigned char *, DWORD,
                     SCARD_IO_REQUEST *, unsigned char *, DWORD *);
    LONG (*Control)(SCARDHANDLE, DWORD, const unsigned char *, DWORD, unsigned char *, DWORD,
                    DWORD *);
} api;

static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define RESOLVE(field, name)                                                                   \
    do {                                                                                       \
        *(void **)(&api.field) = dlsym(lib, name);                                             \
        if (api.field == NULL)                                                                 \
            return;                                                                            \
    } while (0)

static void load(void) {
    /* The runtime library of pcsc-lite (Debian/Ubuntu: libpcsclite1, pulled
     * in by pcscd); the unversioned name only exists with the -dev files. */
    void *lib = dlopen("libpcsclite.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return;
    RESOLVE(EstablishContext, "SCardEstablishContext");
    RESOLVE(ReleaseContext, "SCardReleaseContext");
    RESOLVE(IsValidContext, "SCardIsValidContext");
    RESOLVE(Cancel, "SCardCancel");
    RESOLVE(Connect, "SCardConnect");
    RESOLVE(Reconnect, "SCardReconnect");
    RESOLVE(Disconnect, "SCardDisconnect");
    RESOLVE(GetStatusChange, "SCardGetStatusChange");
    RESOLVE(ListReaders, "SCardListReaders");
    RESOLVE(BeginTransaction, "SCardBeginTransaction");
    RESOLVE(EndTransaction, "SCardEndTransaction");
    RESOLVE(Status, "SCardStatus");
    RESOLVE(GetAttrib, "SCardGetAttrib");
    RESOLVE(SetAttrib, "SCardSetAttrib");
    RESOLVE(Transmit, "SCardTransmit");
    RESOLVE(Control, "SCardControl");
    loaded = 1;
}

static int ready(void) {
    pthread_once(&once, load);
    return loaded;
}

LONG SCardEstablishContext(DWORD scope, const void *r1, const void *r2, SCARDCONTEXT *ctx) {
    return ready() ? api.EstablishContext(scope, r1, r2, ctx) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardReleaseContext(SCARDCONTEXT ctx) {
    return ready() ? api.ReleaseContext(ctx) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardIsValidContext(SCARDCONTEXT ctx) {
    return ready() ? api.IsValidContext(ctx) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardCancel(SCARDCONTEXT ctx) {
    return ready() ? api.Cancel(ctx) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardConnect(SCARDCONTEXT ctx, const char *reader, DWORD share, DWORD protocols,
                  SCARDHANDLE *card, DWORD *active) {
    return ready() ? api.Connect(ctx, reader, share, protocols, card, active)
                   : SCARD_F_INTERNAL_ERROR;
}

LONG SCardReconnect(SCARDHANDLE card, DWORD share, DWORD protocols, DWORD init, DWORD *active) {
    return ready() ? api.Reconnect(card, share, protocols, init, active) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardDisconnect(SCARDHANDLE card, DWORD disposition) {
    return ready() ? api.Disconnect(card, disposition) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, void *states, DWORD count) {
    return ready() ? api.GetStatusChange(ctx, timeout, states, count) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardListReaders(SCARDCONTEXT ctx, const char *groups, char *readers, DWORD *len) {
    return ready() ? api.ListReaders(ctx, groups, readers, len) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardBeginTransaction(SCARDHANDLE card) {
    return ready() ? api.BeginTransaction(card) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardEndTransaction(SCARDHANDLE card, DWORD disposition) {
    return ready() ? api.EndTransaction(card, disposition) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardStatus(SCARDHANDLE card, char *name, DWORD *name_len, DWORD *state, DWORD *protocol,
                 unsigned char *atr, DWORD *atr_len) {
    return ready() ? api.Status(card, name, name_len, state, protocol, atr, atr_len)
                   : SCARD_F_INTERNAL_ERROR;
}

LONG SCardGetAttrib(SCARDHANDLE card, DWORD id, unsigned char *attr, DWORD *len) {
    return ready() ? api.GetAttrib(card, id, attr, len) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardSetAttrib(SCARDHANDLE card, DWORD id, const unsigned char *attr, DWORD len) {
    return ready() ? api.SetAttrib(card, id, attr, len) : SCARD_F_INTERNAL_ERROR;
}

LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST *send_pci, const unsigned char *send,
                   DWORD send_len, SCARD_IO_REQUEST *recv_pci, unsigned char *recv,
                   DWORD *recv_len) {
    return ready() ? api.Transmit(card, send_pci, send, send_len, recv_pci, recv, recv_len)
                   : SCARD_F_INTERNAL_ERROR;
}

LONG SCardControl(SCARDHANDLE card, DWORD code, const unsigned char *send, DWORD send_len,
                  unsigned char *recv, DWORD recv_len, DWORD *returned) {
    return ready() ? api.Control(card, code, send, send_len, recv, recv_len, returned)
                   : SCARD_F_INTERNAL_ERROR;
}
