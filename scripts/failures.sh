#!/bin/sh
# failures.sh LOG: print what each failing test said, from a `go test -v`
# log, so that a CI log that keeps only the summary lines still shows why.
# The serial tails the tests print are kept to their last 60 lines each.
log=${1:?usage: failures.sh go-test-v.log}
echo "---- why the failing tests failed (full log: $log) ----"
awk '
/^=== RUN/ { name = $3; buf[name] = ""; next }
/^(=== (PAUSE|CONT)|PASS$|FAIL$|ok )/ { next }
/^ *--- FAIL: / { fail[$3] = 1; next }
/^ *--- (PASS|SKIP): / { next }
{ if (name != "") buf[name] = buf[name] $0 "\n" }
END {
	for (n in fail) if (buf[n] != "") {
		k = split(buf[n], lines, "\n")
		printf "==== %s\n", n
		from = (k > 60) ? k - 60 : 1
		if (from > 1) printf "     (%d earlier lines left out)\n", from - 1
		for (i = from; i <= k; i++) if (lines[i] != "") print lines[i]
	}
}' "$log"
