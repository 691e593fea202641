package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/profiles"
)

// answerFlags are the pipeline's answers that profile, wizard and batch take
// as flags (internal/account.Answers): the same flag, help and check in
// every command.
type answerFlags struct {
	Username         string
	AutodiscoverPath string
	SignCert         string
	SignKey          string
	SignChain        string
	IncludePassword  bool
	// Services is --services (services.go).
	Services string
}

// answerFlagSet says which of the answer flags a command takes.
type answerFlagSet struct {
	// username: batch has it as a CSV column instead.
	username bool
	// includePassword: batch would put every user's password into a folder
	// of files, so it has none.
	includePassword bool
}

func addAnswerFlags(cmd *cobra.Command, af *answerFlags, set answerFlagSet) {
	fl := cmd.Flags()
	if set.username {
		fl.StringVar(&af.Username, "username", "", "the login `NAME`, when it is not the address; it goes into every file")
	}
	fl.StringVar(&af.AutodiscoverPath, "autodiscover-path", "", "absolute Windows `PATH` where autodiscover.xml will be kept; the .reg points there")
	fl.StringVar(&af.SignCert, "sign-cert", "", "sign the Apple profile with this PEM certificate `FILE`")
	fl.StringVar(&af.SignKey, "sign-key", "", "the PEM private key `FILE` of --sign-cert")
	fl.StringVar(&af.SignChain, "sign-chain", "", "PEM intermediate certificates `FILE` to include in the signature")
	if set.includePassword {
		fl.BoolVar(&af.IncludePassword, "include-password", false, "put the password into the Apple profile (written 0600; anyone with the file can read it)")
	}
	addServicesFlag(cmd, &af.Services)
}

// answers checks the flag values and returns them as the pipeline's answers
// (all but Name, Protocol, Formats and Password, which each command settles
// its own way), before anything touches the network.
func (af answerFlags) answers() (account.Answers, error) {
	var a account.Answers
	if u := af.Username; u != "" {
		if strings.TrimSpace(u) != u || strings.ContainsFunc(u, isControl) {
			return a, usageError("--username %q has spaces at its ends or control characters; give the login name as the provider wrote it", u)
		}
		a.Username = u
	}
	if af.AutodiscoverPath != "" {
		if err := profiles.CheckAutodiscoverPath(af.AutodiscoverPath); err != nil {
			return a, usageError("--autodiscover-path %q is not an absolute Windows path: write it like C:\\Users\\jane\\autodiscover.xml", af.AutodiscoverPath)
		}
		a.AutodiscoverPath = af.AutodiscoverPath
	}
	signer, err := loadSigner(af.SignCert, af.SignKey, af.SignChain)
	if err != nil {
		return a, err
	}
	a.Signer = signer
	if a.Services, err = parseServices(af.Services); err != nil {
		return a, err
	}
	return a, nil
}

// isControl is a C0 control character or DEL: nothing a login name, a
// file name or a terminal line should hold.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// parseProtocol is the one reader of --protocol: imap, pop3, or "" for the
// recommendation.
func parseProtocol(s string) (autoconfig.Protocol, error) {
	switch p := autoconfig.Protocol(strings.ToLower(strings.TrimSpace(s))); p {
	case "", autoconfig.IMAP, autoconfig.POP3:
		return p, nil
	}
	return "", usageError("--protocol %q: choose imap or pop3", s)
}

// parseFormats is the one reader of --format.
func parseFormats(s string) ([]profiles.Format, error) {
	formats, err := profiles.ParseFormats(s)
	if err != nil {
		return nil, usageError("--format: %s", peopleWords(err))
	}
	return formats, nil
}

// loadSigner reads --sign-cert, --sign-key and --sign-chain, if given.
func loadSigner(certFile, keyFile, chainFile string) (*profiles.Signer, error) {
	if certFile == "" && keyFile == "" {
		if chainFile != "" {
			return nil, usageError("--sign-chain needs --sign-cert and --sign-key")
		}
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, usageError("signing needs both --sign-cert FILE and --sign-key FILE")
	}
	read := func(flag, name string) ([]byte, error) {
		if name == "" {
			return nil, nil
		}
		b, err := readBounded(name, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("%s: %s", flag, fileProblem(err))
		}
		return b, nil
	}
	cert, err := read("--sign-cert", certFile)
	if err != nil {
		return nil, err
	}
	key, err := read("--sign-key", keyFile)
	if err != nil {
		return nil, err
	}
	chain, err := read("--sign-chain", chainFile)
	if err != nil {
		return nil, err
	}
	s, err := profiles.NewSigner(cert, key, chain)
	if err != nil {
		return nil, withExitCode(exitUsage, err)
	}
	return s, nil
}

// renderRefusal words account.Render's refusal, the same in every command:
// settings that hold a value no file may carry are the fault of their
// source, which is named (exit 1, as for any bad file); a name or login
// name that cannot go into a file is a bad answer (exit 2, as for any bad
// flag value). Anything else is returned as it is.
func renderRefusal(source string, err error) error {
	switch {
	case errors.Is(err, account.ErrBadAnswer):
		return withExitCode(exitUsage, worded{peopleWords(err) + "; nothing was written", err})
	case errors.Is(err, account.ErrBadSettings):
		return worded{fmt.Sprintf("%s: %s; nothing was written", source, peopleWords(err)), err}
	}
	return err
}

// noticeWords is what every command says about a Notice, so that a missing
// answer (the Outlook path) is warned about the same way everywhere.
func noticeWords(n account.Notice) string {
	switch n.Kind {
	case account.NoticeOmitted:
		if n.File != "" {
			return fmt.Sprintf("%s was not written (the client's other files were): %s", n.File, peopleWords(n.Err))
		}
		return fmt.Sprintf("no %s files were written: %s", n.Format, peopleWords(n.Err))
	case account.NoticeSecretFile:
		return fmt.Sprintf("%s holds the password in clear text (written 0600): install it, then delete it", n.File)
	case account.NoticeAutodiscoverPlaceholder:
		return fmt.Sprintf("%s points at a placeholder path: edit it (or pass --autodiscover-path C:\\...\\autodiscover.xml) before double-clicking it", n.File)
	case account.NoticeCaveat:
		return fmt.Sprintf("%s: %s", strings.Join(n.Files, " and "), n.Caveat.Remedy)
	case account.NoticeServiceNotFound:
		return serviceNotFoundWords(n.Service)
	case account.NoticeUnencrypted:
		return fmt.Sprintf("%s %s is not encrypted: passwords and mail travel readable on the network", n.Server.Protocol.DisplayName(), n.Server.Address())
	}
	return string(n.Kind)
}

// noticeList words every notice, for --json and summaries.
func noticeList(notices []account.Notice) []string {
	out := make([]string, 0, len(notices))
	for _, n := range notices {
		out = append(out, noticeWords(n))
	}
	return out
}

// resultFiles lists the written files for --json.
func resultFiles(dir string, files []profiles.File) []profileResultFile {
	out := []profileResultFile{}
	for _, f := range files {
		out = append(out, profileResultFile{Format: f.Format, Path: filepath.Join(dir, filepath.FromSlash(f.Path)),
			About: f.About, Secret: f.Secret, Clients: f.Format.Clients()})
	}
	return out
}
