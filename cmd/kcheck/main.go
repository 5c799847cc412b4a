// Command kcheck checks the kernel-context contract of packages kernel
// (both flavours) and hv/svm: every function reached from their kernel-context
// entry points says so in its doc ("Kernel context." or "Boot path."), and
// none of the marked functions allocates (package internal/kcheck says how).
// `make vet` runs it from the module root; -list prints the marked functions.
package main

import (
	"flag"
	"fmt"
	"os"

	"grove/internal/kcheck"
)

var kernelEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}

// kernelAllow is the allow-list: each entry says why the report is no
// allocation or cannot happen in kernel context.
var kernelAllow = []kcheck.Allow{
	{Func: "bootMain", Expr: "identityMem{} escapes",
		Why: "identityMem is zero-sized: the interface points at runtime.zerobase, nothing is allocated"},
}

var checks = []struct {
	name string
	cfg  kcheck.Config
}{
	{"kernel", kcheck.Config{Dir: "kernel", Env: kernelEnv,
		Roots: []string{"trap", "bootMain", "apMain"}, Allow: kernelAllow}},
	{"kernel (groveguest)", kcheck.Config{Dir: "kernel", Tags: "groveguest", Env: kernelEnv,
		Roots: []string{"trap", "bootMain", "apMain"}, Allow: kernelAllow}},
	// runGuest is the long call kernel/longcall.go makes in kernel context.
	{"hv/svm", kcheck.Config{Dir: "hv/svm", Env: kernelEnv, Roots: []string{"runGuest"}}},
}

func main() {
	list := flag.Bool("list", false, "print the marked functions and the allow-list")
	flag.Parse()
	failed := false
	for _, c := range checks {
		res, err := kcheck.Check(c.cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kcheck: %s: %v\n", c.name, err)
			os.Exit(2)
		}
		n := 0
		for _, f := range res.Funcs {
			if f.Marked {
				n++
				if *list {
					fmt.Printf("%s\t%s\t%s\n", c.name, f.Name, f.ReachedVia)
				}
			}
		}
		for _, p := range res.Problems {
			fmt.Fprintf(os.Stderr, "kcheck: %s\n", p)
			failed = true
		}
		fmt.Printf("kcheck: %s: %d kernel-context functions, %d problems\n", c.name, n, len(res.Problems))
	}
	if *list {
		for _, a := range kernelAllow {
			fmt.Printf("allowed\t%s\t%s\t%s\n", a.Func, a.Expr, a.Why)
		}
	}
	if failed {
		os.Exit(1)
	}
}
