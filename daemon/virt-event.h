/* virt-event.h - libvirt's event loop, implemented on sd-event.
 *
 * libvirt needs an event loop for domain events and keepalives; instead of a
 * second thread running libvirt's own, its handles and timeouts become
 * sd-event sources in hintd's one loop. Call once, before virConnectOpen. */
#ifndef HINTD_VIRT_EVENT_H
#define HINTD_VIRT_EVENT_H

#include <systemd/sd-event.h>

int virt_event_register(sd_event *e);
/* At exit, after virConnectClose: runs the free callbacks still pending and
 * drops every source libvirt left behind. */
void virt_event_unregister(void);

#endif /* HINTD_VIRT_EVENT_H */
