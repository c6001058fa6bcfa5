/* metrics.c - see metrics.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "macro.h"
#include "manager-state.h"
#include "metrics-http.h"
#include "metrics-text.h"
#include "metrics.h"

int manager_metrics(struct manager *m, char **ret) {
	size_t n = manager_vm_count(m), size = 0;
	_cleanup_free_ struct bus_machine_props *vms = calloc(n ? n : 1, sizeof *vms);
	struct bus_manager_props mgr;
	char *text = NULL;
	FILE *f;

	if (!vms)
		return -ENOMEM;
	manager_view(m, &mgr);
	for (size_t i = 0; i < n; i++)
		vm_view(manager_vm(m, i), &vms[i]);
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	metrics_format(f, &mgr, vms, n);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 0;
}

static int render(void *userdata, char **ret) {
	return manager_metrics(userdata, ret);
}

void manager_metrics_listen(struct manager *m) {
	const char *want = m->config->metrics_listen;
	struct metrics_http *h = NULL;

	if (m->metrics && want && strcmp(metrics_http_address(m->metrics), want) == 0)
		return;
	/* The old socket goes first: the new address may be the same port. */
	if (m->metrics) {
		log_info("Metrics no longer served on %s", metrics_http_address(m->metrics));
		m->metrics = metrics_http_free(m->metrics);
	}
	/* A port already taken costs the endpoint, never the memory management:
	 * the error is logged and the next reload tries again. */
	if (want && metrics_http_open(m->event, want, render, m, &h) >= 0)
		m->metrics = h;
}
