/* test-virt-mem.c - a domain's virtio-mem device read from libvirt's live
 * XML (good, absent, and what libvirt could not have written), and the
 * device XML that changes its requested size. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "macro.h"
#include "virt.h"
#include "virt-mem.h"

/* The device as libvirt 9.0 writes it for a running guest (lab start
 * --virtio-mem 512). */
#define DEVICE(size, block, requested, current, alias)                                  \
	"<memory model='virtio-mem'>"                                                  \
	"<target><size unit='KiB'>" size "</size><node>0</node>"                        \
	"<block unit='KiB'>" block "</block>"                                           \
	"<requested unit='KiB'>" requested "</requested>"                               \
	current "</target>" alias                                                       \
	"<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"   \
	"</memory>"
#define CURRENT(kib) "<current unit='KiB'>" kib "</current>"
#define ALIAS(name) "<alias name='" name "'/>"
#define GOOD DEVICE("524288", "2048", "524288", CURRENT("262144"), ALIAS("virtiomem0"))

static const char *domain(const char *devices) {
	static char xml[4096];

	snprintf(xml, sizeof xml,
		 "<domain type='qemu'><name>g</name><uuid>5f0b6c1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b</uuid>"
		 "<maxMemory slots='1' unit='KiB'>786432</maxMemory><memory unit='KiB'>786432</memory>"
		 "<devices><memballoon model='virtio'/>%s</devices></domain>", devices);
	return xml;
}

TEST(device_read_from_live_xml) {
	struct virt_mem_device d;
	char why[128];

	CHECK_EQ_INT(virt_mem_parse(domain(GOOD), &d, why, sizeof why), 0);
	CHECK_STREQ(d.alias, "virtiomem0");
	CHECK_EQ_U64(d.block_size, MiB(2));
	CHECK_EQ_U64(d.size, MiB(512));
	CHECK_EQ_U64(d.requested, MiB(512));
	CHECK_EQ_U64(d.current, MiB(256));
	CHECK_EQ_INT(d.count, 1);
	CHECK_STREQ(why, "");
}

TEST(no_device_is_no_error) {
	struct virt_mem_device d = { .alias = "stale", .size = 1 };
	char why[128];

	CHECK_EQ_INT(virt_mem_parse(domain("<memory model='dimm'><target><size unit='KiB'>1024</size>"
					   "</target></memory>"), &d, why, sizeof why), 0);
	CHECK_STREQ(d.alias, "");
	CHECK_EQ_U64(d.size, 0);
	CHECK_EQ_INT(d.count, 0);
}

TEST(two_devices_first_driven) {
	struct virt_mem_device d;
	char why[128];

	CHECK_EQ_INT(virt_mem_parse(domain(GOOD DEVICE("1048576", "4096", "0", CURRENT("0"), ALIAS("virtiomem1"))),
				    &d, why, sizeof why), 0);
	CHECK_STREQ(d.alias, "virtiomem0");
	CHECK_EQ_INT(d.count, 2);
}

