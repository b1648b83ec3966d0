package sip

import (
	"context"

	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/prompt"
)

// holdMusic is music on hold played to the party the other one put on
// hold: while it plays, the relay is stopped and the held party's session
// is an endpoint playing PromptConfig.MOHDir; the stream continues the
// relayed one (same SSRC, next sequence number), so the phone's jitter
// buffer sees no jump.
type holdMusic struct {
	side   legSide
	ep     *media.Endpoint
	player *prompt.Player
	cancel context.CancelFunc
}

// applyHold starts or stops music on hold after a re-INVITE changed who
// holds: music goes to the held party when exactly one side holds.
func (c *b2bCall) applyHold() {
	if c.s.b2b.Prompts.MOHDir == "" || !c.s.b2b.Prompts.HoldMusic || c.mon != nil {
		return // (a monitored call's media is the mixer's)
	}
	want := sideUnknown
	switch {
	case c.held[sideCaller] && !c.held[sideCallee]:
		want = sideCallee
	case c.held[sideCallee] && !c.held[sideCaller]:
		want = sideCaller
	}
	if c.moh != nil && c.moh.side == want {
		return
	}
	if c.moh != nil {
		c.stopHoldMusic(true)
	}
	if want != sideUnknown {
		c.startHoldMusic(want)
	}
}

func (c *b2bCall) startHoldMusic(side legSide) {
	m := &c.media
	sess, codecs := m.aSess, m.aCodecs
	if side == sideCallee {
		sess, codecs = m.bSess, m.bCodecs
	}
	cfg := endpointFor(codecs)
	player := prompt.NewPlayer(prompt.Config{Region: c.s.b2b.Prompts.Region, ClipCache: c.s.b2b.Prompts.Clips, Logger: c.log})
	if err := player.StartMOH(c.s.b2b.Prompts.MOHDir); err != nil {
		c.log.Warn("hold_music_failed", "error", err)
		return
	}
	cfg.Source = player
	c.stopRelay()
	ctx, cancel := context.WithCancel(context.Background())
	ep, err := sess.StartEndpoint(ctx, cfg)
	if err != nil {
		cancel()
		player.Stop()
		c.log.Warn("hold_music_failed", "error", err)
		if err := c.startRelay(); err != nil {
			c.log.Warn("relay_restart_failed", "error", err)
		}
		return
	}
	c.moh = &holdMusic{side: side, ep: ep, player: player, cancel: cancel}
	c.log.Info("hold_music_started", "to", side.String())
}

// stopHoldMusic ends music on hold and, when relay, brings the relay back.
func (c *b2bCall) stopHoldMusic(relay bool) {
	h := c.moh
	if h == nil {
		return
	}
	c.moh = nil
	h.player.Stop()
	h.ep.Stop()
	h.cancel()
	if relay && c.media.aSess != nil && c.media.bSess != nil {
		if err := c.startRelay(); err != nil {
			c.log.Warn("relay_restart_failed", "error", err)
		}
	}
	c.log.Info("hold_music_stopped", "to", h.side.String())
}
