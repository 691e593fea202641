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
// the run's context was (Ctrl-C, SIGTERM), timed out when the budget ran
// out before anything was proven. The engine reports the latter itself
// once it sets probe.StatusTimedOut; a probe that used its whole budget and
// found nothing can have ended only that way.
func settleStatus(ctx context.Context, rep *probe.Report, budget time.Duration) {
	if budget <= 0 {
		budget = probe.DefaultTimeout
	}
	switch {
	case ctx.Err() != nil && rep.Status != probe.StatusOK:
		rep.Status = probe.StatusCancelled
	case rep.Status == probe.StatusNothingFound && rep.ElapsedMS >= budget.Milliseconds():
		rep.Status = probe.StatusTimedOut
	}
}

// errCancelled is the end of a run cut short by Ctrl-C or SIGTERM.
var errCancelled = withExitCode(exitUsage, errors.New("cancelled; nothing was written"))

// cutShort is the error of a probe that was cancelled or ran out of time,
// for commands that go on to write files; nil otherwise.
func cutShort(rep *probe.Report) error {
	switch rep.Status {
	case probe.StatusCancelled:
		return errCancelled
	case probe.StatusTimedOut:
		return withExitCode(exitNothingFound, errors.New(timedOutWords(rep)))
	}
	return nil
}

// timedOutWords says that time ran out, and how long the probe had.
func timedOutWords(rep *probe.Report) string {
	return fmt.Sprintf("time ran out after %s; try a longer --timeout", seconds(rep.ElapsedMS))
}

// seconds is a duration as people read it: "0.3 s", "15 s".
func seconds(ms int64) string {
	if ms%1000 == 0 {
		return fmt.Sprintf("%d s", ms/1000)
	}
	return fmt.Sprintf("%.1f s", float64(ms)/1000)
}
