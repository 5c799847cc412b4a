package kernel

// Kernel command-line words the kernel itself reads (boot path: no
// allocation). The rest go to the program as its arguments.

// cmdlineValue returns the value of the first word "key=value" in cmd.
// Boot path.
func cmdlineValue(cmd []byte, key string) ([]byte, bool) {
	for i := 0; i < len(cmd); {
		for i < len(cmd) && cmd[i] == ' ' {
			i++
		}
		j := i
		for j < len(cmd) && cmd[j] != ' ' {
			j++
		}
		w := cmd[i:j]
		if len(w) > len(key) && w[len(key)] == '=' && bytesString(w[:len(key)]) == key {
			return w[len(key)+1:], true
		}
		i = j
	}
	return nil, false
}

// parseDec reads a decimal number of at most 6 digits.
// Boot path.
func parseDec(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 6 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// cpusLimit reads cpus=N: how many CPUs to run on (0 = all the firmware
// lists). A bad value is reported and ignored.
// Boot path.
func cpusLimit(cmd []byte) int {
	v, ok := cmdlineValue(cmd, "cpus")
	if !ok {
		return 0
	}
	n, ok := parseDec(v)
	if !ok || n < 1 {
		kprint("cpu: ignoring cpus=")
		if len(v) > 0 {
			kprint(bytesString(v))
		}
		kprint(" (want a number of CPUs, at least 1)\n")
		return 0
	}
	return n
}
