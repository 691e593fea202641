package prompt

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrScript is returned by a Script when the command asks something the
// script did not expect: a test then fails with the question in the error.
var ErrScript = errors.New("prompt script")

// Answer is one scripted reply.
type Answer struct {
	// Question is a fragment the question must contain.
	Question string
	// Value is the reply: a string for Input and Password; for Select, a
	// fragment of exactly one option; for MultiSelect, a []string of such
	// fragments; a bool for Confirm. Nil takes the question's default.
	Value any
	// Cancel replies as if the person pressed Ctrl-C.
	Cancel bool
	// Optional answers are skipped when the question is another one: for
	// questions a command asks only sometimes.
	Optional bool
}

// Reply is an Answer with a value (nil takes the default).
func Reply(question string, value any) Answer { return Answer{Question: question, Value: value} }

// IfAsked is a Reply for a question that may not be asked.
func IfAsked(question string, value any) Answer {
	return Answer{Question: question, Value: value, Optional: true}
}

// Cancel is an Answer that presses Ctrl-C.
func Cancel(question string) Answer { return Answer{Question: question, Cancel: true} }

// Script is a Prompter that replies from a list, in order, for tests. A
// question that does not match the next answer, or one too many, is an
// ErrScript error.
type Script struct {
	Answers []Answer
	// Asked records every question, in order, with its options.
	Asked []string
}

// NewScript returns a Script that gives answers in order.
func NewScript(answers ...Answer) *Script { return &Script{Answers: answers} }

// Done reports an error when answers are left over: the command asked fewer
// questions than the test expected.
func (s *Script) Done() error {
	for len(s.Answers) > 0 && s.Answers[0].Optional {
		s.Answers = s.Answers[1:]
	}
	if len(s.Answers) > 0 {
		return fmt.Errorf("%w: %d answer(s) never asked for, the first for %q", ErrScript, len(s.Answers), s.Answers[0].Question)
	}
	return nil
}

func (s *Script) next(message string, options []string) (Answer, error) {
	s.Asked = append(s.Asked, message+optionsText(options))
	for len(s.Answers) > 0 && s.Answers[0].Optional && !strings.Contains(message, s.Answers[0].Question) {
		s.Answers = s.Answers[1:]
	}
	if len(s.Answers) == 0 {
		return Answer{}, fmt.Errorf("%w: unexpected question %q", ErrScript, message)
	}
	a := s.Answers[0]
	s.Answers = s.Answers[1:]
	if !strings.Contains(message, a.Question) {
		return Answer{}, fmt.Errorf("%w: asked %q, expected a question containing %q", ErrScript, message, a.Question)
	}
	if a.Cancel {
		return Answer{}, fmt.Errorf("%w at %q", ErrCancelled, message)
	}
	return a, nil
}

func optionsText(options []string) string {
	if len(options) == 0 {
		return ""
	}
	return " [" + strings.Join(options, " | ") + "]"
}

// Input implements Prompter.
func (s *Script) Input(message, defaultValue string) (string, error) {
	a, err := s.next(message, nil)
	if err != nil {
		return "", err
	}
	if a.Value == nil {
		return defaultValue, nil
	}
	v, ok := a.Value.(string)
	if !ok {
		return "", fmt.Errorf("%w: %q needs a string answer, got %T", ErrScript, message, a.Value)
	}
	return v, nil
}

// Password implements Prompter.
func (s *Script) Password(message string) ([]byte, error) {
	v, err := s.Input(message, "")
	return []byte(v), err
}

// Select implements Prompter.
func (s *Script) Select(message string, options []string, defaultIndex int) (int, error) {
	a, err := s.next(message, options)
	if err != nil {
		return 0, err
	}
	if a.Value == nil {
		return defaultIndex, nil
	}
	v, ok := a.Value.(string)
	if !ok {
		return 0, fmt.Errorf("%w: %q needs a string answer, got %T", ErrScript, message, a.Value)
	}
	return pick(message, options, v)
}

// MultiSelect implements Prompter.
func (s *Script) MultiSelect(message string, options []string, defaults []int) ([]int, error) {
	a, err := s.next(message, options)
	if err != nil {
		return nil, err
	}
	if a.Value == nil {
		return append([]int(nil), defaults...), nil
	}
	vs, ok := a.Value.([]string)
	if !ok {
		return nil, fmt.Errorf("%w: %q needs a []string answer, got %T", ErrScript, message, a.Value)
	}
	var out []int
	for _, v := range vs {
		i, err := pick(message, options, v)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Confirm implements Prompter.
func (s *Script) Confirm(message string, defaultValue bool) (bool, error) {
	a, err := s.next(message, nil)
	if err != nil {
		return false, err
	}
	if a.Value == nil {
		return defaultValue, nil
	}
	v, ok := a.Value.(bool)
	if !ok {
		return false, fmt.Errorf("%w: %q needs a bool answer, got %T", ErrScript, message, a.Value)
	}
	return v, nil
}

// pick finds the one option that contains fragment.
func pick(message string, options []string, fragment string) (int, error) {
	found := -1
	for i, o := range options {
		if strings.Contains(o, fragment) {
			if found >= 0 {
				return 0, fmt.Errorf("%w: %q: %q matches both %q and %q", ErrScript, message, fragment, options[found], o)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("%w: %q: no option contains %q%s", ErrScript, message, fragment, optionsText(options))
	}
	return found, nil
}

var _ Prompter = (*Script)(nil)
var _ Prompter = (*Survey)(nil)
