//go:build !linux

package tbjudge

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing here: the real-Thunderbird tests run on
// Linux (Debian's thunderbird package); elsewhere the package only builds.
func ownProcessGroup(*exec.Cmd) {}

// killGroup kills p alone.
func killGroup(p *os.Process) { p.Kill() }
