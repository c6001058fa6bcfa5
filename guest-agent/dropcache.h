/* dropcache.h - drop up to N bytes of clean page cache. */
#ifndef HINT_AGENT_DROPCACHE_H
#define HINT_AGENT_DROPCACHE_H

#include <stdint.h>

/* Drops clean page cache until about `bytes` are gone (or nothing more can
 * go) and measures what went: *ret_freed is the drop of the guest's file
 * LRU (Active(file)+Inactive(file)) across the call. */
int drop_clean_cache(uint64_t bytes, uint64_t *ret_freed);

/* Has the guest kernel compact its memory (/proc/sys/vm/compact_memory):
 * free pages scattered between used ones come together in whole blocks
 * the module can report. Called when the host asks (give with compact). */
int compact_guest_memory(void);

#endif
