// SPDX-License-Identifier: MIT
/* seed_cxx.cpp - C++ with exceptions: CIEs with personality and LSDA
 * pointers ("zPLR"), for the ELF fuzzers' seeds (mk/fuzz.mk). */
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace seed {
struct Leak {
	std::vector<std::string> v;
	void add(int i)
	{
		if (i > 1000)
			throw std::runtime_error("too many");
		v.push_back(std::to_string(i));
	}
};
}

int main(int argc, char **)
{
	seed::Leak l;

	try {
		for (int i = 0; i < argc * 2000; i++)
			l.add(i);
	} catch (const std::exception &e) {
		std::printf("%s %zu\n", e.what(), l.v.size());
	}
	return 0;
}
