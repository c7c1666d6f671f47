/* Archive naming, parsing and retention (pure), and the log file's rotation
 * driven through the loop in a scratch directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "logfile.h"
#include "loop.h"
#include "rotate.h"
#include "unit.h"

static struct dock_archive_key key(uint64_t stamp, unsigned seq)
{
	struct dock_archive_key k = { stamp, seq };

	return k;
}

static const char *name(const char *base, uint64_t stamp, unsigned seq, enum dock_archive_kind kind)
{
	static char buf[4][256];
	static int i;
	struct dock_archive_key k = key(stamp, seq);
	char *b = buf[i++ % 4];

	if (dock_rotate_name(b, sizeof(buf[0]), base, &k, kind) < 0)
		return NULL;
	return b;
}

/* Parses name as an archive of base: the kind, or -1. */
static int kind_of(const char *base, const char *n, struct dock_archive_key *k)
{
	struct dock_archive_key tmp;
	enum dock_archive_kind kind;

	if (dock_rotate_parse(base, n, k ? k : &tmp, &kind) < 0)
		return -1;
	return (int)kind;
}

UNIT_SUITE(test_rotate_names)
{
	struct tm tm = { 0 };
	struct dock_archive_key k;
	char small[20];

	tm.tm_year = 2024 - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 2;
	tm.tm_hour = 3;
	tm.tm_min = 4;
	tm.tm_sec = 5;
	CHECK_EQ_INT(dock_rotate_stamp(&tm), 20240102030405ULL);

	CHECK_EQ_STR(name("app.log", 20240102030405ULL, 0, DOCK_ARCHIVE_GZ), "app.log_20240102030405.gz");
	CHECK_EQ_STR(name("app.log", 20240102030405ULL, 0, DOCK_ARCHIVE_PLAIN), "app.log_20240102030405");
	CHECK_EQ_STR(name("app.log", 20240102030405ULL, 0, DOCK_ARCHIVE_RAW), ".app.log_20240102030405.raw");
	CHECK_EQ_STR(name("app.log", 20240102030405ULL, 0, DOCK_ARCHIVE_TMP), "app.log_20240102030405.gz.tmp");
	CHECK_EQ_STR(name("app.log", 20240102030405ULL, 7, DOCK_ARCHIVE_GZ), "app.log_20240102030405_07.gz");
	CHECK_EQ_STR(name("app.log", 20240102030405ULL, 99, DOCK_ARCHIVE_PLAIN), "app.log_20240102030405_99");
	CHECK(name("app.log", 20240102030405ULL, 100, DOCK_ARCHIVE_GZ) == NULL);
	k = key(20240102030405ULL, 0);
	CHECK_EQ_INT(dock_rotate_name(small, sizeof(small), "app.log", &k, DOCK_ARCHIVE_GZ), -1);

	/* Byte-wise order (ls, a shell glob) is rotation order, collisions
	 * within a second included. */
	{
		const char *ordered[] = {
			name("a", 20240102030405ULL, 0, DOCK_ARCHIVE_GZ),
			name("a", 20240102030405ULL, 1, DOCK_ARCHIVE_GZ),
			name("a", 20240102030405ULL, 2, DOCK_ARCHIVE_GZ),
			name("a", 20240102030406ULL, 0, DOCK_ARCHIVE_GZ),
		};
		char copy[4][64];
		int i;

		for (i = 0; i < 4; i++)
			strcpy(copy[i], ordered[i]);
		for (i = 0; i < 3; i++)
			CHECK(strcmp(copy[i], copy[i + 1]) < 0);
		CHECK(strcmp(name("a", 20240102030405ULL, 9, DOCK_ARCHIVE_GZ),
			     name("a", 20240102030405ULL, 10, DOCK_ARCHIVE_GZ)) < 0);
		CHECK(strcmp(name("a", 20240102030405ULL, 0, DOCK_ARCHIVE_PLAIN),
			     name("a", 20240102030405ULL, 1, DOCK_ARCHIVE_PLAIN)) < 0);
	}
}

