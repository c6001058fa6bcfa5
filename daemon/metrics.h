/* metrics.h - the manager's metrics: what D-Bus shows, in the Prometheus
 * text format (metrics-text.h). The D-Bus method Metrics returns it and
 * the MetricsListen= endpoint serves it (metrics-http.h). */
#ifndef HINTD_METRICS_H
#define HINTD_METRICS_H

struct manager;

/* The exposition text in *ret (free() it); -ENOMEM. */
int manager_metrics(struct manager *m, char **ret);

/* Serves them on MetricsListen= (at start and after each reload): opens,
 * moves or closes the endpoint to match the configuration. */
void manager_metrics_listen(struct manager *m);

#endif /* HINTD_METRICS_H */
