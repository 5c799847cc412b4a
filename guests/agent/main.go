//go:build groveguest

// Command agent is the control domain's agent: a Go guest (build tag
// groveguest) that manages the other domains through domctl and sysctl
// hypercalls. At start it prints physical and domain information; with the
// command-line word "demo" it then creates a domain from an image it
// carries, pauses domain 1 for 1.5 s, destroys the domain it created, and
// lists the domains again; with "groups" it runs through group control
// (groupdemo.go); with "bootact" it acts on the other boot domains at once
// (bootact.go); with "spawn=N" it creates N idle domains (spawn.go). It
// serves grovectl on COM2 (serve.go) and reports the number of running
// domains when it changes. It sleeps until the hypervisor interrupts it
// (COM2's interrupt, domain events: serial.go, events.go); with the word
// "poll" it polls both instead, as it used to. With "timing" it prints
// where each request's time went (serve.go).
package main

import (
	"fmt"
	"os"
	"slices"
	"time"

	"grove/guests/asm"
	"grove/hv/abi"
)

func main() {
	in := openSerial(slices.Contains(os.Args[1:], "poll"))
	if !in.poll {
		in.shm = openRing()
	}
	fmt.Println("agent: control domain up")
	if slices.Contains(os.Args[1:], "bootact") {
		bootAct()
	}
	if err := physInfo(); err != nil {
		fmt.Println("agent: physinfo:", err)
	}
	list()
	if slices.Contains(os.Args[1:], "demo") {
		demo()
	}
	if slices.Contains(os.Args[1:], "groups") {
		groupDemo()
	}
	spawn()
	in.timing = slices.Contains(os.Args[1:], "timing")
	go serve(in, in.shm)
	last := ""
	for {
		time.Sleep(2 * time.Second)
		infos, err := domains()
		if err != nil {
			fmt.Println("agent:", err)
			continue
		}
		running := 0
		for _, i := range infos {
			if i.Flags&abi.InfoRunning != 0 {
				running++
			}
		}
		if s := fmt.Sprintf("agent: %d domains, %d running", len(infos), running); s != last {
			fmt.Println(s) // only changes: the console is for the guests
			last = s
		}
	}
}

func demo() {
	time.Sleep(2 * time.Second) // let the other boot-time domains come up
	img, err := asm.Heartbeat(200_000_000)
	if err != nil {
		fmt.Println("agent: building the heartbeat image:", err)
		return
	}
	id, err := create(img, 4, "")
	fmt.Printf("agent: createdomain -> d%d, %v\n", id, errText(err))
	fmt.Printf("agent: unpause d%d -> %v\n", id, errText(ctl(abi.DomctlUnpause, id)))
	time.Sleep(time.Second)
	fmt.Printf("agent: pause d1 -> %v\n", errText(ctl(abi.DomctlPause, 1)))
	time.Sleep(1500 * time.Millisecond)
	fmt.Printf("agent: unpause d1 -> %v\n", errText(ctl(abi.DomctlUnpause, 1)))
	fmt.Printf("agent: destroy d%d -> %v\n", id, errText(ctl(abi.DomctlDestroy, id)))
	fmt.Printf("agent: pause d0 (self) -> %v\n", errText(ctl(abi.DomctlPause, 0)))
	list()
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func list() {
	infos, err := domains()
	if err != nil {
		fmt.Println("agent: domain list:", err)
		return
	}
	for _, i := range infos {
		fmt.Printf("agent: d%d %s flags=%#x pause=%d mem=%dMiB exits=%d\n",
			i.Domain, i.Name, i.Flags, i.PauseCount, i.MemoryKB>>10, i.Exits)
	}
}
