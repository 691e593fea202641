package profiles

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// listTree returns every path under dir, relative, sorted.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestWriteAllFormats(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	acct := testCases[0].account(t)
	files, err := Write(dir, acct, AllFormats, Options{Apple: AppleOptions{Password: "pw"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o644)
		if f.Format == Apple {
			want = 0o600
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", f.Path, fi.Mode().Perm(), want)
		}
		if got := readFile(t, filepath.Join(dir, filepath.FromSlash(f.Path))); string(got) != string(f.Data) {
			t.Errorf("%s: content differs from what was rendered", f.Path)
		}
	}
	for _, p := range listTree(t, dir) {
		if strings.Contains(p, ".mailsetup-tmp") {
			t.Errorf("temporary %s left behind", p)
		}
	}

	// A second run without force changes nothing and names the file.
	before := readFile(t, filepath.Join(dir, "thunderbird", "user.js"))
	other := acct
	other.DisplayName = "Changed"
	_, err = Write(dir, other, AllFormats, Options{}, false)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second run: got %v, want ErrExists naming --force", err)
	}
	if got := readFile(t, filepath.Join(dir, "thunderbird", "user.js")); string(got) != string(before) {
		t.Error("a refused run changed a file")
	}
	// With force it replaces them, and the profile is no longer secret.
	if _, err := Write(dir, other, AllFormats, Options{}, true); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "thunderbird", "user.js")); !strings.Contains(string(got), `"Changed"`) {
		t.Error("--force did not replace user.js")
	}
}

// A failure half-way leaves the directory as it was: files already moved
// are taken back, replaced ones restored, created directories removed.
func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("old"), 0o644)
	// "blocked" is a file, so "blocked/x" cannot be created.
	os.WriteFile(filepath.Join(dir, "blocked"), []byte("in the way"), 0o644)
	files := []File{
		{Path: "keep.txt", Data: []byte("new")},
		{Path: "sub/a.txt", Data: []byte("a")},
		{Path: "blocked/x", Data: []byte("x")},
	}
	err := WriteFiles(dir, files, true)
	if err == nil {
		t.Fatal("writing under a file succeeded")
	}
	if got := listTree(t, dir); strings.Join(got, " ") != "blocked keep.txt" {
		t.Errorf("after a failed run the directory holds %v", got)
	}
	if got := readFile(t, filepath.Join(dir, "keep.txt")); string(got) != "old" {
		t.Errorf("keep.txt = %q, want the old content back", got)
	}
}

func TestWriteFilesRejectsEscapingPaths(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"../x", "/etc/x", "a/../../x", ""} {
		if err := WriteFiles(dir, []File{{Path: p}}, true); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}

// A failed first run into a directory that did not exist leaves no
// directory behind either.
func TestWriteFilesRemovesTheDirectoryItMade(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "new", "out")
	// The second file's parent is the first file: it cannot be placed, so
	// the run fails after the first file and the directories exist.
	files := []File{{Path: "a.txt", Data: []byte("a")}, {Path: "a.txt/x", Data: []byte("x")}}
	if err := WriteFiles(dir, files, false); err == nil {
		t.Fatal("writing below a file succeeded")
	}
	if got := listTree(t, base); len(got) != 0 {
		t.Errorf("a failed run left %v behind", got)
	}
}

// A run of several formats leaves out the one that cannot express the
// account (a non-ASCII local part has no Android QR code) and writes the
// others; asked for that format alone, it fails.
func TestRenderAvailableLeavesOutUnsupportedFormats(t *testing.T) {
	addr, err := autoconfig.ParseAddress("jürgen@example.test")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := NewAccount(loadProvider(t, "imap-pop3.xml"), addr, "Jürgen", "")
	if err != nil {
		t.Fatal(err)
	}
	files, omitted, err := RenderAvailable(acct, AllFormats, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(omitted) != 1 || omitted[0].Format != Android || !errors.Is(omitted[0].Err, ErrUnsupported) {
		t.Errorf("omitted = %v, want android", omitted)
	}
	for _, f := range files {
		if f.Format == Android {
			t.Errorf("wrote %s", f.Path)
		}
	}
	if len(files) == 0 {
		t.Error("nothing was rendered")
	}
	if _, _, err := RenderAvailable(acct, []Format{Android}, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("android alone: %v, want ErrUnsupported", err)
	}
}
