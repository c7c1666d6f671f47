/* Lets go of code pages dock mapped but will not run while it waits.
 *
 * Why there are any: src/hot.ld gathers the code of a plain run at the
 * start of the text so that the kernel's fault-around (a 64 KiB block per
 * read fault) maps that and little else. But when the binary's page cache
 * holds large folios (a copy written in big chunks, as cp writes it; how
 * large depends on the writer and the file system), Linux 6.18 maps the
 * whole folio around a fault, and the cold text sharing the first folio
 * (128 KiB for a cp copy on ext4 here) becomes resident with it, though
 * none of it runs. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "idle.h"
#include "log.h"

/* dock_hot_text_end is defined by src/hot.ld, at the end of .text.hot;
 * etext, the end of the text, by the linker's default script. Weak: a build
 * linked without src/hot.ld (the unit tests) has no hot section to keep,
 * and sees a null address. */
extern const char dock_hot_text_end[] __attribute__((weak));
extern const char etext[] __attribute__((weak));

int dock_idle_release_cold_text(void)
{
	uintptr_t page = (uintptr_t)getauxval(AT_PAGESZ);
	uintptr_t start, end;

	if (dock_hot_text_end == NULL || etext == NULL || page == 0 || (page & (page - 1)) != 0) {
		errno = ENOSYS;
		return -1;
	}
	/* Whole pages only, from the first one past the hot code up to the
	 * last one that holds nothing but text: the pages at either edge may
	 * be shared with code that runs, or (in a layout that does not give
	 * the text pages of its own) with read-only data.
	 *
	 * Why MADV_DONTNEED is safe here: the text is a private file mapping
	 * that is read-only and never written (a static binary that is not
	 * relocated at run time: `file build/dock` says "statically linked"),
	 * so no page of it is a private copy: dropping one loses nothing, the
	 * next access maps the file's page again. It touches only this
	 * process's page tables; the page cache, and other processes running
	 * the same binary, keep theirs. It must never be given a writable
	 * range (.data, .bss, the stack): there it would throw away what was
	 * written. */
	start = ((uintptr_t)dock_hot_text_end + page - 1) & ~(page - 1);
	end = (uintptr_t)etext & ~(page - 1);
	if (end <= start)
		return 0;
	if (madvise((void *)start, end - start, MADV_DONTNEED) < 0) {
		/* A seccomp filter may refuse it: the pages then stay, and
		 * nothing else changes. */
		dock_debug("madvise: %s (the cold code stays mapped)", strerror(errno));
		return -1;
	}
	return 0;
}
