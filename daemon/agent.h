/* agent.h - hintd's connection to one guest's hint-agent.
 *
 * The host end of the guest's virtio-serial channel is a unix socket that
 * QEMU listens on. The connection is non-blocking with bounded buffers both
 * ways; it is retried with backoff while QEMU or the guest is not there.
 * The guest is untrusted: a line that is not a valid guest message is
 * dropped with a log line (at most 10 a minute per guest); a guest sending
 * more than 64 bad ones in 10 s is cut off for 10 s, doubling while it goes
 * on; more than 200 messages a second pause reading its channel (a backlog
 * that built up while hintd's loop was held up does not count). One
 * guest's garbage never reaches or slows another. */
#ifndef HINTD_AGENT_H
#define HINTD_AGENT_H

#include <systemd/sd-event.h>
#include "model.h"
#include "protocol.h"

struct agent;

struct agent_callbacks {
	/* A valid guest message. */
	void (*message)(struct agent *a, const struct hint_msg *m, void *userdata);
	/* The connection went down (or came up: state is DISCONNECTED until hello). */
	void (*state_changed)(struct agent *a, enum agent_state state, void *userdata);
};

/* Bytes hintd queues for a guest that does not read before giving up. */
#define AGENT_OUTPUT_MAX (256 * 1024)

int agent_new(sd_event *e, const char *socket_path, const char *vm_name,
	      const struct agent_callbacks *cb, void *userdata, struct agent **ret);
struct agent *agent_free(struct agent *a);

enum agent_state agent_get_state(const struct agent *a);
/* Marks the agent as having said hello. */
void agent_set_connected(struct agent *a);

/* Queues one message. -ENOTCONN when not connected, -ENOBUFS when the
 * guest stopped reading (the connection is then closed and retried). */
int agent_send(struct agent *a, const struct hint_msg *m);

/* Sends a command with a fresh id; returns the id (> 0) or a negative errno. */
int64_t agent_send_cmd(struct agent *a, struct hint_cmd cmd);

/* Drops a message that breaks the protocol (message says how), logs it
 * within the guest's allowance, and cuts the guest off when it keeps at it. */
void agent_reject(struct agent *a, const char *message);
/* Messages rejected since hintd started watching this guest. */
uint64_t agent_rejected(const struct agent *a);

/* The loop was held up for stall_usec (it ended at end_usec): what guests
 * sent meanwhile is a backlog, read at once without counting as a flood. */
void agent_loop_stalled(usec_t stall_usec, usec_t end_usec);

#endif /* HINTD_AGENT_H */