UNIT_SUITE(test_rotate_parse)
{
	struct dock_archive_key k;

	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405.gz", &k), DOCK_ARCHIVE_GZ);
	CHECK_EQ_INT(k.stamp, 20240102030405ULL);
	CHECK_EQ_INT(k.seq, 0);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405_12.gz", &k), DOCK_ARCHIVE_GZ);
	CHECK_EQ_INT(k.seq, 12);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405", NULL), DOCK_ARCHIVE_PLAIN);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405_01", NULL), DOCK_ARCHIVE_PLAIN);
	CHECK_EQ_INT(kind_of("app.log", ".app.log_20240102030405.raw", NULL), DOCK_ARCHIVE_RAW);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405_03.gz.tmp", NULL), DOCK_ARCHIVE_TMP);
	CHECK_EQ_INT(kind_of(".hidden", "..hidden_20240102030405.raw", NULL), DOCK_ARCHIVE_RAW);
	CHECK_EQ_INT(kind_of(".hidden", ".hidden_20240102030405.gz", NULL), DOCK_ARCHIVE_GZ);

	/* Every form round-trips. */
	{
		enum dock_archive_kind kinds[] = { DOCK_ARCHIVE_GZ, DOCK_ARCHIVE_PLAIN, DOCK_ARCHIVE_RAW,
						   DOCK_ARCHIVE_TMP };
		unsigned seqs[] = { 0, 1, 42, 99 };
		size_t i, j;

		for (i = 0; i < 4; i++)
			for (j = 0; j < 4; j++) {
				const char *n = name("x.log", 19991231235960ULL, seqs[j], kinds[i]);

				CHECK_EQ_INT(kind_of("x.log", n, &k), kinds[i]);
				CHECK_EQ_INT(k.stamp, 19991231235960ULL);
				CHECK_EQ_INT(k.seq, seqs[j]);
			}
	}

	/* Other files' archives and look-alikes are never ours. */
	CHECK_EQ_INT(kind_of("app.log", "app.log2_20240102030405.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.lo_20240102030405.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_old_20240102030405.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app", "app.log_20240102030405.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "xapp.log_20240102030405.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_2024010203040.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_202401020304056.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_2024010203040a.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405_00.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405_1.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405_100.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405.gz.bak", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405.bz2", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", ".app.log_20240102030405.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", ".app.log_20240102030405", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102030405.raw", NULL), -1);
	CHECK_EQ_INT(kind_of("app.log", "app.log_20241302030405.gz", NULL), -1);	/* month 13 */
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240100030405.gz", NULL), -1);	/* day 0 */
	CHECK_EQ_INT(kind_of("app.log", "app.log_20240102240405.gz", NULL), -1);	/* hour 24 */
	CHECK_EQ_INT(kind_of("app.log", "app.log_99999999999999.gz", NULL), -1);
	CHECK_EQ_INT(kind_of("", "_20240102030405.gz", NULL), -1);
}

UNIT_SUITE(test_rotate_keys)
{
	struct dock_archive_key none = key(0, 0), last, out;

	CHECK(dock_rotate_next_key(&none, 20240102030405ULL, &out));
	CHECK(out.stamp == 20240102030405ULL && out.seq == 0);

	/* Two rotations within one second. */
	last = key(20240102030405ULL, 0);
	CHECK(dock_rotate_next_key(&last, 20240102030405ULL, &out));
	CHECK(out.stamp == 20240102030405ULL && out.seq == 1);
	last = out;
	CHECK(dock_rotate_next_key(&last, 20240102030405ULL, &out));
	CHECK(out.stamp == 20240102030405ULL && out.seq == 2);

	/* A later second starts over. */
	CHECK(dock_rotate_next_key(&last, 20240102030406ULL, &out));
	CHECK(out.stamp == 20240102030406ULL && out.seq == 0);

	/* The clock went back: the names still sort after the last one. */
	last = key(20240102030405ULL, 3);
	CHECK(dock_rotate_next_key(&last, 20240102020405ULL, &out));
	CHECK(out.stamp == 20240102030405ULL && out.seq == 4);

	/* Exhausted in this second: wait. Exhausted after the clock went
	 * back: follow the clock. */
	last = key(20240102030405ULL, DOCK_ROTATE_SEQ_MAX);
	CHECK(!dock_rotate_next_key(&last, 20240102030405ULL, &out));
	CHECK(dock_rotate_next_key(&last, 20240102020405ULL, &out));
	CHECK(out.stamp == 20240102020405ULL && out.seq == 0);

	{
		struct dock_archive_key a = key(20240102030405ULL, 1), b = key(20240102030405ULL, 2),
					c = key(20240102030406ULL, 0);

		CHECK(dock_rotate_key_cmp(&a, &b) < 0);
		CHECK(dock_rotate_key_cmp(&b, &c) < 0);
		CHECK(dock_rotate_key_cmp(&c, &a) > 0);
		CHECK(dock_rotate_key_cmp(&a, &a) == 0);
	}
}

