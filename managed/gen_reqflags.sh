#!/bin/sh
# Turns native/reqflags.h into the C# classes ScgiMono.RequestFlags and
# ScgiMono.RequestResult (stdout):
# "#define REQ_FLAG_PLAIN_HTTP 1" -> "public const int PlainHttp = 1;" in the
# first, "#define REQ_RESULT_DONE 0" -> "public const int Done = 0;" in the second.
set -eu
echo "// Generated from native/reqflags.h by managed/gen_reqflags.sh: do not edit."
echo "namespace ScgiMono"
echo "{"
consts() { # $1: the prefix of the names in reqflags.h
	awk -v prefix="$1" '$1 == "#define" && index($2, prefix) == 1 {
		n = tolower(substr($2, length(prefix) + 1)); out = ""
		k = split(n, parts, "_")
		for (i = 1; i <= k; i++) out = out toupper(substr(parts[i], 1, 1)) substr(parts[i], 2)
		printf "\t\tpublic const int %s = %s;\n", out, $3
	}' "$2"
}
echo "	public static class RequestFlags"
echo "	{"
consts REQ_FLAG_ "$1"
echo "	}"
echo "	public static class RequestResult"
echo "	{"
consts REQ_RESULT_ "$1"
echo "	}"
echo "}"
