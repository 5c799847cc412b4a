// Command grove-probe is the Linux guests' own probe (docs/linux.md): it
// prints the CPUs Linux gives it, the uptime, and a checksum of some work
// spread over every CPU, in one line a test can check:
//
//	grove-probe: cpus=2 uptime=12.34s work=sha256:1f0e...
//
// The work is fixed (eight chunks of a xorshift stream, hashed apart and
// then together), so the checksum is the same on any machine and any CPU
// count: the tests run the same binary on the host for the expected value.
// With -work it prints the checksum alone.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
)

const (
	chunks    = 8
	chunkSize = 512 << 10 // bytes per chunk
)

func main() {
	workOnly := flag.Bool("work", false, "print the work's checksum alone")
	flag.Parse()
	sum := work()
	if *workOnly {
		fmt.Println(sum)
		return
	}
	up, err := uptime()
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove-probe: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("grove-probe: cpus=%d uptime=%ss work=sha256:%s\n", runtime.NumCPU(), up, sum)
}

// work hashes each chunk in its own goroutine, then the chunks' hashes in
// order.
func work() string {
	var wg sync.WaitGroup
	sums := make([][sha256.Size]byte, chunks)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i] = chunk(uint64(i) + 1)
		}()
	}
	wg.Wait()
	h := sha256.New()
	for _, s := range sums {
		h.Write(s[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// chunk hashes chunkSize bytes of the xorshift64 stream seeded by seed.
func chunk(seed uint64) [sha256.Size]byte {
	buf := make([]byte, chunkSize)
	x := seed * 0x9e3779b97f4a7c15
	for i := 0; i < len(buf); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(buf[i:], x)
	}
	return sha256.Sum256(buf)
}

// uptime is the first field of /proc/uptime (seconds since boot).
func uptime() (string, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "", fmt.Errorf("/proc/uptime: empty")
	}
	return f[0], nil
}