UNIT_SUITE(test_rotate_select)
{
	struct dock_archive_key k[] = {
		key(20240105000000ULL, 0), key(20240101000000ULL, 0), key(20240103000000ULL, 1),
		key(20240103000000ULL, 0), key(20240101000000ULL, 0),	/* .gz and plain of one */
		key(20240104000000ULL, 0),
	};
	size_t n = sizeof(k) / sizeof(k[0]), doomed;

	doomed = dock_rotate_select(k, &n, 2);
	CHECK_EQ_INT(n, 5);
	CHECK_EQ_INT(doomed, 3);
	/* Oldest first: the doomed ones lead. */
	CHECK(k[0].stamp == 20240101000000ULL);
	CHECK(k[1].stamp == 20240103000000ULL && k[1].seq == 0);
	CHECK(k[2].stamp == 20240103000000ULL && k[2].seq == 1);
	CHECK(k[3].stamp == 20240104000000ULL);
	CHECK(k[4].stamp == 20240105000000ULL);

	n = 5;
	CHECK_EQ_INT(dock_rotate_select(k, &n, 5), 0);
	CHECK_EQ_INT(dock_rotate_select(k, &n, 100), 0);
	n = 0;
	CHECK_EQ_INT(dock_rotate_select(k, &n, 1), 0);
}

/* ------------------------------------------------ the log file, for real */

static char scratch_dir[64];

