/* verbs.c - the commands that read or change hintd's state once. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "args.h"
#include "bus.h"
#include "format.h"
#include "json-output.h"
#include "log.h"
#include "macro.h"
#include "snapshot.h"
#include "table.h"
#include "verbs.h"

static uint64_t now_realtime_usec(void) {
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void snapshot_donep(struct ctl_snapshot *s) {
	ctl_snapshot_done(s);
}

static void machine_donep(struct ctl_machine *m) {
	ctl_machine_done(m);
}

static void manager_donep(struct ctl_manager *m) {
	ctl_manager_done(m);
}

static int print_json(json_t *j, bool compact) {
	int r = ctl_json_print(j, stdout, compact);

	if (r < 0) {
		log_error_errno(r, "hintctl: writing JSON failed: %m");
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

static int read_snapshot(const struct ctl_options *opts, struct ctl_snapshot *ret) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;
	r = ctl_snapshot_read(bus, ret, &error);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, "reading hintd's state", NULL);
	return 0;
}

static const char *agent_text(const struct ctl_machine *vm) {
	return vm->agent_state && *vm->agent_state ? vm->agent_state : "?";
}

/* The one-line-per-VM summary of `status`. */
static int print_machine_summary(const struct ctl_options *opts, const struct ctl_snapshot *s) {
	static const char *const headers[] = {
		"VM", ">ACTUAL", ">BACKED", ">UNUSED", ">RECLAIMED", "AGENT", "DISCARD", "LAST DECISION",
	};
	_cleanup_(ctl_table_freep) struct ctl_table *t = NULL;
	int r;

	if (s->n_machines == 0) {
		if (opts->legend)
			printf("No VMs.\n");
		return 0;
	}
	r = ctl_table_new(headers, ELEMENTSOF(headers), &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_machines; i++) {
		const struct ctl_machine *vm = &s->machines[i];
		char actual[CTL_FORMAT_MAX], backed[CTL_FORMAT_MAX], unused[CTL_FORMAT_MAX],
			reclaimed[CTL_FORMAT_MAX];
		const char *cells[] = {
			vm->name,
			ctl_format_size(actual, sizeof actual, vm->balloon_actual, opts->exact_bytes),
			ctl_format_size(backed, sizeof backed, vm->backed, opts->exact_bytes),
			ctl_format_size(unused, sizeof unused, vm->unused, opts->exact_bytes),
			ctl_format_size(reclaimed, sizeof reclaimed, ctl_machine_reclaimed(vm),
					opts->exact_bytes),
			agent_text(vm),
			ctl_machine_discard(vm),
			vm->last_decision && *vm->last_decision ? vm->last_decision : "-",
		};

		r = ctl_table_add_row(t, cells);
		if (r < 0)
			return r;
	}
	ctl_table_print(t, stdout, opts->legend);
	return 0;
}

int verb_status(const struct ctl_options *opts) {
	_cleanup_(snapshot_donep) struct ctl_snapshot s = {};
	const struct ctl_manager *m = &s.manager;
	char a[CTL_FORMAT_MAX], b[CTL_FORMAT_MAX], c[CTL_FORMAT_MAX];
	bool x = opts->exact_bytes;
	int r;

	r = read_snapshot(opts, &s);
	if (r != 0)
		return r;
	if (opts->json)
		return print_json(ctl_json_snapshot(&s), false);

	printf("hintd %s, every %s%s\n", m->version ? m->version : "?",
	       ctl_format_duration(a, sizeof a, m->tick_usec),
	       m->dry_run ? " (dry run: decisions are logged, not carried out)" : "");
	printf("Memory:     %s total, %s available; pressure some %.2f%%, full %.2f%%\n",
	       ctl_format_size(a, sizeof a, m->memory_total, x),
	       ctl_format_size(b, sizeof b, m->memory_available, x),
	       m->psi_some_avg10, m->psi_full_avg10);
	if (m->budget_limit > 0)
		printf("Budget:     %s used of %s\n", ctl_format_size(a, sizeof a, m->budget_usage, x),
		       ctl_format_size(b, sizeof b, m->budget_limit, x));
	else
		printf("Budget:     none (free memory is the host's MemAvailable)\n");
	printf("Free:       %s; reclaim starts below %s and goes on up to %s\n",
	       ctl_format_size(a, sizeof a, m->free, x),
	       ctl_format_size(b, sizeof b, m->low_watermark, x),
	       ctl_format_size(c, sizeof c, m->high_watermark, x));
	printf("Reclaiming: %s\n", ctl_yes_no(m->reclaiming));
	printf("Reclaimed: ");
	for (size_t i = 0; i < _CTL_RUNG_MAX; i++)
		printf(" %s %s at %s%s", rung_to_string(i),
		       ctl_format_size(a, sizeof a, m->reclaimed[i], x),
		       ctl_format_rate(b, sizeof b, m->rate[i], x), i + 1 < _CTL_RUNG_MAX ? "," : ";");
	printf(" total %s\n", ctl_format_size(a, sizeof a, ctl_manager_reclaimed(m), x));
	printf("Plan:       %s\n", m->plan && *m->plan ? m->plan : "-");
	printf("Libvirt:    %s\n", m->libvirt && *m->libvirt ? m->libvirt : "?");
	printf("\n");

	r = print_machine_summary(opts, &s);
	if (r < 0)
		return log_error_errno(r, "hintctl: %m"), CTL_EXIT_FAILURE;
	return CTL_EXIT_OK;
}

