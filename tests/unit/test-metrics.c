/* test-metrics.c - the Prometheus exposition (metrics-text.c) and the
 * MetricsListen= address parser (listen-address.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "listen-address.h"
#include "metrics-text.h"

static char *format(const struct bus_manager_props *mgr, const struct bus_machine_props *vms, size_t n) {
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	metrics_format(f, mgr, vms, n);
	fclose(f);
	return text;
}

/* How many lines of text are exactly line. */
static int count_line(const char *text, const char *line) {
	size_t n = strlen(line);
	int count = 0;

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			count++;
	return count;
}

static void two_vms(struct bus_manager_props *mgr, struct bus_machine_props vms[2]) {
	*mgr = (struct bus_manager_props) {
		.mem_total = 8ULL << 30, .psi_some_avg10 = 12.5, .reclaiming = 1,
		.reclaimed = { 300ULL << 20, 0, 64ULL << 20 },
	};
	strcpy(mgr->version, "0.1");
	strcpy(mgr->libvirt, "connected");
	memset(vms, 0, 2 * sizeof *vms);
	strcpy(vms[0].name, "web");
	vms[0].running = 1;
	vms[0].backed = 512ULL << 20;
	vms[0].reclaimed[0] = 300ULL << 20;
	vms[0].priority = -5;
	vms[0].agent_rejected = 3;
	strcpy(vms[0].agent_state, "connected");
	vms[0].module = 1;
	vms[0].discard_capable = 1;
	strcpy(vms[0].libvirt, "answering");
	/* A name with every character the format escapes. */
	strcpy(vms[1].name, "odd \"vm\"\\\nname");
	strcpy(vms[1].agent_state, "absent");
	strcpy(vms[1].discard_reason, "guest RAM is not a shared file mapping");
	strcpy(vms[0].discard, "yes");
	strcpy(vms[1].discard, "no backing");
}

TEST(every_family_has_help_and_type_once_and_counters_end_in_total) {
	struct bus_manager_props mgr;
	struct bus_machine_props vms[2];
	char *text;

	two_vms(&mgr, vms);
	text = format(&mgr, vms, 2);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128], type[16];

		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			CHECK(strncmp(name, "hintd_", 6) == 0);
			if (strcmp(type, "counter") == 0)
				CHECK(strstr(name, "_total") == name + strlen(name) - 6);
			else
				CHECK_STREQ(type, "gauge");
		}
	}
	free(text);
	text = format(&mgr, vms, 2);
	CHECK_EQ_INT(count_line(text, "# TYPE hintd_vm_backed_bytes gauge"), 1);
	CHECK_EQ_INT(count_line(text, "# TYPE hintd_reclaimed_bytes_total counter"), 1);
	free(text);
}

