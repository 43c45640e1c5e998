// SPDX-License-Identifier: MIT
/*
 * sym_cxx - allocations in member functions of a class template, for the
 * C++ names of tests/e2e/test_symbols.py (lines found by "@line:" markers).
 *
 * Usage: sym_cxx [MODE]   (MODE: exit (default), exit=N, wait; alloc_common.h)
 *
 * After SIGUSR1: shop::Ledger<std::string>::record() mallocs RECORD_BYTES
 * itself (a copy of the item) and shop::Ledger<std::string>::keep() news
 * one std::string (32 bytes, malloc'ed by libstdc++'s operator new);
 * then "done record=RECORD_BYTES".
 */
#include <cstdlib>
#include <cstring>
#include <string>
#include "alloc_common.h"

#define RECORD_BYTES 2222

static volatile std::size_t record_bytes = RECORD_BYTES;	/* no constant folding */

namespace shop {

template <class T>
class Ledger {
public:
	NOIPA void record(const T &item);
	NOIPA void keep(const T &item);

private:
	void *volatile last_ = nullptr;
	T *volatile kept_ = nullptr;
};

template <class T>
void Ledger<T>::record(const T &item)
{
	char *copy = static_cast<char *>(std::malloc(record_bytes));	/* @line:record */

	std::memcpy(copy, item.c_str(), item.size() + 1);
	last_ = copy;
	KEEP_FRAME();
}

template <class T>
void Ledger<T>::keep(const T &item)
{
	kept_ = new T(item);	/* @line:keep */
	KEEP_FRAME();
}

}  // namespace shop

static shop::Ledger<std::string> ledger;

int main(int argc, char **argv)
{
	const std::string item("pen");	/* short: no allocation of its own */

	proto_init();
	proto_ready();
	proto_wait_go();
	ledger.record(item);	/* @line:main_record */
	ledger.keep(item);	/* @line:main_keep */
	KEEP_FRAME();
	proto_say("done record=%d", RECORD_BYTES);
	proto_finish(argc > 1 ? argv[1] : "exit");
}