static void make_scratch(void)
{
	strcpy(scratch_dir, "/tmp/dock-unit-rotate-XXXXXX");
	if (mkdtemp(scratch_dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

static void remove_scratch(void)
{
	DIR *d = opendir(scratch_dir);
	struct dirent *de;
	char p[512];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
			continue;
		snprintf(p, sizeof(p), "%s/%s", scratch_dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(scratch_dir);
}

/* Names in the scratch directory that are archives of base, sorted. */
static size_t list_archives(const char *base, char names[][256], size_t max, int want_kind)
{
	DIR *d = opendir(scratch_dir);
	struct dirent *de;
	size_t n = 0, i, j;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		int kind = kind_of(base, de->d_name, NULL);

		if (kind == want_kind && n < max)
			snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j], names[j - 1]) < 0; j--) {
			char t[256];

			strcpy(t, names[j]);
			strcpy(names[j], names[j - 1]);
			strcpy(names[j - 1], t);
		}
	return n;
}

/* Appends the (gunzipped) content of a file in the scratch dir to buf. */
static size_t slurp(const char *n, bool gz, char *buf, size_t off, size_t cap)
{
	char p[512];
	int r;

	snprintf(p, sizeof(p), "%s/%s", scratch_dir, n);
	if (gz) {
		gzFile f = gzopen(p, "rb");

		if (f == NULL)
			return off;
		while (off < cap && (r = gzread(f, buf + off, (unsigned)(cap - off))) > 0)
			off += (size_t)r;
		gzclose(f);
	} else {
		int fd = open(p, O_RDONLY);

		if (fd < 0)
			return off;
		while (off < cap && (r = (int)read(fd, buf + off, cap - off)) > 0)
			off += (size_t)r;
		close(fd);
	}
	return off;
}

static void drain(struct dock_logfile *lf)
{
	int64_t until = dock_now_ms() + 10000;

	dock_logfile_finish(lf);
	while (dock_logfile_busy(lf) && dock_now_ms() < until)
		dock_loop_run_once();
}

/* The loop afresh, an empty scratch directory and app.log in it opened with
 * keep and max_size; NULL (scratch removed) when it cannot be opened. */
static struct dock_logfile *open_scratch_log(char *path, size_t plen, struct dock_logfile_settings *cfg,
					     unsigned keep, uint64_t max_size)
{
	struct dock_logfile *lf;
	char err[256];

	if (dock_loop_init() < 0) {
		CHECK(!"epoll");
		return NULL;
	}
	make_scratch();
	snprintf(path, plen, "%s/app.log", scratch_dir);
	memset(cfg, 0, sizeof(*cfg));
	cfg->keep = keep;
	cfg->max_size = max_size;
	lf = dock_logfile_open(path, cfg, err, sizeof(err));
	CHECK(lf != NULL);
	if (lf == NULL)
		remove_scratch();
	return lf;
}

UNIT_SUITE(test_rotate_logfile)
{
	static char expect[1 << 16], got[1 << 16];
	static char names[16][256];
	struct dock_logfile_settings cfg;
	struct dock_logfile *lf;
	char path[128], err[256], line[64];
	size_t elen = 0, glen = 0, n, i;
	int pfd[2];

	if (dock_loop_init() < 0) {
		CHECK(!"epoll");
		return;
	}
	make_scratch();
	snprintf(path, sizeof(path), "%s/app.log", scratch_dir);

	/* Size rotation at line ends, by write and by splice, every byte once
	 * and in order across the archives and the live file. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.keep = 100;
	cfg.max_size = 1000;
	lf = dock_logfile_open(path, &cfg, err, sizeof(err));
	CHECK(lf != NULL);
	if (lf == NULL) {
		fprintf(stderr, "open: %s\n", err);
		remove_scratch();
		return;
	}
	CHECK(!dock_logfile_direct(lf));
	CHECK(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	for (i = 0; i < 400; i++) {
		int len = snprintf(line, sizeof(line), "line %zu of the test\n", i);

		memcpy(expect + elen, line, (size_t)len);
		elen += (size_t)len;
		if (i % 2) {
			/* In two pieces, so rotation must wait for the second. */
			CHECK_EQ_INT(dock_logfile_write(lf, line, 5), 5);
			CHECK_EQ_INT(dock_logfile_write(lf, line + 5, (size_t)len - 5), len - 5);
		} else {
			ssize_t moved = 0, m;

			/* Splice stops at the size limit, so it may take two. */
			CHECK_EQ_INT(write(pfd[1], line, (size_t)len), len);
			while (moved < len && (m = dock_logfile_splice(lf, pfd[0], 65536)) > 0)
				moved += m;
			CHECK_EQ_INT(moved, len);
		}
		/* Let a slice of compression run now and then (with nothing
		 * pending no timer is armed, and the loop would sleep). */
		if (i % 16 == 0 && dock_logfile_busy(lf))
			dock_loop_run_once();
	}
	CHECK_EQ_INT(dock_logfile_splice(lf, pfd[0], 65536), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	close(pfd[1]);
	CHECK_EQ_INT(dock_logfile_splice(lf, pfd[0], 65536), 0);
	close(pfd[0]);
	drain(lf);
	CHECK(!dock_logfile_busy(lf));
	dock_logfile_close(lf);

	n = list_archives("app.log", names, 16, DOCK_ARCHIVE_GZ);
	CHECK(n >= 5);
	for (i = 0; i < n; i++) {
		size_t before = glen;

		glen = slurp(names[i], true, got, glen, sizeof(got));
		/* Each archive holds whole lines, about max-size of them. */
		CHECK(glen > before && got[glen - 1] == '\n');
		CHECK(glen - before >= 1000 && glen - before < 1100);
	}
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_RAW), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_TMP), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_PLAIN), 0);
	glen = slurp("app.log", false, got, glen, sizeof(got));
	CHECK_EQ_INT(glen, elen);
	CHECK(memcmp(got, expect, elen) == 0);
	{
		struct stat st;
		char p[512];

		mode_t mask = umask(0);

		umask(mask);
		/* Created as the shell's `>` would; the archive takes its mode. */
		snprintf(p, sizeof(p), "%s/%s", scratch_dir, names[0]);
		CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask));
	}

	/* Retention: a second run with keep 2 leaves the two newest archives
	 * and the unrelated files alone. */
	{
		char other[512];
		int fd;

		snprintf(other, sizeof(other), "%s/app.log2_20200101000000.gz", scratch_dir);
		fd = open(other, O_WRONLY | O_CREAT, 0600);
		close(fd);
		cfg.keep = 2;
		lf = dock_logfile_open(path, &cfg, err, sizeof(err));
		CHECK(lf != NULL);
		if (lf) {
			for (i = 0; i < 100; i++)
				dock_logfile_write(lf, "0123456789012345678901234567890123456789\n", 41);
			drain(lf);
			dock_logfile_close(lf);
		}
		{
			static char before[16][256];
			size_t m = list_archives("app.log", before, 16, DOCK_ARCHIVE_GZ);

			CHECK_EQ_INT(m, 2);
		}
		CHECK(access(other, F_OK) == 0);
		unlink(other);
	}

	/* Without rotation the file is direct: O_APPEND, nothing to do. */
	memset(&cfg, 0, sizeof(cfg));
	lf = dock_logfile_open(path, &cfg, err, sizeof(err));
	CHECK(lf != NULL);
	if (lf) {
		int fl = fcntl(dock_logfile_fd(lf), F_GETFL);

		CHECK(dock_logfile_direct(lf));
		CHECK((fl & O_APPEND) != 0);
		CHECK((fcntl(dock_logfile_fd(lf), F_GETFD) & FD_CLOEXEC) != 0);
		CHECK(!dock_logfile_busy(lf));
		dock_logfile_close(lf);
	}

	/* The path is taken as it is (options.c parsed the URL): with a
	 * directory "tcp:", "tcp://x:1" is the file tcp:/x:1. A missing
	 * directory is an error naming it. */
	{
		char dir[512], file[600];
		struct stat st;

		snprintf(dir, sizeof(dir), "%s/tcp:", scratch_dir);
		CHECK(mkdir(dir, 0700) == 0);
		snprintf(path, sizeof(path), "%s/tcp://x:1", scratch_dir);
		lf = dock_logfile_open(path, &cfg, err, sizeof(err));
		CHECK(lf != NULL);
		dock_logfile_close(lf);
		snprintf(file, sizeof(file), "%s/x:1", dir);
		CHECK(stat(file, &st) == 0 && S_ISREG(st.st_mode));
		unlink(file);
		rmdir(dir);
	}
	snprintf(path, sizeof(path), "%s/missing/app.log", scratch_dir);
	lf = dock_logfile_open(path, &cfg, err, sizeof(err));
	CHECK(lf == NULL);
	CHECK(strstr(err, "missing/app.log") != NULL);

	remove_scratch();
}