TEST(values_are_in_base_units) {
	struct bus_manager_props mgr;
	struct bus_machine_props vms[2];
	char *text;

	two_vms(&mgr, vms);
	text = format(&mgr, vms, 2);
	CHECK_EQ_INT(count_line(text, "hintd_host_memory_total_bytes 8589934592"), 1);
	/* PSI is a percent on D-Bus, a ratio here. */
	CHECK_EQ_INT(count_line(text, "hintd_host_pressure_some_avg10_ratio 0.125"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_reclaiming 1"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vms 2"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_reclaimed_bytes_total{rung=\"unused\"} 314572800"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_reclaimed_bytes_total{rung=\"balloon\"} 67108864"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_reclaimed_bytes_total{vm=\"web\",rung=\"unused\"} 314572800"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_backed_bytes{vm=\"web\"} 536870912"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_priority{vm=\"web\"} -5"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_agent_rejected_messages_total{vm=\"web\"} 3"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_agent_info{vm=\"web\",state=\"connected\",module=\"yes\"} 1"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_libvirt_info{vm=\"web\",state=\"answering\"} 1"), 1);
	free(text);
}

TEST(label_values_are_escaped) {
	struct bus_manager_props mgr;
	struct bus_machine_props vms[2];
	char *text;

	two_vms(&mgr, vms);
	text = format(&mgr, vms, 2);
	CHECK_EQ_INT(count_line(text, "hintd_vm_running{vm=\"odd \\\"vm\\\"\\\\\\nname\"} 0"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_discard_info{vm=\"odd \\\"vm\\\"\\\\\\nname\",state=\"no backing\",capable=\"no\","
				"reason=\"guest RAM is not a shared file mapping\"} 1"), 1);
	/* No raw newline inside a sample: every line starts as a sample or a comment. */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		CHECK(line[0] == '#' || strncmp(line, "hintd_", 6) == 0);
	free(text);
}

TEST(no_vms_still_gives_the_manager) {
	struct bus_manager_props mgr;
	struct bus_machine_props vms[2];
	char *text;

	two_vms(&mgr, vms);
	text = format(&mgr, NULL, 0);
	CHECK_EQ_INT(count_line(text, "hintd_vms 0"), 1);
	CHECK(strstr(text, "{vm=") == NULL);
	free(text);
}

/* web has a 4 GiB device with 1.5 GiB plugged and 1 GiB asked for; the
 * other VM has none. */
static void two_vms_one_device(struct bus_manager_props *mgr, struct bus_machine_props vms[2]) {
	two_vms(mgr, vms);
	vms[0].virtio_mem_size = 4ULL << 30;
	vms[0].virtio_mem_block_size = 2ULL << 20;
	vms[0].virtio_mem_requested = 1ULL << 30;
	vms[0].virtio_mem_plugged = 3ULL << 29;
	strcpy(vms[0].last_instrument, "virtio-mem");
	strcpy(vms[1].last_instrument, "none");
}

TEST(virtio_mem_only_for_vms_with_a_device) {
	struct bus_manager_props mgr;
	struct bus_machine_props vms[2];
	char *text;

	two_vms_one_device(&mgr, vms);
	text = format(&mgr, vms, 2);
	CHECK_EQ_INT(count_line(text, "hintd_vm_virtio_mem_size_bytes{vm=\"web\"} 4294967296"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_virtio_mem_block_size_bytes{vm=\"web\"} 2097152"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_virtio_mem_requested_bytes{vm=\"web\"} 1073741824"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_virtio_mem_plugged_bytes{vm=\"web\"} 1610612736"), 1);
	CHECK(strstr(text, "hintd_vm_virtio_mem_size_bytes{vm=\"odd") == NULL);
	CHECK(strstr(text, "hintd_vm_virtio_mem_plugged_bytes{vm=\"odd") == NULL);
	/* The HELP says whose figure plugged is. */
	CHECK(strstr(text, "# HELP hintd_vm_virtio_mem_plugged_bytes What the guest has plugged in its "
			   "virtio-mem device, as libvirt reports it") != NULL);
	/* Every VM has a last instrument, a device or not. */
	CHECK_EQ_INT(count_line(text, "hintd_vm_last_instrument_info{vm=\"web\",instrument=\"virtio-mem\"} 1"), 1);
	CHECK_EQ_INT(count_line(text, "hintd_vm_last_instrument_info{vm=\"odd \\\"vm\\\"\\\\\\nname\",instrument=\"none\"} 1"), 1);
	free(text);
}

TEST(virtio_mem_families_stay_without_a_device) {
	struct bus_manager_props mgr;
	struct bus_machine_props vms[2];
	char *text;

	two_vms(&mgr, vms);
	text = format(&mgr, vms, 2);
	/* The families are announced, with no sample: a dashboard's query finds
	 * the name and nothing under it. */
	CHECK_EQ_INT(count_line(text, "# TYPE hintd_vm_virtio_mem_size_bytes gauge"), 1);
	CHECK_EQ_INT(count_line(text, "# TYPE hintd_vm_virtio_mem_plugged_bytes gauge"), 1);
	CHECK(strstr(text, "hintd_vm_virtio_mem_size_bytes{") == NULL);
	CHECK(strstr(text, "hintd_vm_virtio_mem_block_size_bytes{") == NULL);
	CHECK(strstr(text, "hintd_vm_virtio_mem_requested_bytes{") == NULL);
	CHECK(strstr(text, "hintd_vm_virtio_mem_plugged_bytes{") == NULL);
	free(text);
}

TEST(listen_addresses) {
	struct listen_address a;
	const struct sockaddr_in *in4 = (const struct sockaddr_in *) &a.addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &a.addr;
	static const char *const bad[] = {
		"", "9848", ":9848", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", "localhost:9848", "::1:9848",
		"[::1]", "[::1]9848", "[127.0.0.1]:9848", "[]:9848", "1.2.3:9848", " 127.0.0.1:9848",
		"[::1]:9848 ",
	};

	CHECK_EQ_INT(listen_address_parse("127.0.0.1:9848", &a), 0);
	CHECK_EQ_INT(in4->sin_family, AF_INET);
	CHECK_EQ_INT(ntohs(in4->sin_port), 9848);
	CHECK_EQ_INT((int) ntohl(in4->sin_addr.s_addr), 0x7f000001);
	CHECK_EQ_INT((int) a.len, (int) sizeof(struct sockaddr_in));
	CHECK_EQ_INT(listen_address_parse("0.0.0.0:65535", &a), 0);
	CHECK_EQ_INT(listen_address_parse("[::1]:1", &a), 0);
	CHECK_EQ_INT(in6->sin6_family, AF_INET6);
	CHECK_EQ_INT(ntohs(in6->sin6_port), 1);
	CHECK(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
	CHECK_EQ_INT(listen_address_parse("[::]:9848", &a), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(listen_address_parse(bad[i], &a), -EINVAL);
}

int main(void) {
	return run_tests();
}
