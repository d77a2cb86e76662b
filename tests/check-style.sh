#!/bin/sh
# make check-style: clang-format in dry-run over our C files, and functions we
# do not use (sprintf, strcat, gets, atoi, strtol family, strerror: use %m,
# alloca). An exception is marked on its line with "check-style: allow".
set -u
cd "${top_srcdir:-.}"
files=$(find src parsers tests bench fuzz -name '*.[ch]' 2>/dev/null | sort)
status=0
if command -v clang-format >/dev/null 2>&1; then
	clang-format --dry-run -Werror $files || status=1
else
	echo "check-style: clang-format not installed, formatting not checked"
fi
banned='\b(sprintf|vsprintf|strcat|strcpy|gets|atoi|atol|atoll|strtol|strtoul|strtoll|strtoull|strerror|alloca)[[:space:]]*\('
if grep -n -E "$banned" $files | grep -v 'check-style: allow'; then
	echo "check-style: the functions above are not used in this tree (see tests/check-style.sh)"
	status=1
fi
exit $status
