package kvmhost

import (
	"os"
	"os/exec"
	"reflect"
	"testing"
)

// TestParseLdd: ldd's lines for libraries, the loader and the vDSO; what it
// could not find is an error.
func TestParseLdd(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []string
		err       string
	}{
		{"qemu", "\tlinux-vdso.so.1 (0x00007ffd1d3f2000)\n" +
			"\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f0a907e8000)\n" +
			"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0a8e24b000)\n" +
			"\t/lib64/ld-linux-x86-64.so.2 (0x00007f0a90853000)\n",
			[]string{"/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}, ""},
		{"no-address", "\tlibfoo.so => /usr/lib/libfoo.so\n", []string{"/usr/lib/libfoo.so"}, ""},
		{"not-found", "\tlibgone.so.2 => not found\n", nil, "ldd: libgone.so.2 not found"},
		{"static", "\tnot a dynamic executable\n", nil, `ldd: cannot read "\tnot a dynamic executable"`},
		{"empty", "", nil, "ldd lists no libraries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLdd(tc.out)
			if msg := errString(err); msg != tc.err || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, %q; want %q, %q", got, msg, tc.want, tc.err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestQEMUFiles: the host's QEMU comes with its dynamic loader and
// firmware, every file there to read.
func TestQEMUFiles(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("no qemu-system-x86_64 on this host")
	}
	files, err := QEMUFiles(qemu, []string{"seabios/bios-256k.bin"})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		names[f.Name] = true
		if _, err := os.Stat(f.Host); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	for _, want := range []string{QEMU, "lib64/ld-linux-x86-64.so.2", "usr/share/seabios/bios-256k.bin"} {
		if !names[want] {
			t.Errorf("no %s among %v", want, names)
		}
	}
}
