/* Debian's libbearssl.a and libz.a are built against glibc with
 * _FORTIFY_SOURCE, so they call glibc's checked memcpy/memset. musl has no
 * such entry points; these give them the same contract (abort on overflow)
 * so the archives link into the static musl binary unchanged. */
#include <stdlib.h>
#include <string.h>

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		abort();
	return memcpy(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (n > dstlen)
		abort();
	return memset(dst, c, n);
}