/* Leftovers of a run killed mid-compression are compressed by the next. */
UNIT_SUITE(test_rotate_recovery)
{
	static char names[16][256];
	struct dock_logfile_settings cfg;
	struct dock_logfile *lf;
	char path[128], p[512], err[256], got[256];
	size_t n, glen;
	int fd;

	if (dock_loop_init() < 0)
		return;
	make_scratch();
	snprintf(path, sizeof(path), "%s/app.log", scratch_dir);
	snprintf(p, sizeof(p), "%s/.app.log_20240101000000.raw", scratch_dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	CHECK(write(fd, "raw one\n", 8) == 8);
	close(fd);
	snprintf(p, sizeof(p), "%s/app.log_20240101000000.gz.tmp", scratch_dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	CHECK(write(fd, "junk", 4) == 4);
	close(fd);
	snprintf(p, sizeof(p), "%s/app.log_20240101000001", scratch_dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	CHECK(write(fd, "plain two\n", 10) == 10);
	close(fd);

	memset(&cfg, 0, sizeof(cfg));
	cfg.keep = 5;
	cfg.period_ms = 3600 * 1000;
	lf = dock_logfile_open(path, &cfg, err, sizeof(err));
	CHECK(lf != NULL);
	if (lf) {
		CHECK(dock_logfile_busy(lf));
		drain(lf);
		dock_logfile_close(lf);
	}
	n = list_archives("app.log", names, 16, DOCK_ARCHIVE_GZ);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_EQ_STR(names[0], "app.log_20240101000000.gz");
		glen = slurp(names[0], true, got, 0, sizeof(got));
		glen = slurp(names[1], true, got, glen, sizeof(got));
		CHECK(glen == 18 && memcmp(got, "raw one\nplain two\n", 18) == 0);
	}
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_RAW), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_TMP), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_PLAIN), 0);
	remove_scratch();
}

