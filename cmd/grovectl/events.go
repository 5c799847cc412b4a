package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"grove/ctl/config"
	"grove/ctl/proto"
)

func (a *app) eventsCmd() *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print the agent's events; with --config, carry out the config's reactions",
		Args:  noArgs,
		RunE:  runE(func([]string) error { return a.events(count) }),
	}
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many events (0 = until interrupted)")
	return a.addJSON(cmd)
}

// events prints events until count (if non-zero) have arrived, the context
// ends (a signal) or the agent hangs up. The stream itself has no
// deadline; each call it makes (the subscribe, reactions) has one.
func (a *app) events(count int) error {
	if count < 0 {
		return usagef("events: --count must not be negative")
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	ch, err := cl.Subscribe(a.ctx)
	if err != nil {
		if a.ctx.Err() != nil {
			return nil // interrupted: the user asked to stop
		}
		return named("events", err)
	}
	for seen := 0; count == 0 || seen < count; seen++ {
		ev, ok := <-ch
		if !ok {
			return a.streamEnd(cl)
		}
		if err := a.printEvent(ev); err != nil {
			return err
		}
		if cfg != nil {
			a.reactQuietly(cfg, ev)
		}
	}
	return nil
}

// streamEnd tells an interrupt (exit 0) from a lost connection (an error).
func (a *app) streamEnd(cl *proto.Client) error {
	if a.ctx.Err() != nil {
		return nil
	}
	return cl.Call(a.ctx, proto.OpList, nil, nil) // reports how the connection ended
}

func (a *app) printEvent(ev proto.Event) error {
	if a.jsonOut {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	a.forgetDomains() // names and groups change while we listen
	line := fmt.Sprintf("%s: domain %s, group %d", ev.Kind, a.nameOf(ev.Domain), ev.Group)
	if ev.Reason != "" {
		line += ": " + ev.Reason
	}
	_, err := fmt.Fprintln(a.stdout, line)
	return err
}

// reactQuietly runs react with its narration on stderr under --json, so
// stdout stays one event object per line for scripts.
func (a *app) reactQuietly(cfg *config.Config, ev proto.Event) {
	if !a.jsonOut {
		a.react(cfg, ev)
		return
	}
	out := a.stdout
	a.stdout = a.stderr
	defer func() { a.stdout = out }()
	a.react(cfg, ev)
}

// react carries out the config's reactions to ev. A failed reaction is
// reported and the stream goes on: one bad step must not stop the policy
// for every later event.
func (a *app) react(cfg *config.Config, ev proto.Event) {
	a.forgetDomains()
	cg := a.eventGroup(cfg, ev)
	if cg == nil {
		return
	}
	for _, r := range cfg.ReactionsTo(ev.Kind, cg.Name) {
		fmt.Fprintf(a.stdout, "reaction: group %s, %s %s: %s\n", cg.Name, ev.Kind, a.nameOf(ev.Domain), r.Do)
		if err := a.do(cfg, cg, r.Do, ev); err != nil {
			fmt.Fprintf(a.stderr, "grovectl: reaction %s: %v\n", r.Do, err)
		}
	}
}

// eventGroup finds the config group of the event's domain: by its name,
// or else by the group id the event carries.
func (a *app) eventGroup(cfg *config.Config, ev proto.Event) *config.Group {
	if cg, ok := cfg.GroupOf(a.byID(ev.Domain).name); ok {
		return cg
	}
	return a.configGroupByID(cfg, ev.Group)
}

func (a *app) do(cfg *config.Config, cg *config.Group, action string, ev proto.Event) error {
	switch action {
	case config.DoPauseGroup:
		g, err := a.resolveGroup(cg.Name)
		if err != nil {
			return err
		}
		return a.groupPause(g, true)
	case config.DoDestroyDomain:
		return a.destroy(a.byID(ev.Domain))
	case config.DoDestroyGroup:
		return a.destroyGroup(cg)
	}
	return nil
}

func (a *app) destroy(d domain) error {
	if err := a.call(proto.OpDestroy, proto.DomainArgs{Domain: d.id}, nil); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	fmt.Fprintf(a.stdout, "%s: destroyed\n", d)
	return nil
}

// destroyGroup destroys every member and then the emptied group.
func (a *app) destroyGroup(cg *config.Group) error {
	g, err := a.resolveGroup(cg.Name)
	if err != nil {
		return err
	}
	info, err := a.groupInfo(g)
	if err != nil {
		return err
	}
	for _, id := range info.Members {
		if err := a.destroy(a.byID(id)); err != nil {
			return err
		}
	}
	return a.groupOp(g, "destroy", proto.OpGroupDestroy)
}
