package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

const thunderbirdISPAbout = "provider settings for Thunderbird's isp/ folder"

func thunderbirdISPPath(acct Account) string {
	return "thunderbird/isp/" + ThunderbirdISPFileName(acct.Address.Domain)
}

// Render produces every file of formats for acct, in memory. Nothing touches
// the disk, so a writer that fails leaves nothing behind.
func Render(acct Account, formats []Format, opts Options) ([]File, error) {
	acct.unproven = opts.Unproven
	var files []File
	var err error // the first writer's failure; the rest are skipped
	add := func(f Format, p, about string, secret bool, write func(io.Writer) error) {
		if err != nil {
			return
		}
		var b bytes.Buffer
		if werr := write(&b); werr != nil {
			err = fmt.Errorf("%s: %w", p, werr)
			return
		}
		files = append(files, File{Format: f, Path: p, About: about, Secret: secret, Data: b.Bytes()})
	}
	for _, f := range formats {
		switch f {
		case Thunderbird:
			add(f, thunderbirdISPPath(acct), thunderbirdISPAbout,
				false, func(w io.Writer) error { return ThunderbirdISP(w, acct) })
			add(f, "thunderbird/user.js", "creates the account in a NEW Thunderbird profile",
				false, func(w io.Writer) error { return ThunderbirdUserJS(w, acct) })
		case Outlook:
			add(f, "outlook/autodiscover.xml", "Autodiscover answer, read by Outlook 2016-2024/M365 via the .reg",
				false, func(w io.Writer) error { return OutlookAutodiscover(w, acct) })
			add(f, "outlook/autodiscover.reg", "points Outlook 2016-2024/M365 at autodiscover.xml",
				false, func(w io.Writer) error { return OutlookReg(w, acct, opts.AutodiscoverPath) })
			add(f, "outlook/outlook.prf", "profile for outlook.exe /importprf (classic Outlook 2010-2024/M365)",
				false, func(w io.Writer) error { return OutlookPRF(w, acct) })
		case Apple:
			secret := opts.Apple.Password != ""
			about := "configuration profile for iOS, iPadOS and macOS"
			switch {
			case opts.Apple.Signer != nil && secret:
				about += ", signed, WITH the password"
			case opts.Apple.Signer != nil:
				about += ", signed"
			case secret:
				about += ", WITH the password"
			}
			add(f, "apple/"+AppleFileName(acct.Address), about, secret,
				func(w io.Writer) error { return AppleMobileconfig(w, acct, opts.Apple) })
		case Android:
			add(f, "android/thunderbird-qr.png", "QR code for Thunderbird for Android (no password)",
				false, func(w io.Writer) error { return AndroidQRPNG(w, acct) })
			add(f, "android/thunderbird-qr.txt", "the same QR payload as text (JSON)",
				false, func(w io.Writer) error { return AndroidQRText(w, acct) })
			add(f, "android/README.txt", "Gmail, Samsung Email, Outlook: what they import, settings to type",
				false, func(w io.Writer) error { return AndroidNote(w, acct) })
		case Sheet:
			add(f, "sheet/setup.html", "printable setup sheet",
				false, func(w io.Writer) error { return SheetHTML(w, acct) })
			add(f, "sheet/setup.txt", "setup sheet as plain text",
				false, func(w io.Writer) error { return SheetText(w, acct) })
		default:
			err = fmt.Errorf("%w %q", ErrBadFormat, f)
		}
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Omitted is a format, or one file of it, that RenderAvailable left out,
// and why.
type Omitted struct {
	Format Format
	// Path is the one file left out, "" when the whole format was.
	Path string
	Err  error // wraps ErrUnsupported
}

// RenderAvailable is Render for a run of several formats, where one client
// that cannot express the account must not cost the others: a format that
// fails with ErrUnsupported (the Android QR code takes ASCII addresses only)
// is left out and named in omitted, with its reason. Asked for one format,
// or when no format can be written, it fails as Render does.
func RenderAvailable(acct Account, formats []Format, opts Options) (files []File, omitted []Omitted, err error) {
	if len(formats) <= 1 && !slices.Contains(formats, Thunderbird) {
		files, err = Render(acct, formats, opts)
		return files, nil, err
	}
	for _, f := range formats {
		fs, err := Render(acct, []Format{f}, opts)
		if errors.Is(err, ErrUnsupported) && f == Thunderbird {
			// The isp/ file holds placeholders, not the address, so it
			// serves Thunderbird where user.js cannot (an address beyond
			// Latin-1): only user.js is left out.
			var isp []File
			if isp, err = renderThunderbirdISP(acct, opts); err == nil {
				files = append(files, isp...)
				omitted = append(omitted, Omitted{Format: f, Path: "thunderbird/user.js", Err: errUserJS(acct)})
				continue
			}
		}
		if errors.Is(err, ErrUnsupported) {
			omitted = append(omitted, Omitted{Format: f, Err: err})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		files = append(files, fs...)
	}
	if len(files) == 0 && len(omitted) > 0 {
		return nil, nil, omitted[0].Err
	}
	return files, omitted, nil
}

func renderThunderbirdISP(acct Account, opts Options) ([]File, error) {
	acct.unproven = opts.Unproven
	var b bytes.Buffer
	if err := ThunderbirdISP(&b, acct); err != nil {
		return nil, err
	}
	return []File{{Format: Thunderbird, Path: thunderbirdISPPath(acct), About: thunderbirdISPAbout, Data: b.Bytes()}}, nil
}

func errUserJS(acct Account) error {
	return ThunderbirdUserJS(io.Discard, acct)
}

// Write renders formats for acct and writes them under dir (see WriteFiles).
func Write(dir string, acct Account, formats []Format, opts Options, force bool) ([]File, error) {
	files, err := Render(acct, formats, opts)
	if err != nil {
		return nil, err
	}
	if err := WriteFiles(dir, files, force); err != nil {
		return nil, err
	}
	return files, nil
}

// WriteFiles puts files under dir, all or none: they are first written into
// a temporary directory beside them, then renamed into place one by one; if
// any step fails, the files already moved are taken back and any file they
// replaced is restored. An existing file is an ErrExists error unless force.
// Files marked Secret are 0600, the others 0644.
func WriteFiles(dir string, files []File, force bool) (err error) {
	for _, f := range files {
		if !cleanRel(f.Path) {
			return fmt.Errorf("profiles: file path %q must be relative and clean", f.Path)
		}
	}
	if !force {
		for _, f := range files {
			target := filepath.Join(dir, filepath.FromSlash(f.Path))
			if _, err := os.Lstat(target); err == nil {
				return fmt.Errorf("%w: %q: pass --force to overwrite it, or choose another --out directory", ErrExists, target)
			}
		}
	}
	// Every step below registers how to undo it; on failure they run in
	// reverse, so the directory is left as it was found.
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	made, err := mkdirAllTracked(dir)
	undo = append(undo, func() {
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // only succeeds while empty: never removes the user's files
		}
	})
	if err != nil {
		return fmt.Errorf("profiles: cannot create the output directory: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".mailsetup-tmp-")
	if err != nil {
		return fmt.Errorf("profiles: cannot write into %q: %w", dir, err)
	}
	// On failure the temporary directory goes after the replaced files
	// have come back out of it, and before the new directories are removed.
	undo = append(undo, func() { os.RemoveAll(tmp) })

	for i, f := range files {
		if err := writeFileSynced(filepath.Join(tmp, fmt.Sprint(i)), f.Data, f.mode()); err != nil {
			return fmt.Errorf("profiles: %w", err)
		}
	}

	for i, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		newDirs, err := mkdirAllTracked(filepath.Dir(target))
		made = append(made, newDirs...)
		if err != nil {
			return fmt.Errorf("profiles: %w", err)
		}
		backup := ""
		if _, err := os.Lstat(target); err == nil {
			if !force {
				return fmt.Errorf("%w: %q appeared while writing: pass --force to overwrite it", ErrExists, target)
			}
			backup = filepath.Join(tmp, fmt.Sprintf("old-%d", i))
			if err := os.Rename(target, backup); err != nil {
				return fmt.Errorf("profiles: cannot replace %q: %w", target, err)
			}
		}
		if err := os.Rename(filepath.Join(tmp, fmt.Sprint(i)), target); err != nil {
			if backup != "" {
				os.Rename(backup, target)
			}
			return fmt.Errorf("profiles: cannot write %q: %w", target, err)
		}
		undo = append(undo, func() {
			os.Remove(target)
			if backup != "" {
				os.Rename(backup, target)
			}
		})
	}
	return os.RemoveAll(tmp)
}

func (f File) mode() fs.FileMode {
	if f.Secret {
		return 0o600
	}
	return 0o644
}

// writeFileSynced creates name with perm (never wider, whatever the umask
// leaves) and flushes it to disk before it is renamed into place.
func writeFileSynced(name string, data []byte, perm fs.FileMode) error {
	fh, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Chmod(perm)
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirAllTracked is os.MkdirAll that returns the directories it created,
// outermost first, so that they can be removed again.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !os.IsExist(err) {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}

// cleanRel reports whether p is a clean relative slash path (no "..").
func cleanRel(p string) bool {
	return p != "" && path.Clean(p) == p && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
}
