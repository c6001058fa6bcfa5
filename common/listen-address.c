/* listen-address.c - see listen-address.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include "listen-address.h"
#include "parse.h"

/* "1".."65535", digits only. */
static int parse_port(const char *s, in_port_t *ret) {
	unsigned port;

	if (parse_unsigned(s, &port) < 0 || port < 1 || port > 65535)
		return -EINVAL;
	*ret = htons((uint16_t) port);
	return 0;
}

int listen_address_parse(const char *s, struct listen_address *ret) {
	struct listen_address a = { 0 };
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *start = s;
	size_t n;
	in_port_t port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		start = s + 1;
		n = (size_t) (close - start);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		n = (size_t) (colon - s);
	}
	if (n == 0 || n >= sizeof host || parse_port(colon + 1, &port) < 0)
		return -EINVAL;
	memcpy(host, start, n);
	host[n] = '\0';

	if (s[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &a.addr;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		a.len = sizeof *in6;
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *) &a.addr;

		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			return -EINVAL;
		in4->sin_family = AF_INET;
		in4->sin_port = port;
		a.len = sizeof *in4;
	}
	*ret = a;
	return 0;
}
