/* Default options of the sanitizer build (make check-asan), compiled into
 * build/asan/dock. The integration suite starts dock with a clean
 * environment, inside containers and PID namespaces, so ASAN_OPTIONS from
 * the caller would not reach it; these travel with the binary (an
 * ASAN_OPTIONS that does reach it still wins).
 *
 * Reports go to files, DOCK_SANITIZER_LOG.<pid>, so that a report is seen
 * even when a test ignores dock's stderr or exit status; the suite's
 * sanitizer fixture (tests/integration/conftest.py) fails the test that
 * produced one. The path is the same inside a runc container (its rootfs's
 * /tmp), which the fixture looks at too. */
#ifndef DOCK_SANITIZER_LOG
#define DOCK_SANITIZER_LOG "/tmp/dock-sanitizer/report"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__lsan_default_options(void);

const char *__asan_default_options(void)
{
	/* detect_leaks: dock keeps what it needs for its whole life in static
	 * storage, so a report is a real leak, not a false alarm.
	 * quarantine_size_mb: freed memory is held back 16 MiB deep instead of
	 * 256, so that the RSS checks of the chaos suite measure dock, not the
	 * quarantine. */
	return "detect_leaks=1:halt_on_error=1:abort_on_error=0:"
	       "detect_stack_use_after_return=1:strict_string_checks=1:"
	       "check_initialization_order=1:quarantine_size_mb=16:"
	       "log_path=" DOCK_SANITIZER_LOG;
}

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1:log_path=" DOCK_SANITIZER_LOG;
}

const char *__lsan_default_options(void)
{
	return "log_path=" DOCK_SANITIZER_LOG;
}
