/* One line per suite; each is defined in tests/unit/test_<module>.c. */
SUITE(test_duration)
SUITE(test_signame)
SUITE(test_options)
SUITE(test_status)
SUITE(test_procfs)
SUITE(test_thug)
