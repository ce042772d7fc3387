#!/usr/bin/env bash
# Runs the NUnit tests of ScgiMono.dll with Debian's nunit-console and prints one
# TAP line per test case.
set -u
cd "$(dirname "$0")/../build" || exit 1
rm -f nunit-result.xml
nunit-console -nologo -noshadow ScgiMono.Tests.dll -xml=nunit-result.xml > nunit-console.log 2>&1
rc=$?
if [ ! -s nunit-result.xml ]; then
  cat nunit-console.log
  echo "not ok 1 - nunit-console produced no result (exit $rc)"
  exit 1
fi
python3 - nunit-result.xml <<'PY'
import sys, xml.etree.ElementTree as ET
n = 0
for case in ET.parse(sys.argv[1]).iter("test-case"):
    n += 1
    name = case.get("name")
    if case.get("executed") == "False":
        print(f"ok {n} - {name} # SKIP {case.get('result')}")
    elif case.get("success") == "True":
        print(f"ok {n} - {name}")
    else:
        print(f"not ok {n} - {name}")
        msg = case.find("./failure/message")
        if msg is not None and msg.text:
            for line in msg.text.strip().splitlines()[:10]:
                print("# " + line)
print(f"1..{n}")
PY
