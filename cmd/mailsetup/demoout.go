package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// demoMarker is the file the demo leaves in its folder, so a later demo
// knows the folder is its own and may replace the files there.
const demoMarker = ".mailsetup-demo"

// demoMarkerText is the marker's content: it says what it is for.
const demoMarkerText = "This folder was written by 'mailsetup demo'; another demo run replaces its files.\n"

// errDemoOutTaken is the refusal to write the demo into someone's folder.
var errDemoOutTaken = errors.New("holds files the demo did not write")

// checkDemoOut says whether the demo, writing for address, may replace
// files in dir: when dir is absent, empty, or a previous demo's folder (its
// marker, or - from demos before the marker - the files only a demo of
// that address writes). Anything else may be the user's work, and the demo
// never overwrites that without --force. It runs before the probe, so a
// refusal comes at once.
func checkDemoOut(dir, address string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %q: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); err == nil {
		return nil
	}
	addr, err := autoconfig.ParseAddress(address)
	if err != nil {
		return err
	}
	ownFiles := []string{
		filepath.Join("thunderbird", "isp", profiles.ThunderbirdISPFileName(addr.Domain)),
		filepath.Join("apple", profiles.AppleFileName(addr)),
	}
	for _, f := range ownFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("--out %q %w: pass --force to write the demo there anyway, or choose another folder", dir, errDemoOutTaken)
		}
	}
	return nil
}

// withDemoMarker adds the marker to the demo's files.
func withDemoMarker(files []profiles.File) []profiles.File {
	return append(files[:len(files):len(files)], profiles.File{Path: demoMarker, About: "marks the folder as the demo's", Data: []byte(demoMarkerText)})
}

// demoAddress is the demo scenario's test address.
func demoAddress() string {
	for _, sc := range sandbox.Catalogue() {
		if sc.Name == demoScenario {
			return sc.Address
		}
	}
	return ""
}

// demoResult is `mailsetup demo --json` (docs/json-schema.md): what was
// written, and the probe report it came from.
type demoResult struct {
	SchemaVersion int                 `json:"schema_version"`
	Email         string              `json:"email"`
	Status        probe.Status        `json:"status"`
	Out           string              `json:"out"`
	Files         []profileResultFile `json:"files"`
	Report        *probe.Report       `json:"report"`
}

func newDemoResult(out string, run *demoRun, files []profiles.File) demoResult {
	res := demoResult{SchemaVersion: jsonSchemaVersion, Email: run.Scenario.Address, Status: run.Report.Status, Out: out,
		Files: []profileResultFile{}, Report: run.Report}
	for _, f := range files {
		res.Files = append(res.Files, profileResultFile{Format: f.Format, Path: filepath.Join(out, filepath.FromSlash(f.Path)),
			About: f.About, Secret: f.Secret, Clients: f.Format.Clients()})
	}
	return res
}
