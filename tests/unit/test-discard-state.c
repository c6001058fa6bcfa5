/* test-discard-state.c - what Machine.Discard says: vm_discard_state() over
 * everything hintd knows of a VM, and the domain XML it learns free page
 * reporting from. */
#include <string.h>
#include "harness.h"
#include "model.h"
#include "virt.h"

/* Everything in place: what a VM looks like when discard works. */
static struct vm_measured ready(void) {
	return (struct vm_measured) {
		.running = true,
		.discard_capable = true,
		.agent = AGENT_CONNECTED,
		.module = true,
	};
}

static const char *state(const struct vm_measured *m, bool described) {
	return vm_discard_to_string(vm_discard_state(m, described));
}

TEST(yes_only_with_everything) {
	struct vm_measured m = ready();

	CHECK_STREQ(state(&m, true), "yes");
	m.module = false;
	CHECK_STREQ(state(&m, true), "no module");
	m = ready();
	m.agent = AGENT_DISCONNECTED;
	CHECK_STREQ(state(&m, true), "agent down");
	m.agent = AGENT_FAILED;
	CHECK_STREQ(state(&m, true), "agent down");
	m.agent = AGENT_ABSENT;
	CHECK_STREQ(state(&m, true), "no agent");
	m = ready();
	m.free_page_reporting = true;
	CHECK_STREQ(state(&m, true), "fpr");
	m = ready();
	m.discard_capable = false;
	CHECK_STREQ(state(&m, true), "no backing");
}

/* The two guests that read "yes" before: an agentless one and one whose
 * balloon has free page reporting, both with their backing open. */
TEST(agentless_and_fpr_guests_are_not_yes) {
	struct vm_measured agentless = ready(), fpr = ready();

	agentless.agent = AGENT_ABSENT;
	agentless.module = false;
	CHECK_STREQ(state(&agentless, true), "no agent");
	/* Free page reporting holds the guest's hook: an agent there runs
	 * without the module, and fpr is what the host can change. */
	fpr.free_page_reporting = true;
	fpr.module = false;
	CHECK_STREQ(state(&fpr, true), "fpr");
	fpr.agent = AGENT_ABSENT;
	CHECK_STREQ(state(&fpr, true), "fpr");
}

/* The host's side is named first: nothing in the guest would help. */
TEST(first_thing_in_the_way) {
	struct vm_measured m = { .agent = AGENT_ABSENT, .free_page_reporting = true };

	CHECK_STREQ(state(&m, false), "reading");
	CHECK_STREQ(state(&m, true), "no backing");
	m.discard_capable = true;
	CHECK_STREQ(state(&m, true), "fpr");
	m.free_page_reporting = false;
	CHECK_STREQ(state(&m, true), "no agent");
	/* Not yet described beats everything, even a VM that looks ready. */
	m = ready();
	CHECK_STREQ(state(&m, false), "reading");
}

TEST(strings_fit_and_are_distinct) {
	for (int i = 0; i < _VM_DISCARD_MAX; i++) {
		CHECK(strlen(vm_discard_to_string(i)) < VM_DISCARD_STRING_MAX);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(vm_discard_to_string(i), vm_discard_to_string(j)) != 0);
	}
	CHECK_STREQ(vm_discard_to_string(_VM_DISCARD_MAX), "?");
	CHECK_STREQ(vm_discard_to_string(-1), "?");
}

static const char *domain(const char *balloon) {
	static char xml[1024];

	snprintf(xml, sizeof xml,
		 "<domain type='kvm'><name>g</name><uuid>00000000-0000-4000-8000-000000000001</uuid>"
		 "<memory unit='MiB'>512</memory><devices>%s</devices></domain>", balloon);
	return xml;
}

TEST(free_page_reporting_from_the_domain_xml) {
	struct virt_domain_info info;

	CHECK_EQ_INT(virt_parse_domain_xml(domain("<memballoon model='virtio' freePageReporting='on'/>"),
					   &info), 0);
	CHECK(info.balloon);
	CHECK(info.free_page_reporting);
	CHECK_EQ_INT(virt_parse_domain_xml(domain("<memballoon model='virtio' freePageReporting='off'/>"),
					   &info), 0);
	CHECK(!info.free_page_reporting);
	CHECK_EQ_INT(virt_parse_domain_xml(domain("<memballoon model='virtio'/>"), &info), 0);
	CHECK(!info.free_page_reporting);
	CHECK_EQ_INT(virt_parse_domain_xml(domain(""), &info), 0);
	CHECK(!info.balloon);
	CHECK(!info.free_page_reporting);
}

int main(void) {
	return run_tests();
}

/* A reclaim request counts what the host has, not what was punched. */
TEST(reclaim_request_progress_is_what_the_backing_lost) {
	const uint64_t M = 1 << 20;

	/* 96 MiB punched, but the guest allocated 12 MiB meanwhile. */
	CHECK_EQ_U64(reclaim_request_progress(10 * M, 106 * M, true, 500 * M, 416 * M), 84 * M);
	/* The backing fell more than was accounted (the guest freed too). */
	CHECK_EQ_U64(reclaim_request_progress(10 * M, 106 * M, true, 500 * M, 300 * M), 96 * M);
	/* It grew: nothing yet. */
	CHECK_EQ_U64(reclaim_request_progress(0, 64 * M, true, 400 * M, 420 * M), 0);
	/* No backing to measure (no RAM files): the accounted moves (libvirt's
	 * balloon figures). */
	CHECK_EQ_U64(reclaim_request_progress(0, 64 * M, false, 0, 0), 64 * M);
	CHECK_EQ_U64(reclaim_request_progress(64 * M, 64 * M, false, 0, 0), 0);
}
