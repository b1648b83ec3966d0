package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
)

// Agent profiles live in the database: these commands work on it directly,
// then ask a running switch to reload the profile. Live state (login,
// status) goes through the API: agent_live.go.
func newAgentCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Short: "Manage ACD agents: devices, skills, capacity, queues; live state"}
	var p agentFlags
	add := &cobra.Command{
		Use:   "add ID --device EXT [--name N] [--skill S=P]... [--capacity voice=1,chat=3] [--queue Q[:penalty[:priority]]]... [--wrap-up 30s]",
		Short: "Create or replace an agent's profile",
		Example: `  switchd agent add alice --name "Alice Smith" --device 1001 --skill english=5 --skill billing=3 \
      --capacity voice=1,chat=3 --queue support:0:10 --queue sales`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := p.agent(args[0])
			if err != nil {
				return err
			}
			if err := withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				return st.PutAgent(withContext(cmd), a)
			}); err != nil {
				return err
			}
			syncAgentProfile(cmd, g, a.ID)
			return nil
		},
	}
	p.register(add)
	skills := &cobra.Command{
		Use:   "skills ID S=P...",
		Short: "Set an agent's skills (proficiency 1-5), replacing the old ones",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sk, err := parseSkills(args[1:])
			if err != nil {
				return err
			}
			if err := withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				a, err := st.Agent(withContext(cmd), args[0])
				if err != nil {
					return err
				}
				a.Skills = sk
				return st.PutAgent(withContext(cmd), a)
			}); err != nil {
				return err
			}
			syncAgentProfile(cmd, g, args[0])
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List agents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				agents, err := st.Agents(withContext(cmd))
				if err != nil {
					return err
				}
				return printList(cmd.OutOrStdout(), false, nil, "AGENT\tNAME\tDEVICES\tSKILLS\tCAPACITY\tQUEUES\tWRAP-UP", func(tw io.Writer) {
					for _, a := range agents {
						wrap := "queue's"
						if a.WrapUp != nil {
							wrap = a.WrapUp.String()
						}
						var qs []string
						for _, q := range a.Queues {
							qs = append(qs, fmt.Sprintf("%s:%d:%d", q.Queue, q.Penalty, q.Priority))
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, dash(a.Name), dash(strings.Join(a.Devices, ",")),
							dash(joinMap(a.Skills)), dash(joinMap(a.Capacity)), dash(strings.Join(qs, ",")), wrap)
					}
				})
			})
		},
	}
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Delete an agent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				return st.RemoveAgent(withContext(cmd), args[0])
			}); err != nil {
				return err
			}
			syncAgentProfile(cmd, g, args[0])
			return nil
		},
	}
	cmd.AddCommand(add, skills, list, remove)
	cmd.AddCommand(newAgentLiveCmds(g)...)
	return cmd
}

type agentFlags struct {
	name, capacity, wrapUp  string
	devices, skills, queues []string
}

func (p *agentFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&p.name, "name", "", "display name")
	c.Flags().StringArrayVar(&p.devices, "device", nil, "extension rung for offers (repeatable)")
	c.Flags().StringArrayVar(&p.skills, "skill", nil, "skill=proficiency, 1-5 (repeatable)")
	c.Flags().StringVar(&p.capacity, "capacity", "", "contacts at once per medium, e.g. voice=1,chat=3 (default one voice contact)")
	c.Flags().StringArrayVar(&p.queues, "queue", nil, "queue[:penalty[:priority]] membership (repeatable)")
	c.Flags().StringVar(&p.wrapUp, "wrap-up", "", "wrap-up time overriding the queues', e.g. 30s")
}

// agent builds the profile from the flags, with clear errors.
func (p *agentFlags) agent(id string) (store.Agent, error) {
	a := store.Agent{ID: id, Name: p.name, Devices: p.devices}
	var err error
	if a.Skills, err = parseSkills(p.skills); err != nil {
		return a, err
	}
	if p.capacity != "" {
		if a.Capacity, err = parsePairs(strings.Split(p.capacity, ","), "--capacity"); err != nil {
			return a, err
		}
	}
	for _, q := range p.queues {
		parts := strings.Split(q, ":")
		m := store.AgentQueue{Queue: parts[0]}
		if len(parts) > 3 {
			return a, fmt.Errorf("--queue %q: use queue[:penalty[:priority]]", q)
		}
		for i, dst := range []*int{&m.Penalty, &m.Priority} {
			if len(parts) > i+1 {
				if *dst, err = strconv.Atoi(parts[i+1]); err != nil {
					return a, fmt.Errorf("--queue %q: %q is not a number", q, parts[i+1])
				}
			}
		}
		a.Queues = append(a.Queues, m)
	}
	if p.wrapUp != "" {
		d, err := time.ParseDuration(p.wrapUp)
		if err != nil {
			return a, fmt.Errorf("--wrap-up: %w", err)
		}
		a.WrapUp = &d
	}
	return a, store.ValidateAgent(a)
}

func parseSkills(args []string) (map[string]int, error) { return parsePairs(args, "skill") }

// parsePairs reads name=number pairs.
func parsePairs(args []string, what string) (map[string]int, error) {
	out := map[string]int{}
	for _, s := range args {
		k, v, ok := strings.Cut(s, "=")
		n, err := strconv.Atoi(v)
		if !ok || k == "" || err != nil {
			return nil, errors.New(what + " " + strconv.Quote(s) + ": use name=number")
		}
		out[k] = n
	}
	return out, nil
}

func joinMap(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(keys, ",")
}
