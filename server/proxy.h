/*
 * server/proxy.h - reporta behind a reverse proxy (--trusted-proxy CIDR, repeatable). When a
 * request's connection comes from a trusted address, its client is the rightmost address of
 * X-Forwarded-For (all such headers, in order) that is not itself a trusted proxy; from any
 * other address the header is ignored, so nobody can choose the address their rate limits and
 * log lines are kept under. Addresses are parsed by inet_pton; an unparseable header entry
 * ends the walk (the last good address, or the proxy itself, is the client).
 */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>

#include "base/err.h"

#define PROXY_NETS_MAX 16

struct proxy_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

struct proxy_set {
    struct proxy_net net[PROXY_NETS_MAX];
    int n;
};

/* An address as the server keys it: family, 4 or 16 bytes, and as text. */
struct proxy_addr {
    int family; /* 0: unknown */
    unsigned char bytes[16];
    char text[48];
};

/* "10.0.0.0/8", "192.0.2.7" (a /32), "::1", "fd00::/8": into set. RP_INVALID_ARGUMENT names
 * what is wrong. */
int proxy_add(struct proxy_set *set, const char *cidr, struct rp_err *err);
/* Is a in one of set's networks? */
int proxy_trusted(const struct proxy_set *set, const struct proxy_addr *a);
/* The client of a request from peer, given its X-Forwarded-For values xff[0..n) in header
 * order: peer itself unless peer is trusted (see above). */
void proxy_client(const struct proxy_set *set, const struct proxy_addr *peer,
                  const char *const *xff, int n, struct proxy_addr *out);

#endif
