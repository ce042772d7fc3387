#!/bin/sh
# Turns native/reqflags.h into the C# class ScgiMono.RequestFlags (stdout):
# "#define REQ_FLAG_PLAIN_HTTP 1" -> "public const int PlainHttp = 1;".
set -eu
echo "// Generated from native/reqflags.h by managed/gen_reqflags.sh: do not edit."
echo "namespace ScgiMono"
echo "{"
echo "	public static class RequestFlags"
echo "	{"
awk '$1 == "#define" && $2 ~ /^REQ_FLAG_/ {
	n = tolower(substr($2, 10)); out = ""
	k = split(n, parts, "_")
	for (i = 1; i <= k; i++) out = out toupper(substr(parts[i], 1, 1)) substr(parts[i], 2)
	printf "\t\tpublic const int %s = %s;\n", out, $3
}' "$1"
echo "	}"
echo "}"