TEST(device_libvirt_could_not_have_written_refused) {
	static const struct {
		const char *device, *why;
	} table[] = {
		{ DEVICE("524288", "2048", "524288", CURRENT("0"), ""), "has no alias" },
		{ DEVICE("524288", "3072", "0", CURRENT("0"), ALIAS("m")), "not a power of two" },
		{ DEVICE("524288", "2", "0", CURRENT("0"), ALIAS("m")), "not a power of two" },
		{ DEVICE("524289", "2048", "0", CURRENT("0"), ALIAS("m")), "not whole blocks" },
		{ DEVICE("524288", "2048", "1024", CURRENT("0"), ALIAS("m")), "not whole blocks" },
		{ DEVICE("524288", "2048", "526336", CURRENT("0"), ALIAS("m")), "more than its size" },
		{ DEVICE("524288", "2048", "0", CURRENT("526336"), ALIAS("m")), "more than its size" },
		{ DEVICE("0", "2048", "0", CURRENT("0"), ALIAS("m")), "not whole blocks" },
		{ DEVICE("524288", "2048", "0", "", ALIAS("m")), "no <current> size" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		struct virt_mem_device d = { .alias = "untouched" };
		char why[128];

		CHECK_EQ_INT(virt_mem_parse(domain(table[i].device), &d, why, sizeof why), -EBADMSG);
		if (!strstr(why, table[i].why) || !strstr(why, "virtio-mem device"))
			FAIL_AT("row %zu: \"%s\" does not say \"%s\"", i, why, table[i].why);
		CHECK_STREQ(d.alias, "untouched");
	}
	{
		struct virt_mem_device d;
		char why[128];

		CHECK_EQ_INT(virt_mem_parse("<domain><devices>", &d, why, sizeof why), -EBADMSG);
		CHECK(strstr(why, "unreadable"));
	}
}

TEST(domain_info_carries_the_device) {
	struct virt_domain_info info;

	CHECK_EQ_INT(virt_parse_domain_xml(domain(GOOD), &info), 0);
	CHECK_STREQ(info.vmem.alias, "virtiomem0");
	CHECK_EQ_U64(info.max_memory, MiB(768));
	CHECK_STREQ(info.vmem_problem, "");
	/* A device hintd cannot drive: the domain is still managed, and why is kept. */
	CHECK_EQ_INT(virt_parse_domain_xml(domain(DEVICE("524288", "2048", "0", CURRENT("0"), "")), &info), 0);
	CHECK_STREQ(info.vmem.alias, "");
	CHECK(strstr(info.vmem_problem, "has no alias"));
}

TEST(request_xml_changes_requested_only) {
	_cleanup_free_ char *xml = NULL;
	struct virt_mem_device d;
	char why[128], doc[4096];

	CHECK_EQ_INT(virt_mem_request_xml(domain(GOOD), "virtiomem0", MiB(256) + MiB(2), &xml), 0);
	CHECK(xml && strncmp(xml, "<memory model=\"virtio-mem\">", 27) == 0);
	CHECK(xml && strstr(xml, "<requested unit=\"KiB\">264192</requested>"));
	CHECK(xml && strstr(xml, "<alias name=\"virtiomem0\"/>"));
	CHECK(xml && strstr(xml, "<size unit=\"KiB\">524288</size>"));
	CHECK(xml && strstr(xml, "<address type=\"pci\""));
	/* It reads back as the same device, asked for the new size. */
	snprintf(doc, sizeof doc, "<domain><name>g</name><memory>1</memory><devices>%s</devices></domain>",
		 xml ? xml : "");
	CHECK_EQ_INT(virt_mem_parse(doc, &d, why, sizeof why), 0);
	CHECK_EQ_U64(d.requested, MiB(258));
	CHECK_EQ_U64(d.current, MiB(256));
}

TEST(request_xml_refuses_what_it_cannot_send) {
	char *xml = NULL;

	CHECK_EQ_INT(virt_mem_request_xml(domain(GOOD), "virtiomem7", MiB(2), &xml), -ENOENT);
	CHECK_EQ_INT(virt_mem_request_xml(domain(GOOD), "virtiomem0", MiB(2) + 512, &xml), -EINVAL);
	CHECK_EQ_INT(virt_mem_request_xml("<domain", "virtiomem0", MiB(2), &xml), -EBADMSG);
	CHECK(xml == NULL);
	/* No <requested> written by libvirt: added. */
	CHECK_EQ_INT(virt_mem_request_xml(domain("<memory model='virtio-mem'><target><size unit='KiB'>4096"
						 "</size></target><alias name='m'/></memory>"), "m", MiB(2), &xml), 0);
	CHECK(xml && strstr(xml, "<requested unit=\"KiB\">2048</requested>"));
	free(xml);
}

/* QEMU's query-memory-devices (QEMU 7.2, lab start --virtio-mem 512) marks
 * the device's backend, and only it, as one the guest plugs parts of. */
TEST(memory_devices_mark_the_virtio_mem_backend) {
	static const char answer[] =
		"{\"return\":[{\"type\":\"dimm\",\"data\":{\"memdev\":\"/objects/memdimm0\"}},"
		"{\"type\":\"virtio-mem\",\"data\":{\"memdev\":\"/objects/memvirtiomem0\","
		"\"memaddr\":4294967296,\"block-size\":2097152,\"size\":536870912,\"node\":0,"
		"\"requested-size\":536870912,\"id\":\"virtiomem0\"}}],\"id\":\"libvirt-420\"}";
	struct ram_backend b[3] = { { .name = "memvirtiomem0" }, { .name = "ram-node0" }, { .name = "memdimm0" } };

	CHECK_EQ_INT(virt_parse_memory_devices(answer, b, 3), 1);
	CHECK(b[0].pluggable);
	CHECK(!b[1].pluggable && !b[2].pluggable);
	/* None: nothing marked. */
	b[0].pluggable = false;
	CHECK_EQ_INT(virt_parse_memory_devices("{\"return\":[]}", b, 3), 0);
	CHECK(!b[0].pluggable);
	/* A device whose backend QEMU did not list, answers it cannot read. */
	CHECK_EQ_INT(virt_parse_memory_devices(answer, b + 1, 2), -ENOENT);
	CHECK_EQ_INT(virt_parse_memory_devices("{\"return\":{}}", b, 3), -EBADMSG);
	CHECK_EQ_INT(virt_parse_memory_devices("{\"return\":[{\"type\":\"virtio-mem\",\"data\":{}}]}", b, 3),
		     -EBADMSG);
	CHECK_EQ_INT(virt_parse_memory_devices("{\"return\":[{\"data\":{}}]}", b, 3), -EBADMSG);
	CHECK_EQ_INT(virt_parse_memory_devices("not json", b, 3), -EBADMSG);
}

int main(void) {
	return run_tests();
}
