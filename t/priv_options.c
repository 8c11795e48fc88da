/* Linked into t/greylist-priv only. LeakSanitizer cannot inspect a
 * process that runs setgid (it is not dumpable), so in a sanitizer build
 * the privilege tests run with leak detection off; every other test runs
 * the normal binary with it on. Unused without AddressSanitizer. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
