/* listen-address.h - an address to listen on, as a sysadmin writes it in a
 * config file: "127.0.0.1:9848", "[::1]:9848", "0.0.0.0:9848" or
 * "[::]:9848". Literal addresses only: a daemon that resolves names at
 * start depends on DNS being up. Pure. */
#ifndef HINTD_LISTEN_ADDRESS_H
#define HINTD_LISTEN_ADDRESS_H

#include <sys/socket.h>

struct listen_address {
	struct sockaddr_storage addr;
	socklen_t len;
};

/* -EINVAL unless s is ADDRESS:PORT as above with a port of 1..65535. */
int listen_address_parse(const char *s, struct listen_address *ret);

#endif /* HINTD_LISTEN_ADDRESS_H */
