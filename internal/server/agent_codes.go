package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/sip"
)

// agentAction is what an agent's feature code does.
type agentAction uint8

const (
	agentLogin agentAction = iota + 1
	agentLogout
	agentToggleNotReady
)

// agentCodeApp is a feature code an agent dials from one of their devices
// (acd.feature_codes): switchd answers, changes the agent's state through
// the engine and says the new state.
type agentCodeApp struct {
	a      *acdService
	action agentAction
	code   string
}

var _ sip.Application = agentCodeApp{}

// Name implements sip.Application.
func (c agentCodeApp) Name() string { return "agent code " + c.code }

// Run implements sip.Application.
func (c agentCodeApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	a := c.a
	ext := leg.Caller().Number
	id, ok := a.agentOf(ext)
	if !ok {
		a.log.Info("agent_code_refused", "code", c.code, "extension", ext)
		a.say(ctx, leg, "This phone does not belong to an agent.")
		return sip.AppResult{Cause: call.CauseForbidden}
	}
	text, err := c.apply(ctx, id)
	log := a.log.With("agent", string(id), "code", c.code, "extension", ext)
	if err != nil {
		log.Info("agent_code_failed", "error", err)
		if errors.Is(err, acd.ErrAgentState) {
			text = "That is not possible in your current state."
		} else {
			text = "Sorry, that did not work."
		}
	} else {
		log.Info("agent_code", "result", text)
	}
	a.say(ctx, leg, text)
	return sip.AppResult{Cause: call.CauseNormalClearing}
}

// apply changes the agent's state and says what it is now.
func (c agentCodeApp) apply(ctx context.Context, id acd.AgentID) (string, error) {
	a := c.a
	st, err := a.agentStatus(ctx, id)
	if err != nil {
		return "", err
	}
	switch c.action {
	case agentLogin:
		if st.State != acd.AgentLoggedOut {
			return "You are already logged in.", nil
		}
		return "You are logged in.", a.engine.Login(ctx, id)
	case agentLogout:
		if st.State == acd.AgentLoggedOut {
			return "You are already logged out.", nil
		}
		return "You are logged out.", a.engine.Logout(ctx, id)
	case agentToggleNotReady:
		switch {
		case st.State == acd.AgentLoggedOut:
			return "", fmt.Errorf("%w: logged out", acd.ErrAgentState)
		case st.State == acd.AgentNotReady:
			return "You are available.", a.engine.SetAvailable(ctx, id)
		default:
			return "You are not ready.", a.engine.SetNotReady(ctx, id, acd.ReasonBreak)
		}
	}
	return "", fmt.Errorf("agent code %s: no action", c.code)
}

// featureCodes are the agent code applications by number.
func (a *acdService) featureCodes(fc FeatureCodes) map[string]sip.Application {
	out := map[string]sip.Application{}
	for _, c := range []struct {
		code   string
		action agentAction
	}{{fc.Login, agentLogin}, {fc.Logout, agentLogout}, {fc.NotReady, agentToggleNotReady}} {
		if c.code != "" {
			out[c.code] = agentCodeApp{a: a, action: c.action, code: c.code}
		}
	}
	return out
}
