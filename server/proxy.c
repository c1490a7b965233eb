/*
 * server/proxy.c - the client address behind trusted reverse proxies (see proxy.h).
 */
#include "server/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* text (no port, no brackets) into a; 0 when it is not an address. */
static int parse_addr(const char *text, size_t len, struct proxy_addr *a)
{
    char buf[64];

    while (len && (*text == ' ' || *text == '\t'))
        text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (!len || len >= sizeof buf)
        return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, buf, a->bytes) == 1)
        a->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, a->bytes) == 1)
        a->family = AF_INET6;
    else
        return 0;
    inet_ntop(a->family, a->bytes, a->text, sizeof a->text);
    return 1;
}

int proxy_add(struct proxy_set *set, const char *cidr, struct rp_err *err)
{
    const char *slash = strchr(cidr, '/');
    struct proxy_addr a;
    struct proxy_net *n;
    long bits;

    if (set->n >= PROXY_NETS_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "at most %d trusted proxies", PROXY_NETS_MAX);
    if (!parse_addr(cidr, slash ? (size_t)(slash - cidr) : strlen(cidr), &a))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "--trusted-proxy: '%s' is not an address or"
                          " a network (192.0.2.0/24, 2001:db8::/32)", cidr);
    bits = a.family == AF_INET ? 32 : 128;
    if (slash) {
        char *end;
        errno = 0;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || errno || b < 0 || b > bits)
            return rp_err_set(err, RP_INVALID_ARGUMENT, "--trusted-proxy: '%s': the prefix"
                              " length must be 0 to %ld", cidr, bits);
        bits = b;
    }
    n = &set->net[set->n++];
    n->family = a.family;
    memcpy(n->addr, a.bytes, sizeof n->addr);
    n->bits = (int)bits;
    return RP_OK;
}

static int in_net(const struct proxy_net *n, const struct proxy_addr *a)
{
    int full = n->bits / 8, rest = n->bits % 8;

    if (n->family != a->family)
        return 0;
    if (memcmp(n->addr, a->bytes, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((n->addr[full] & mask) != (a->bytes[full] & mask))
            return 0;
    }
    return 1;
}

int proxy_trusted(const struct proxy_set *set, const struct proxy_addr *a)
{
    for (int i = 0; set && a->family && i < set->n; i++)
        if (in_net(&set->net[i], a))
            return 1;
    return 0;
}

void proxy_client(const struct proxy_set *set, const struct proxy_addr *peer,
                  const char *const *xff, int n, struct proxy_addr *out)
{
    *out = *peer;
    if (!proxy_trusted(set, peer))
        return;
    /* right to left: the nearest hop first; stop at the first address not ours */
    for (int h = n - 1; h >= 0; h--) {
        const char *v = xff[h], *end = v + strlen(v);
        while (end > v) {
            const char *comma = end;
            struct proxy_addr a;
            while (comma > v && comma[-1] != ',')
                comma--;
            if (!parse_addr(comma, (size_t)(end - comma), &a))
                return; /* garbage: trust nothing further left */
            *out = a;
            if (!proxy_trusted(set, &a))
                return;
            end = comma > v ? comma - 1 : v;
        }
    }
}
