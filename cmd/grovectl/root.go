package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"grove/ctl/config"
	"grove/ctl/proto"
)

// app is one grovectl invocation: its flags and, once needed, the
// connection and the config.
type app struct {
	env
	socket     string
	configPath string
	jsonOut    bool
	timeout    time.Duration
	serialOnly bool

	ctx     context.Context
	cl      *proto.Client
	cfg     *config.Config
	domains []proto.DomainInfo // list, fetched once per invocation
	listErr error              // why that fetch failed
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "grovectl",
		Short:         "Control a running Grove hypervisor through its dom0 agent",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			a.ctx = cmd.Context()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	sock := a.getenv("GROVE_SOCKET")
	if sock == "" {
		sock = "out/grove.sock"
	}
	f := root.PersistentFlags()
	f.StringVar(&a.socket, "socket", sock, "the Grove instance's control socket ($GROVE_SOCKET)")
	f.StringVar(&a.configPath, "config", "", "group config (TOML) for group names, ordering rules and reactions")
	f.DurationVar(&a.timeout, "timeout", proto.DefaultTimeout, "deadline of each call to the agent")
	f.BoolVar(&a.serialOnly, "serial", false, "keep to the serial line, without the shared-memory rings beside the socket")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usagef("%v", err) })
	root.AddCommand(a.listCmd(), a.domainCmd("pause", proto.OpPause, "Pause a domain"),
		a.domainCmd("unpause", proto.OpUnpause, "Unpause a domain"),
		a.domainCmd("destroy", proto.OpDestroy, "Destroy a domain"),
		a.groupCmd(), a.applyCmd(), a.eventsCmd())
	return root
}

// runE marks the errors of a command's work as operation errors, leaving
// usage errors as they are.
func runE(f func(args []string) error) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		err := f(args)
		var ue *usageError
		if err == nil || errors.As(err, &ue) {
			return err
		}
		return &opError{err}
	}
}

// addJSON gives a read command its --json flag.
func (a *app) addJSON(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print JSON instead of text")
	return cmd
}

// client connects on first use, so usage errors never wait for a socket.
func (a *app) client() (*proto.Client, error) {
	if a.cl == nil {
		dial := a.dial
		if a.serialOnly {
			dial = proto.DialSerial
		}
		cl, err := dial(a.socket, a.timeout)
		if err != nil {
			return nil, err
		}
		a.cl = cl
	}
	return a.cl, nil
}

func (a *app) call(op string, args, result any) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	return cl.Call(a.ctx, op, args, result)
}

// config loads --config on first use; nil when none was given.
func (a *app) config() (*config.Config, error) {
	if a.cfg == nil && a.configPath != "" {
		cfg, err := config.Load(a.configPath)
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}
