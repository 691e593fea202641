package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
)

// parseAddress reads an address the person typed, once, at the edge:
// everything after takes the parsed autoconfig.Address. A bad one is a
// usage error that says what to write.
func parseAddress(s string) (autoconfig.Address, error) {
	addr, err := autoconfig.ParseAddress(s)
	if err != nil {
		return addr, withExitCode(exitUsage, err)
	}
	return addr, nil
}

// settleStatus marks a report whose probe was cut short: cancelled when
// the run's context was (Ctrl-C, SIGTERM); timed out when nothing was
// proven because nothing answered in time - every lookup made failed, and
// the probe lasted at least one attempt's bound (a refusing or unreachable
// network fails faster). The engine is to report probe.StatusTimedOut
// itself (the shared contract); this reading of the report stays right
// when it does.
func settleStatus(ctx context.Context, rep *probe.Report, budget time.Duration) {
	if budget <= 0 {
		budget = probe.DefaultTimeout
	}
	switch {
	case ctx.Err() != nil && rep.Status != probe.StatusOK:
		rep.Status = probe.StatusCancelled
	case rep.Status == probe.StatusNothingFound && nothingAnswered(rep) && rep.ElapsedMS >= attemptBound(budget).Milliseconds():
		rep.Status = probe.StatusTimedOut
	}
}

// attemptBound is the probe's bound on one lookup or check when
// probe.Options.AttemptTimeout is 0: a third of the budget, at most 5 s.
func attemptBound(budget time.Duration) time.Duration { return min(budget/3, 5*time.Second) }

// nothingAnswered reports whether every lookup the probe made failed.
func nothingAnswered(rep *probe.Report) bool {
	made := 0
	for _, l := range rep.Lookups {
		switch l.Status {
		case "found", "none":
			return false
		case "skipped":
			continue
		}
		made++
	}
	return made > 0
}

// errCancelled is the end of a run cut short by Ctrl-C or SIGTERM.
var errCancelled = withExitCode(exitUsage, errors.New("cancelled; nothing was written"))

// cutShort is the error of a probe that was cancelled or ran out of time,
// for commands that go on to write files; nil otherwise.
func cutShort(rep *probe.Report, budget time.Duration) error {
	switch rep.Status {
	case probe.StatusCancelled:
		return errCancelled
	case probe.StatusTimedOut:
		return withExitCode(exitNothingFound, errors.New(timedOutWords(budget)))
	}
	return nil
}

// timedOutWords says that time ran out, and how long the probe had.
func timedOutWords(budget time.Duration) string {
	if budget <= 0 {
		budget = probe.DefaultTimeout
	}
	return fmt.Sprintf("time ran out after %s; try a longer --timeout", seconds(budget.Milliseconds()))
}

// seconds is a duration as people read it: "0.3 s", "15 s".
func seconds(ms int64) string {
	if ms%1000 == 0 {
		return fmt.Sprintf("%d s", ms/1000)
	}
	return fmt.Sprintf("%.1f s", float64(ms)/1000)
}
