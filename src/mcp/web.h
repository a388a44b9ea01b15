/* Streamable HTTP for the daemon (serve --http): see web.c. */
#ifndef EBPF_MCP_WEB_H
#define EBPF_MCP_WEB_H

#include <stddef.h>

struct server;

/* Listens on srv->cfg->http_addr (tokens from --token-file): 0, or -1
 * after saying why on stderr. */
int web__start(struct server *srv);
/* Closes every connection and the listener (the loop has ended). */
void web__fini(struct server *srv);
unsigned web__connections(const struct server *srv);
unsigned web__in_flight(const struct server *srv);
/* The Prometheus text for /metrics in a malloc'd *buf (NULL when out of
 * heap); its length. */
size_t web__metrics(const struct server *srv, char **buf);

#endif
