package errno

import (
	"errors"
	"fmt"
	"testing"
)

func TestNumbersMatchLinux(t *testing.T) {
	for _, tc := range []struct {
		e    Errno
		want uintptr
		name string
	}{
		{EPERM, 1, "EPERM"}, {ENOENT, 2, "ENOENT"}, {ESRCH, 3, "ESRCH"}, {EIO, 5, "EIO"}, {EINTR, 4, "EINTR"},
		{EBADF, 9, "EBADF"}, {EAGAIN, 11, "EAGAIN"}, {ENOMEM, 12, "ENOMEM"}, {EACCES, 13, "EACCES"},
		{EMFILE, 24, "EMFILE"}, {ETIMEDOUT, 110, "ETIMEDOUT"}, {EFAULT, 14, "EFAULT"},
		{EBUSY, 16, "EBUSY"}, {EEXIST, 17, "EEXIST"}, {ENODEV, 19, "ENODEV"}, {EINVAL, 22, "EINVAL"},
		{ENOSPC, 28, "ENOSPC"}, {ENOSYS, 38, "ENOSYS"}, {EOVERFLOW, 75, "EOVERFLOW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if uintptr(tc.e) != tc.want || tc.e.Name() != tc.name {
				t.Fatalf("%s = %d (%s), want %d", tc.name, tc.e, tc.e.Name(), tc.want)
			}
			if got := tc.e.Ret(); got != -int64(tc.want) {
				t.Fatalf("Ret() = %d", got)
			}
			wrapped := fmt.Errorf("group 7: %w", tc.e)
			if !errors.Is(wrapped, tc.e) {
				t.Fatalf("errors.Is(%v, %v) = false", wrapped, tc.e)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	if got := ESRCH.Error(); got != "no such domain or group (ESRCH)" {
		t.Errorf("ESRCH.Error() = %q", got)
	}
	if got := Errno(200).Error(); got != "errno 200" {
		t.Errorf("Errno(200).Error() = %q", got)
	}
}
