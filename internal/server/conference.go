package server

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/media/mixer"
	"github.com/switchd/switchd/media/tap"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// ConferenceConfig is one conference room (`conferences:`): extensions
// dial its number, IVR flows transfer to it.
type ConferenceConfig struct {
	Name   string `yaml:"name"`
	Number string `yaml:"number"`
	// PIN, when set, is asked before joining (digits, then #).
	PIN string `yaml:"pin"`
	// MaxParticipants bounds the room (default 50).
	MaxParticipants int `yaml:"max_participants"`
}

// DefaultMaxParticipants bounds a room without max_participants.
const DefaultMaxParticipants = 50

var (
	roomNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	pinRE      = regexp.MustCompile(`^[0-9]{1,16}$`)
)

// validateConferences checks `conferences:` (numbers must not collide
// with services or agent codes).
func validateConferences(rooms []ConferenceConfig, taken map[string]string) []config.Problem {
	var ps config.Problems
	names := map[string]bool{}
	for i, r := range rooms {
		at := fmt.Sprintf("conferences[%d]", i)
		if !roomNameRE.MatchString(r.Name) {
			ps.Add(at+".name", "%q: use a-z, 0-9, '.', '_', '-' (at most 64)", r.Name)
		} else if names[r.Name] {
			ps.Add(at+".name", "%q is listed twice", r.Name)
		}
		names[r.Name] = true
		switch {
		case !dialString(r.Number):
			ps.Add(at+".number", "%q: use digits, * and # only", r.Number)
		case taken[r.Number] != "":
			ps.Add(at+".number", "%q is also %s", r.Number, taken[r.Number])
		}
		taken[r.Number] = at
		if r.PIN != "" && !pinRE.MatchString(r.PIN) {
			ps.Add(at+".pin", "a PIN is 1 to 16 digits")
		}
		if r.MaxParticipants < 0 || r.MaxParticipants > 500 {
			ps.Add(at+".max_participants", "%d is not between 0 (default %d) and 500", r.MaxParticipants, DefaultMaxParticipants)
		}
	}
	return ps.List()
}

// Events of conference rooms on the bus (Data "room").
const (
	EventConferenceJoined call.EventType = "conference_joined"
	EventConferenceLeft   call.EventType = "conference_left"
)

// publish puts a room event on the bus.
func (c *conferences) publish(t call.EventType, leg *sip.AppLeg, room string) {
	if c.bus != nil {
		c.bus.Publish(call.Event{Type: t, CallID: leg.CallID(), Medium: call.MediumVoice, Caller: leg.Caller(),
			Data: map[string]string{"room": room}})
	}
}

// conferences are the rooms of the running switch; each room mixes its
// participants in-process (media/mixer) while it has any.
type conferences struct {
	bus      *call.Bus
	log      *slog.Logger
	now      func() time.Time
	byNumber map[string]*room
	rooms    []*room
}

// room is one conference room.
type room struct {
	cfg ConferenceConfig
	log *slog.Logger

	mu      sync.Mutex
	mix     *mixer.Mixer
	stop    context.CancelFunc
	members map[call.ID]*member
}

// member is a call in a room.
type member struct {
	id     call.ID
	caller call.Party
	joined time.Time
	p      *mixer.Participant
	muted  bool
}

var _ web.Conferences = (*conferences)(nil)

func newConferences(cfg []ConferenceConfig, bus *call.Bus, log *slog.Logger, now func() time.Time) *conferences {
	c := &conferences{bus: bus, log: log, now: now, byNumber: map[string]*room{}}
	for _, rc := range cfg {
		if rc.MaxParticipants == 0 {
			rc.MaxParticipants = DefaultMaxParticipants
		}
		r := &room{cfg: rc, log: log.With("room", rc.Name), members: map[call.ID]*member{}}
		c.rooms = append(c.rooms, r)
		c.byNumber[rc.Number] = r
	}
	return c
}

// app returns the application of a room's number.
func (c *conferences) app(number string) (sip.Application, bool) {
	r, ok := c.byNumber[number]
	if !ok {
		return nil, false
	}
	return conferenceApp{c: c, r: r}, true
}

// byName returns the application of a room by its name (a DID's
// `conference:`).
func (c *conferences) byName(name string) (sip.Application, bool) {
	for _, r := range c.rooms {
		if r.cfg.Name == name {
			return conferenceApp{c: c, r: r}, true
		}
	}
	return nil, false
}

// join adds a call to the room, starting the room's mixer for its first
// participant.
func (r *room) join(id call.ID, caller call.Party, at time.Time) (*member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.members) >= r.cfg.MaxParticipants {
		return nil, fmt.Errorf("conference %s is full (%d)", r.cfg.Name, r.cfg.MaxParticipants)
	}
	if r.mix == nil {
		r.mix = mixer.New(mixer.Config{Logger: r.log, Cushion: 1})
		ctx, cancel := context.WithCancel(context.Background())
		r.stop = cancel
		go func(m *mixer.Mixer) {
			if err := m.Run(ctx); err != nil {
				r.log.Error("mixer_failed", "error", err)
			}
		}(r.mix)
	}
	p, err := r.mix.Join(string(id), mixer.JoinConfig{})
	if err != nil {
		return nil, err
	}
	m := &member{id: id, caller: caller, joined: at, p: p}
	r.members[id] = m
	return m, nil
}

