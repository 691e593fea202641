// Package prompt asks a person questions on a terminal. Commands ask only
// through the Prompter interface, so that tests answer with a Script and the
// terminal library (AlecAivazis/survey/v2, archived upstream) can be replaced
// without touching a command.
package prompt

import (
	"errors"
	"fmt"
	"os"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// ErrCancelled is returned when the person pressed Ctrl-C (or closed the
// terminal) at a prompt. Commands end with exit code 2 and write nothing.
var ErrCancelled = errors.New("prompt: cancelled")

// Prompter asks one question at a time. Every method returns ErrCancelled
// (wrapped) when the person gives up.
type Prompter interface {
	// Input asks for a line of text; an empty answer takes defaultValue.
	Input(message, defaultValue string) (string, error)
	// Password asks for a secret without echoing it.
	Password(message string) ([]byte, error)
	// Select asks for one of options and returns its index; defaultIndex is
	// preselected.
	Select(message string, options []string, defaultIndex int) (int, error)
	// MultiSelect asks for any number of options and returns their indexes
	// in order; defaults are preselected.
	MultiSelect(message string, options []string, defaults []int) ([]int, error)
	// Confirm asks a yes/no question.
	Confirm(message string, defaultValue bool) (bool, error)
}

// Survey is the Prompter on a real terminal.
type Survey struct {
	stdio terminal.Stdio
}

// NewSurvey returns a Prompter that reads in and draws on out (both
// terminals: survey switches in to raw mode) and writes errors to errOut.
// NO_COLOR (no-color.org) switches off survey's colours; survey only offers
// that as a package-level switch.
func NewSurvey(in terminal.FileReader, out terminal.FileWriter, errOut terminal.FileWriter) *Survey {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		core.DisableColor = true
	}
	return &Survey{stdio: terminal.Stdio{In: in, Out: out, Err: errOut}}
}

// ask runs one survey prompt and turns Ctrl-C into ErrCancelled.
func (s *Survey) ask(p survey.Prompt, answer any) error {
	err := survey.AskOne(p, answer, survey.WithStdio(s.stdio.In, s.stdio.Out, s.stdio.Err))
	if errors.Is(err, terminal.InterruptErr) {
		return fmt.Errorf("%w at %q", ErrCancelled, messageOf(p))
	}
	return err
}

func messageOf(p survey.Prompt) string {
	switch p := p.(type) {
	case *survey.Input:
		return p.Message
	case *survey.Password:
		return p.Message
	case *survey.Select:
		return p.Message
	case *survey.MultiSelect:
		return p.Message
	case *survey.Confirm:
		return p.Message
	}
	return ""
}

// Input implements Prompter.
func (s *Survey) Input(message, defaultValue string) (string, error) {
	var answer string
	err := s.ask(&survey.Input{Message: message, Default: defaultValue}, &answer)
	return answer, err
}

// Password implements Prompter.
func (s *Survey) Password(message string) ([]byte, error) {
	var answer string
	err := s.ask(&survey.Password{Message: message}, &answer)
	return []byte(answer), err
}

// Select implements Prompter.
func (s *Survey) Select(message string, options []string, defaultIndex int) (int, error) {
	if len(options) == 0 {
		return 0, fmt.Errorf("prompt: %q has no options to choose from", message)
	}
	var answer int
	p := &survey.Select{Message: message, Options: options}
	if defaultIndex >= 0 && defaultIndex < len(options) {
		p.Default = options[defaultIndex]
	}
	err := s.ask(p, &answer)
	return answer, err
}

// MultiSelect implements Prompter.
func (s *Survey) MultiSelect(message string, options []string, defaults []int) ([]int, error) {
	var answer []int
	var preselected []string
	for _, i := range defaults {
		if i >= 0 && i < len(options) {
			preselected = append(preselected, options[i])
		}
	}
	p := &survey.MultiSelect{Message: message, Options: options, Default: preselected}
	err := s.ask(p, &answer)
	return answer, err
}

// Confirm implements Prompter.
func (s *Survey) Confirm(message string, defaultValue bool) (bool, error) {
	var answer bool
	err := s.ask(&survey.Confirm{Message: message, Default: defaultValue}, &answer)
	return answer, err
}
