package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/server"
)

func newServeCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the switch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, g.config)
			if err != nil {
				return err
			}
			log := server.NewLogger(cfg.Log, os.Stderr)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			// SIGHUP reloads the IVR flows (an invalid edit keeps the old ones).
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						if err := srv.Reload(); err != nil {
							log.Error("reload_failed", "error", err)
						} else {
							log.Info("reloaded")
						}
					}
				}
			}()
			return srv.Run(ctx)
		},
	}
}

// loadConfig loads and validates the file (or the default), printing every
// problem; it fails when any is an error. The database is not consulted.
func loadConfig(cmd *cobra.Command, path string) (*server.Config, error) {
	cfg, err := server.LoadConfig(path)
	var cerr *config.Error
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Fprintln(cmd.ErrOrStderr(), p.Error())
		}
		if cerr.HasErrors() {
			return nil, exitError{code: 2}
		}
		return cfg, nil
	}
	return cfg, err
}

func withContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
