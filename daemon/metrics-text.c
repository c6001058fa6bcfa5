/* metrics-text.c - see metrics-text.h. The metrics are data: one table for
 * the manager, one for each VM, each entry naming a field of the props the
 * bus shows. */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "macro.h"
#include "metrics-text.h"
#include "rungs.h"

enum metric_kind {
	METRIC_U64,		/* a uint64_t, as it is */
	METRIC_BOOL,		/* an int, shown as 0 or 1 */
	METRIC_U32,
	METRIC_I32,
	METRIC_PERCENT,		/* a double in percent, shown as a ratio */
};

struct metric {
	const char *name, *type, *help;
	enum metric_kind kind;
	size_t offset;
	/* Which VMs have a sample; NULL: every one. */
	bool (*applies)(const struct bus_machine_props *vm);
};

static bool has_virtio_mem(const struct bus_machine_props *vm) {
	return vm->virtio_mem_size > 0;
}

#define MGR(n, t, k, field, h) { n, t, h, k, offsetof(struct bus_manager_props, field), NULL }
#define VM(n, t, k, field, h)  { n, t, h, k, offsetof(struct bus_machine_props, field), NULL }
/* A VM's virtio-mem device: samples only for VMs that have one, so a host
 * without any shows the families, empty. */
#define VMEM(n, field, h) \
	{ n, "gauge", h, METRIC_U64, offsetof(struct bus_machine_props, field), has_virtio_mem }

static const struct metric manager_metrics[] = {
	MGR("hintd_host_memory_total_bytes", "gauge", METRIC_U64, mem_total,
	    "The host's MemTotal."),
	MGR("hintd_host_memory_available_bytes", "gauge", METRIC_U64, mem_available,
	    "The host's MemAvailable."),
	MGR("hintd_host_pressure_some_avg10_ratio", "gauge", METRIC_PERCENT, psi_some_avg10,
	    "Share of the last 10 s some host task stalled on memory (PSI some avg10)."),
	MGR("hintd_host_pressure_full_avg10_ratio", "gauge", METRIC_PERCENT, psi_full_avg10,
	    "Share of the last 10 s all host tasks stalled on memory (PSI full avg10)."),
	MGR("hintd_budget_limit_bytes", "gauge", METRIC_U64, budget_limit,
	    "The memory budget the VMs must fit in; 0 when none is set."),
	MGR("hintd_budget_usage_bytes", "gauge", METRIC_U64, budget_usage,
	    "What counts against the budget; 0 when none is set."),
	MGR("hintd_free_bytes", "gauge", METRIC_U64, free,
	    "Free memory as the policy counts it: budget left, or MemAvailable."),
	MGR("hintd_low_watermark_bytes", "gauge", METRIC_U64, low_watermark,
	    "Below this much free memory hintd reclaims."),
	MGR("hintd_high_watermark_bytes", "gauge", METRIC_U64, high_watermark,
	    "Reclaim goes on until this much is free."),
	MGR("hintd_reclaiming", "gauge", METRIC_BOOL, reclaiming,
	    "1 while hintd is reclaiming memory."),
	MGR("hintd_dry_run", "gauge", METRIC_BOOL, dry_run,
	    "1 when hintd only logs its decisions."),
};