/* Closed with archives still pending (the exit drain ran out): their
 * content stays, uncompressed under its archive name, and the next open
 * compresses it. */
UNIT_SUITE(test_rotate_cut_short)
{
	static char names[16][256];
	static char got[8192], expect[8192];
	struct dock_logfile_settings cfg;
	struct dock_logfile *lf;
	char path[128], err[256], line[64];
	size_t n, i, glen = 0, elen = 0;

	lf = open_scratch_log(path, sizeof(path), &cfg, 10, 500);
	if (lf == NULL)
		return;
	for (i = 0; i < 100; i++) {
		int len = snprintf(line, sizeof(line), "cut short %zu\n", i);

		memcpy(expect + elen, line, (size_t)len);
		elen += (size_t)len;
		dock_logfile_write(lf, line, (size_t)len);
	}
	CHECK(dock_logfile_busy(lf));
	dock_logfile_close(lf);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_RAW), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_TMP), 0);
	n = list_archives("app.log", names, 16, DOCK_ARCHIVE_PLAIN);
	CHECK(n >= 1);
	for (i = 0; i < n; i++)
		glen = slurp(names[i], false, got, glen, sizeof(got));
	n = list_archives("app.log", names, 16, DOCK_ARCHIVE_GZ);
	for (i = 0; i < n; i++)
		glen = slurp(names[i], true, got, glen, sizeof(got));
	glen = slurp("app.log", false, got, glen, sizeof(got));
	CHECK_EQ_INT(glen, elen);

	/* The next run compresses what was left, and the order holds. */
	lf = dock_logfile_open(path, &cfg, err, sizeof(err));
	CHECK(lf != NULL);
	if (lf) {
		drain(lf);
		dock_logfile_close(lf);
	}
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_PLAIN), 0);
	n = list_archives("app.log", names, 16, DOCK_ARCHIVE_GZ);
	CHECK(n >= 1);
	glen = 0;
	for (i = 0; i < n; i++)
		glen = slurp(names[i], true, got, glen, sizeof(got));
	glen = slurp("app.log", false, got, glen, sizeof(got));
	CHECK_EQ_INT(glen, elen);
	CHECK(memcmp(got, expect, elen) == 0);
	remove_scratch();
}

/* Rotations pile up faster than they are compressed, with --log-keep 2:
 * what is kept is the newest history without a hole (the archives' content
 * and the live file's run on into each other, ending with the last line),
 * whether the rotation being compressed when the pile grew was dropped or
 * finished first. */
UNIT_SUITE(test_rotate_keep_no_hole)
{
	static char names[16][256];
	static char got[1 << 16], expect[1 << 16];
	struct dock_logfile_settings cfg;
	struct dock_logfile *lf;
	char path[128], line[128];
	size_t n, i, glen = 0, elen = 0;

	lf = open_scratch_log(path, sizeof(path), &cfg, 2, 1000);
	if (lf == NULL)
		return;
	for (i = 0; i < 600; i++) {
		int len = snprintf(line, sizeof(line), "line %04zu of the pile-up test, long enough to rotate\n", i);

		memcpy(expect + elen, line, (size_t)len);
		elen += (size_t)len;
		dock_logfile_write(lf, line, (size_t)len);
		/* A loop turn now and then starts a compressor; between turns
		 * several rotations pile up behind it. */
		if (i % 40 == 0 && dock_logfile_busy(lf))
			dock_loop_run_once();
	}
	drain(lf);
	dock_logfile_close(lf);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_RAW), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_TMP), 0);
	CHECK_EQ_INT(list_archives("app.log", names, 16, DOCK_ARCHIVE_PLAIN), 0);
	n = list_archives("app.log", names, 16, DOCK_ARCHIVE_GZ);
	CHECK_EQ_INT(n, 2);
	for (i = 0; i < n; i++)
		glen = slurp(names[i], true, got, glen, sizeof(got));
	glen = slurp("app.log", false, got, glen, sizeof(got));
	CHECK(glen > 0 && glen <= elen);
	if (glen > 0 && glen <= elen)
		CHECK(memcmp(got, expect + elen - glen, glen) == 0);
	remove_scratch();
}