/* list's VMEM column: virtio-mem plugged/size, shown only on hosts where
 * some VM has a device. */
#define LIST_COLUMN_VMEM 8

int verb_list(const struct ctl_options *opts) {
	static const char *const headers[] = {
		"NAME", ">MAX", ">ACTUAL", ">BACKED", ">UNUSED", ">VOLATILE", ">STABLE",
		">RECLAIMED", [LIST_COLUMN_VMEM] = ">VMEM", "AGENT", "DISCARD", "LIBVIRT",
	};
	_cleanup_(snapshot_donep) struct ctl_snapshot s = {};
	_cleanup_(ctl_table_freep) struct ctl_table *t = NULL;
	bool x = opts->exact_bytes;
	int r;

	r = read_snapshot(opts, &s);
	if (r != 0)
		return r;
	if (opts->json)
		return print_json(ctl_json_machines(&s), false);

	r = ctl_table_new(headers, ELEMENTSOF(headers), &t);
	if (r < 0)
		goto fail;
	if (!ctl_snapshot_has_virtio_mem(&s))
		ctl_table_hide_column(t, LIST_COLUMN_VMEM);
	for (size_t i = 0; i < s.n_machines; i++) {
		const struct ctl_machine *vm = &s.machines[i];
		char v[8][CTL_FORMAT_MAX];
		const char *cells[] = {
			vm->name,
			ctl_format_size(v[0], sizeof v[0], vm->max_memory, x),
			ctl_format_size(v[1], sizeof v[1], vm->balloon_actual, x),
			ctl_format_size(v[2], sizeof v[2], vm->backed, x),
			ctl_format_size(v[3], sizeof v[3], vm->unused, x),
			ctl_format_size(v[4], sizeof v[4], vm->volatile_, x),
			ctl_format_size(v[5], sizeof v[5], vm->stable, x),
			ctl_format_size(v[6], sizeof v[6], ctl_machine_reclaimed(vm), x),
			ctl_machine_virtio_mem(vm, x, v[7], sizeof v[7]),
			agent_text(vm),
			ctl_machine_discard(vm),
			vm->libvirt && *vm->libvirt ? vm->libvirt : "?",
		};

		r = ctl_table_add_row(t, cells);
		if (r < 0)
			goto fail;
	}
	if (s.n_machines > 0)
		ctl_table_print(t, stdout, opts->legend);
	if (opts->legend)
		printf("%s%zu VM%s listed.\n", s.n_machines > 0 ? "\n" : "", s.n_machines,
		       s.n_machines == 1 ? "" : "s");
	return CTL_EXIT_OK;
fail:
	log_error_errno(r, "hintctl: %m");
	return CTL_EXIT_FAILURE;
}

/* A note after a property's value, or NULL: why a VM's Discard is what it is. */
typedef const char *(*property_note_fn)(const struct ctl_property *p, const void *obj,
					char *buf, size_t size);

static const char *machine_note(const struct ctl_property *p, const void *obj, char *buf,
				size_t size) {
	if (strcmp(p->name, "Discard") != 0)
		return NULL;
	ctl_machine_discard_why(obj, buf, size);
	return *buf ? buf : NULL;
}

static void print_properties(const struct ctl_property *table, size_t n, const void *obj,
			     bool exact, property_note_fn note) {
	uint64_t now = now_realtime_usec();
	int width = 0;

	for (size_t i = 0; i < n; i++)
		width = MAX(width, (int) strlen(table[i].name));
	for (size_t i = 0; i < n; i++) {
		char buf[4096], why[512];
		const char *extra = note ? note(&table[i], obj, why, sizeof why) : NULL;

		ctl_property_format(&table[i], obj, exact, now, buf, sizeof buf);
		if (extra)
			printf("%*s: %s (%s)\n", width, table[i].name, buf, extra);
		else
			printf("%*s: %s\n", width, table[i].name, buf);
	}
}

int verb_show(const struct ctl_options *opts, const char *machine) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(machine_donep) struct ctl_machine vm = {};
	_cleanup_(manager_donep) struct ctl_manager m = {};
	int r;

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;

	if (!machine) {
		r = ctl_manager_read(bus, &m, &error);
		if (r < 0)
			return ctl_bus_fail(opts, r, &error, "reading hintd's state", NULL);
		if (opts->json)
			return print_json(ctl_json_properties(ctl_manager_properties,
							      ctl_manager_properties_n, &m), false);
		print_properties(ctl_manager_properties, ctl_manager_properties_n, &m,
				 opts->exact_bytes, NULL);
		return CTL_EXIT_OK;
	}

	r = ctl_machine_read(bus, machine, &vm, &error);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, "reading the VM's state", machine);
	if (opts->json)
		return print_json(ctl_json_properties(ctl_machine_properties,
						      ctl_machine_properties_n, &vm), false);
	print_properties(ctl_machine_properties, ctl_machine_properties_n, &vm, opts->exact_bytes,
			 machine_note);
	return CTL_EXIT_OK;
}

