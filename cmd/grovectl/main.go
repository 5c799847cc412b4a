// Command grovectl is the host-side control tool for Grove, in the manner
// of Xen's xl: it lists, pauses and destroys domains and manages domain
// groups by talking to the control agent in dom0 over the serial line
// QEMU exposes as a unix socket (ctl/proto), and applies group configs
// (ctl/config). Usage and the protocol are in docs/grovectl.md.
//
// grovectl decides nothing the hypervisor decides: it only sequences
// calls (ordering rules, reactions) and names objects for people.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"grove/ctl/proto"
)

// Exit statuses.
const (
	exitOK    = 0
	exitOp    = 1 // the agent or the connection failed
	exitUsage = 2 // the command line is wrong
)

// env is what grovectl takes from its surroundings, replaced in tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	dial           func(path string, timeout time.Duration) (*proto.Client, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, dial: proto.Dial}))
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if a.cl != nil {
		a.cl.Close()
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "grovectl: %v\n", err)
	var op *opError
	if errors.As(err, &op) {
		return exitOp
	}
	fmt.Fprintln(e.stderr, "Run 'grovectl --help' for usage.")
	return exitUsage
}

// named adds an action to the agent's refusal of it ("stats: no such
// domain or group (ESRCH)"). A transport error names the socket and the
// op already, so it is left alone: each thing is named once. The object
// (group, domain) is the caller's to add, once, in front.
func named(action string, err error) error {
	var pe *proto.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", action, err)
	}
	return err
}

// opError marks an error that happened doing the work (exit 1); every
// other error is about the command line (exit 2).
type opError struct{ err error }

func (e *opError) Error() string { return e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// usageError is a command-line mistake found inside a command.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}