static const struct metric vm_metrics[] = {
	VM("hintd_vm_running", "gauge", METRIC_BOOL, running,
	   "1 while the VM runs."),
	VM("hintd_vm_managed", "gauge", METRIC_BOOL, managed,
	   "1 when hintd may act on the VM (Manage=)."),
	VM("hintd_vm_max_memory_bytes", "gauge", METRIC_U64, max_memory,
	   "The domain's maximum memory."),
	VM("hintd_vm_balloon_actual_bytes", "gauge", METRIC_U64, balloon_actual,
	   "Memory the guest has, as libvirt reports the balloon."),
	VM("hintd_vm_balloon_target_bytes", "gauge", METRIC_U64, balloon_target,
	   "The balloon target hintd last set; 0 when never."),
	VM("hintd_vm_backed_bytes", "gauge", METRIC_U64, backed,
	   "Host memory behind the guest's RAM, measured on its backing."),
	VM("hintd_vm_unused_bytes", "gauge", METRIC_U64, unused,
	   "Guest pages in the unused state (free), as the guest reports."),
	VM("hintd_vm_volatile_bytes", "gauge", METRIC_U64, volatile_,
	   "Guest pages in the volatile state (clean cache), as the guest reports."),
	VM("hintd_vm_stable_bytes", "gauge", METRIC_U64, stable,
	   "Guest pages in the stable state (in use), as the guest reports."),
	VM("hintd_vm_hinted_bytes", "gauge", METRIC_U64, hinted,
	   "Unused ranges the guest reported that wait for a decision."),
	VM("hintd_vm_guest_pressure_some_avg10_ratio", "gauge", METRIC_PERCENT, psi_some_avg10,
	   "Share of the last 10 s some guest task stalled on memory (guest PSI)."),
	VM("hintd_vm_min_memory_bytes", "gauge", METRIC_U64, min_memory,
	   "MinMemory=: the guarantee; 0 for the policy's floor."),
	VM("hintd_vm_shares", "gauge", METRIC_U32, shares,
	   "Shares=: the VM's proportional weight."),
	VM("hintd_vm_priority", "gauge", METRIC_I32, priority,
	   "Priority=: lower is reclaimed first."),
	VM("hintd_vm_agent_rejected_messages_total", "counter", METRIC_U64, agent_rejected,
	   "Messages from the guest's agent that hintd refused."),
	VMEM("hintd_vm_virtio_mem_size_bytes", virtio_mem_size,
	     "The most the VM's virtio-mem device can plug; only VMs with a device."),
	VMEM("hintd_vm_virtio_mem_block_size_bytes", virtio_mem_block_size,
	     "The virtio-mem device's block size: the unit the guest plugs and unplugs."),
	VMEM("hintd_vm_virtio_mem_requested_bytes", virtio_mem_requested,
	     "What the virtio-mem device is asked to plug: hintd's last request, or libvirt's figure before hintd made one."),
	VMEM("hintd_vm_virtio_mem_plugged_bytes", virtio_mem_plugged,
	     "What the guest has plugged in its virtio-mem device, as libvirt reports it (the figure the shrink rung is credited from)."),
};

/* The field is read by copy: the props are plain structs, no type punning. */
static void write_value(FILE *f, const void *props, const struct metric *mt) {
	const char *p = (const char *) props + mt->offset;
	uint64_t u64;
	uint32_t u32;
	int32_t i32;
	int b;
	double d;

	switch (mt->kind) {
	case METRIC_U64:
		memcpy(&u64, p, sizeof u64);
		fprintf(f, "%" PRIu64 "\n", u64);
		break;
	case METRIC_BOOL:
		memcpy(&b, p, sizeof b);
		fprintf(f, "%d\n", b ? 1 : 0);
		break;
	case METRIC_U32:
		memcpy(&u32, p, sizeof u32);
		fprintf(f, "%" PRIu32 "\n", u32);
		break;
	case METRIC_I32:
		memcpy(&i32, p, sizeof i32);
		fprintf(f, "%" PRId32 "\n", i32);
		break;
	case METRIC_PERCENT:
		memcpy(&d, p, sizeof d);
		fprintf(f, "%.6g\n", d / 100.0);
		break;
	}
}