int verb_dump(const struct ctl_options *opts) {
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = ctl_call_text(opts, "Dump", &text);
	if (r != 0)
		return r;
	if (opts->json) {
		json_t *o = json_object();

		if (o && json_object_set_new(o, "dump", json_string(text)) < 0) {
			json_decref(o);
			o = NULL;
		}
		return print_json(o, false);
	}
	len = strlen(text);
	fputs(text, stdout);
	if (len > 0 && text[len - 1] != '\n')
		putchar('\n');
	return CTL_EXIT_OK;
}

/* SetMachine's a{sv}, in the order of the bus API. */
static int append_settings(sd_bus_message *m, const struct ctl_settings *s) {
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	if (s->has_min_memory && (r = sd_bus_message_append(m, "{sv}", "MinMemory", "t", s->min_memory)) < 0)
		return r;
	if (s->has_max_memory && (r = sd_bus_message_append(m, "{sv}", "MaxMemory", "t", s->max_memory)) < 0)
		return r;
	if (s->has_shares && (r = sd_bus_message_append(m, "{sv}", "Shares", "u", s->shares)) < 0)
		return r;
	if (s->has_priority && (r = sd_bus_message_append(m, "{sv}", "Priority", "i", s->priority)) < 0)
		return r;
	if (s->has_reclaim) {
		const char *rungs[_CTL_RUNG_MAX + 1] = {};
		size_t n = 0;

		for (size_t i = 0; i < _CTL_RUNG_MAX; i++)
			if (s->reclaim & (1u << i))
				rungs[n++] = rung_to_string(i);
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r < 0)
			return r;
		r = sd_bus_message_append_basic(m, 's', "Reclaim");
		if (r < 0)
			return r;
		r = sd_bus_message_open_container(m, 'v', "as");
		if (r < 0)
			return r;
		r = sd_bus_message_append_strv(m, (char **) rungs);
		if (r < 0)
			return r;
		r = sd_bus_message_close_container(m);
		if (r < 0)
			return r;
		r = sd_bus_message_close_container(m);
		if (r < 0)
			return r;
	}
	if (s->has_proactive &&
	    (r = sd_bus_message_append(m, "{sv}", "Proactive", "b", (int) s->proactive)) < 0)
		return r;
	if (s->has_manage && (r = sd_bus_message_append(m, "{sv}", "Manage", "b", (int) s->manage)) < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int verb_set(const struct ctl_options *opts, const char *machine, char *const *args, size_t n_args) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_free_ char *why = NULL;
	struct ctl_settings s;
	int r;

	r = ctl_settings_parse(args, n_args, &s, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "hintctl: %m"), CTL_EXIT_FAILURE;
	if (r < 0) {
		log_error("hintctl: set: %s", why ? why : "bad settings");
		return CTL_EXIT_USAGE;
	}

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;
	r = sd_bus_message_new_method_call(bus, &m, HINTD_BUS_NAME, HINTD_MANAGER_PATH,
					   HINTD_MANAGER_IFACE, "SetMachine");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, 's', machine);
	if (r >= 0)
		r = append_settings(m, &s);
	if (r < 0)
		return log_error_errno(r, "hintctl: building the SetMachine call failed: %m"),
		       CTL_EXIT_FAILURE;
	r = sd_bus_call(bus, m, 0, &error, &reply);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, "set", machine);
	return CTL_EXIT_OK;
}

int verb_reclaim(const struct ctl_options *opts, const char *machine, uint64_t bytes) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	char a[CTL_FORMAT_MAX];
	uint64_t target;
	int r;

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;
	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH, HINTD_MANAGER_IFACE,
			       "Reclaim", &error, &reply, "st", machine ? machine : "", bytes);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, "reclaim", machine);
	r = sd_bus_message_read_basic(reply, 't', &target);
	if (r < 0)
		return ctl_bus_fail(opts, r, NULL, "reading Reclaim's reply", NULL);

	if (opts->json) {
		json_t *o = json_pack("{s:s?, s:I}", "machine", machine, "bytes", (json_int_t) target);
		return print_json(o, false);
	}
	if (machine)
		printf("hintd will reclaim %s from %s.\n",
		       ctl_format_size(a, sizeof a, target, opts->exact_bytes), machine);
	else
		printf("hintd will reclaim %s from the VMs its policy chooses.\n",
		       ctl_format_size(a, sizeof a, target, opts->exact_bytes));
	return CTL_EXIT_OK;
}

int verb_reload(const struct ctl_options *opts) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;
	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH, HINTD_MANAGER_IFACE,
			       "Reload", &error, NULL, NULL);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, "reload", NULL);
	return CTL_EXIT_OK;
}
