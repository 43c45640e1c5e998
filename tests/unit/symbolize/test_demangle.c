// SPDX-License-Identifier: MIT
/* test_demangle.c - C++ (libstdc++), Rust legacy (ours), Rust v0 (libiberty). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/demangle.h"

static void expect(const char *mangled, const char *want)
{
	char *got = demangle__name(mangled);

	if (!got)
		fail_msg("%s: not demangled (errno %d)", mangled, errno);
	assert_string_equal(got, want);
	free(got);
}

static void expect_none(const char *name, int err)
{
	errno = 0;
	assert_null(demangle__name(name));
	assert_int_equal(errno, err);
}

static void test_cxx(void **state)
{
	(void)state;
	if (!demangle__has_cxx())
		skip();
	expect("_ZN4shop6LedgerINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEE6recordERKS6_",
	       "shop::Ledger<std::__cxx11::basic_string<char, std::char_traits<char>, "
	       "std::allocator<char> > >::record(std::__cxx11::basic_string<char, "
	       "std::char_traits<char>, std::allocator<char> > const&)");
	expect("_Z3foov.cold", "foo() [clone .cold]");
	expect("_ZN3foo3barE", "foo::bar");	/* no hash: C++, not Rust */
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi",
	       "std::vector<int, std::allocator<int> >::push_back(int const&)");
}

static void test_rust_legacy(void **state)
{
	(void)state;
	expect("_ZN3std2rt10lang_start17h1234567890abcdefE", "std::rt::lang_start");
	expect("_ZN3foo3bar17h0123456789abcdefE.llvm.4242", "foo::bar");
	expect("_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$"
	       "closure$u7d$$u7d$$GT$17h0123456789abcdefE",
	       "core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>");
	expect("_ZN71_$LT$Test$u20$$u2b$$u20$$u27$static$u20$as$u20$foo..Bar$LT$Test$GT$$GT$"
	       "3bar17h930b740aa94f1d3aE",
	       "<Test + 'static as foo::Bar<Test>>::bar");
	expect("_ZN5alloc5boxed16Box$LT$T$C$A$GT$3new17h0123456789abcdefE",
	       "alloc::boxed::Box<T,A>::new");
	expect("_ZN8for_each7$RF$mut17h0123456789abcdefE", "for_each::&mut");
}

static void test_rust_v0(void **state)
{
	(void)state;
	if (!demangle__has_rust_v0())
		skip();	/* needs binutils' libbfd (libiberty) */
	expect("_RNvNtCs1234_7mycrate3foo3bar", "mycrate::foo::bar");
	expect("_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example");
}

static void test_not_mangled(void **state)
{
	(void)state;
	expect_none("main", EINVAL);
	expect_none("", EINVAL);
	expect_none(NULL, EINVAL);
	if (demangle__has_cxx())
		expect_none("_ZN3foo", EINVAL);	/* truncated */
	/* an unknown Rust escape: not Rust, so C++ rules (hash kept) */
	if (demangle__has_cxx())
		expect("_ZN3$X$3bar17h0123456789abcdefE", "$X$::bar::h0123456789abcdef");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx),
		cmocka_unit_test(test_rust_legacy),
		cmocka_unit_test(test_rust_v0),
		cmocka_unit_test(test_not_mangled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