// leave removes a call; the last one out stops the mixer.
func (r *room) leave(m *member) {
	m.p.Leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, m.id)
	if len(r.members) == 0 && r.mix != nil {
		r.stop()
		r.mix.Close()
		r.mix, r.stop = nil, nil
	}
}

// conferenceApp puts a call in a room: the PIN if any, then the mix until
// the caller hangs up or is kicked.
type conferenceApp struct {
	c *conferences
	r *room
}

var _ sip.Application = conferenceApp{}

// Name implements sip.Application.
func (a conferenceApp) Name() string { return "conference " + a.r.cfg.Name }

// pinTries is how many wrong PINs a caller may enter.
const pinTries = 3

// Run implements sip.Application.
func (a conferenceApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	log := a.r.log.With("call_id", string(leg.CallID()))
	if pin := a.r.cfg.PIN; pin != "" {
		ok := false
		for try := 0; try < pinTries && !ok; try++ {
			got, err := leg.Collect(ctx, call.CollectSpec{Prompt: call.Prompt{Text: "Please enter the conference PIN, then press hash."},
				Terminator: "#", Timeout: 10 * time.Second})
			if ctx.Err() != nil {
				return sip.AppResult{Cause: leg.Cause()}
			}
			ok = err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(pin)) == 1
			if !ok {
				log.Info("conference_pin_wrong", "try", try+1)
				sayTo(ctx, leg, "That PIN is not correct.")
			}
		}
		if !ok {
			return sip.AppResult{Cause: call.CauseForbidden}
		}
	}
	m, err := a.r.join(leg.CallID(), leg.Caller(), a.c.now())
	if err != nil {
		log.Info("conference_refused", "error", err)
		sayTo(ctx, leg, "The conference is full.")
		return sip.AppResult{Cause: call.CauseCongestion}
	}
	a.c.publish(EventConferenceJoined, leg, a.r.cfg.Name)
	defer a.c.publish(EventConferenceLeft, leg, a.r.cfg.Name)
	defer a.r.leave(m)
	log.Info("conference_joined", "caller", leg.Caller().Number)
	sub := leg.Tap().Subscribe(4, tap.In)
	defer sub.Close()
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	go m.p.Feed(feedCtx, sub)
	leg.SetSource(m.p)
	defer leg.SetSource(nil)
	select {
	case <-ctx.Done():
		log.Info("conference_left")
		return sip.AppResult{Cause: leg.Cause()}
	case <-m.p.Done():
		log.Info("conference_kicked")
		return sip.AppResult{Cause: call.CauseNormalClearing}
	}
}

// sayTo speaks text to a leg in the prompts' default language, bounded in
// time (what switchd says itself: queue announcements, agent codes, PINs).
func sayTo(ctx context.Context, leg *sip.AppLeg, text string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return leg.Prompt(ctx, call.Prompt{Text: text})
}

// ListConferences implements web.Conferences.
func (c *conferences) ListConferences(context.Context) ([]web.Conference, error) {
	out := make([]web.Conference, 0, len(c.rooms))
	for _, r := range c.rooms {
		wc := web.Conference{Name: r.cfg.Name, Number: r.cfg.Number, PIN: r.cfg.PIN != "", Max: r.cfg.MaxParticipants,
			Participants: []web.ConferenceParticipant{}}
		r.mu.Lock()
		for _, m := range r.members {
			wc.Participants = append(wc.Participants, web.ConferenceParticipant{CallID: string(m.id),
				Caller: m.caller.Number, Name: m.caller.Name, Joined: m.joined, Muted: m.muted})
		}
		r.mu.Unlock()
		sort.Slice(wc.Participants, func(i, j int) bool { return wc.Participants[i].Joined.Before(wc.Participants[j].Joined) })
		out = append(out, wc)
	}
	return out, nil
}

// member finds a participant.
func (c *conferences) member(name, callID string) (*room, *member, error) {
	for _, r := range c.rooms {
		if r.cfg.Name != name {
			continue
		}
		r.mu.Lock()
		m := r.members[call.ID(callID)]
		r.mu.Unlock()
		if m == nil {
			return nil, nil, fmt.Errorf("%w: call %s is not in conference %s", web.ErrNotFound, callID, name)
		}
		return r, m, nil
	}
	return nil, nil, fmt.Errorf("%w: no conference %s", web.ErrNotFound, name)
}

// Kick implements web.Conferences: the participant leaves and is hung up.
func (c *conferences) Kick(_ context.Context, name, callID string) error {
	_, m, err := c.member(name, callID)
	if err != nil {
		return err
	}
	m.p.Leave()
	return nil
}

// Mute implements web.Conferences.
func (c *conferences) Mute(_ context.Context, name, callID string, muted bool) error {
	r, m, err := c.member(name, callID)
	if err != nil {
		return err
	}
	m.p.SetMuted(muted)
	r.mu.Lock()
	m.muted = muted
	r.mu.Unlock()
	r.log.Info("conference_mute", "call_id", callID, "muted", muted)
	return nil
}
