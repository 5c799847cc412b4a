package asm

// Builtin lists the guests Grove's image carries, by the name guest=NAME
// starts them under. The image embeds them prebuilt (package
// guests/builtin, regenerated from this table with go generate) so that it
// does not link this assembler.
var Builtin = map[string]func() ([]byte, error){
	"hello":     Hello,
	"heartbeat": func() ([]byte, error) { return Heartbeat(100_000_000) },
	"spin":      Spin,
	"work":      func() ([]byte, error) { return Work(1000, 1_000_000) }, // 10^9 iterations
	"cpuid":     CPUIDProbe,
	"results":   Results,
	"unmapped":  Unmapped,
	"triple":    TripleFault,
	"fuzz":      func() ([]byte, error) { return Fuzz(100_000) },
	// bench's rounds are short: hv's exit benchmark interleaves runs of
	// it under each exit path and keeps each path's best round.
	"bench":     func() ([]byte, error) { return Bench(5_000, 4) },
	"cpuidscan": CPUIDScan,
	"exitloop":  ExitLoop,
	// ctl is privileged (dom0): it pauses d2 for 1.5 s through domctl.
	"ctl": func() ([]byte, error) { return Control(2, 1_500_000_000, 100_000_000) },
	// dom0 is ctl for the demo (make run): it beats every 4 s.
	"dom0": func() ([]byte, error) { return Control(2, 1_500_000_000, 4_000_000_000) },
}