static void write_family(FILE *f, const char *name, const char *type, const char *help) {
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_write_label_value(FILE *f, const char *value) {
	fputc('"', f);
	for (const char *c = value; *c; c++)
		switch (*c) {
		case '\\': fputs("\\\\", f); break;
		case '"':  fputs("\\\"", f); break;
		case '\n': fputs("\\n", f); break;
		default:   fputc(*c, f);
		}
	fputc('"', f);
}

/* NAME{vm="...", then the caller's labels and "} VALUE". */
static void write_vm_sample(FILE *f, const char *name, const struct bus_machine_props *vm) {
	fprintf(f, "%s{vm=", name);
	metrics_write_label_value(f, vm->name);
}

static void write_label(FILE *f, const char *key, const char *value) {
	fprintf(f, ",%s=", key);
	metrics_write_label_value(f, value);
}

static void write_reclaimed(FILE *f, const struct bus_manager_props *mgr,
			    const struct bus_machine_props *vms, size_t n) {
	write_family(f, "hintd_reclaimed_bytes_total", "counter",
		     "Memory the host got back, per rung, as measured on the host since hintd started.");
	for (unsigned r = 0; r < _RUNG_MAX; r++)
		fprintf(f, "hintd_reclaimed_bytes_total{rung=\"%s\"} %" PRIu64 "\n",
			rung_to_string(r), mgr->reclaimed[r]);
	write_family(f, "hintd_vm_reclaimed_bytes_total", "counter",
		     "Memory the host got back from the VM, per rung, as measured on the host.");
	for (size_t i = 0; i < n; i++)
		for (unsigned r = 0; r < _RUNG_MAX; r++) {
			write_vm_sample(f, "hintd_vm_reclaimed_bytes_total", &vms[i]);
			write_label(f, "rung", rung_to_string(r));
			fprintf(f, "} %" PRIu64 "\n", vms[i].reclaimed[r]);
		}
}

static void write_vm_infos(FILE *f, const struct bus_machine_props *vms, size_t n) {
	write_family(f, "hintd_vm_agent_info", "gauge",
		     "The guest agent's state (absent, disconnected, connected, failed) and whether it has the module.");
	for (size_t i = 0; i < n; i++) {
		write_vm_sample(f, "hintd_vm_agent_info", &vms[i]);
		write_label(f, "state", vms[i].agent_state);
		write_label(f, "module", vms[i].module ? "yes" : "no");
		fputs("} 1\n", f);
	}
	write_family(f, "hintd_vm_discard_info", "gauge",
		     "What discarding free memory does for the VM (state: yes, no backing, fpr, no agent, agent down, no module, reading), whether its RAM can be discarded, and why not.");
	for (size_t i = 0; i < n; i++) {
		write_vm_sample(f, "hintd_vm_discard_info", &vms[i]);
		write_label(f, "state", vms[i].discard);
		write_label(f, "capable", vms[i].discard_capable ? "yes" : "no");
		write_label(f, "reason", vms[i].discard_reason);
		fputs("} 1\n", f);
	}
	write_family(f, "hintd_vm_libvirt_info", "gauge",
		     "Whether the VM's QEMU answers libvirt's calls.");
	for (size_t i = 0; i < n; i++) {
		write_vm_sample(f, "hintd_vm_libvirt_info", &vms[i]);
		write_label(f, "state", vms[i].libvirt);
		fputs("} 1\n", f);
	}
	write_family(f, "hintd_vm_last_instrument_info", "gauge",
		     "What hintd last moved to resize the VM: none, balloon or virtio-mem.");
	for (size_t i = 0; i < n; i++) {
		write_vm_sample(f, "hintd_vm_last_instrument_info", &vms[i]);
		write_label(f, "instrument", vms[i].last_instrument);
		fputs("} 1\n", f);
	}
}

void metrics_format(FILE *f, const struct bus_manager_props *mgr,
		    const struct bus_machine_props *vms, size_t n) {
	write_family(f, "hintd_build_info", "gauge", "hintd's version.");
	fputs("hintd_build_info{version=", f);
	metrics_write_label_value(f, mgr->version);
	fputs("} 1\n", f);
	write_family(f, "hintd_libvirt_info", "gauge", "hintd's connection to libvirt.");
	fputs("hintd_libvirt_info{state=", f);
	metrics_write_label_value(f, mgr->libvirt);
	fputs("} 1\n", f);
	for (size_t i = 0; i < ELEMENTSOF(manager_metrics); i++) {
		const struct metric *mt = &manager_metrics[i];

		write_family(f, mt->name, mt->type, mt->help);
		fprintf(f, "%s ", mt->name);
		write_value(f, mgr, mt);
	}
	write_family(f, "hintd_vms", "gauge", "VMs hintd knows of.");
	fprintf(f, "hintd_vms %zu\n", n);
	write_reclaimed(f, mgr, vms, n);
	for (size_t j = 0; j < ELEMENTSOF(vm_metrics); j++) {
		const struct metric *mt = &vm_metrics[j];

		write_family(f, mt->name, mt->type, mt->help);
		for (size_t i = 0; i < n; i++) {
			if (mt->applies && !mt->applies(&vms[i]))
				continue;
			write_vm_sample(f, mt->name, &vms[i]);
			fputs("} ", f);
			write_value(f, &vms[i], mt);
		}
	}
	write_vm_infos(f, vms, n);
}
