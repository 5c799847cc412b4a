package bundle

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// newc header (cpio(5), "New ASCII Format"): the magic, then 13 fields of
// 8 hex digits; c_filesize is field 6 and c_namesize field 11.
const (
	newcMagic     = "070701"
	newcHeaderLen = 6 + 13*8
	fileSizeField = 6 + 6*8
	nameSizeField = 6 + 11*8
)

// readArchive returns the regular files of a newc archive by path, each a
// slice of data (not a copy). Directories are skipped; anything else
// (links, devices) has no place in a bundle and is refused.
func readArchive(data []byte) (map[string][]byte, error) {
	files := map[string][]byte{}
	rr := cpio.Newc.Reader(bytes.NewReader(data))
	for pos := 0; ; {
		if err := checkRecord(data, pos); err != nil {
			return nil, err
		}
		rec, err := rr.ReadRecord()
		if err == io.EOF {
			// checkRecord saw a whole header and name, so this is
			// the TRAILER!!! record, not the data running out.
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cpio record at byte %d: %w", pos, err)
		}
		end := uint64(rec.FilePos) + rec.FileSize
		if end > uint64(len(data)) {
			return nil, fmt.Errorf("archive truncated in %s: its %d bytes end past the archive's %d", rec.Name, rec.FileSize, len(data))
		}
		if err := addRecord(files, rec, data[rec.FilePos:end]); err != nil {
			return nil, err
		}
		pos = int((end + 3) &^ 3)
	}
}

// checkRecord makes sure a whole header and name lie at pos before the
// cpio reader looks: it trusts c_namesize for an allocation, and reports a
// short read as the archive's normal end.
func checkRecord(data []byte, pos int) error {
	if pos > len(data) || len(data)-pos < len(newcMagic) {
		return fmt.Errorf("archive truncated at byte %d: no TRAILER!!! record", pos)
	}
	if m := string(data[pos : pos+len(newcMagic)]); m != newcMagic {
		if pos == 0 && strings.HasPrefix(m, "\x1f\x8b") {
			return fmt.Errorf("gzip-compressed; a bundle is an uncompressed newc cpio archive")
		}
		return fmt.Errorf("not a newc cpio archive: magic %q at byte %d, want %q", m, pos, newcMagic)
	}
	if len(data)-pos < newcHeaderLen {
		return fmt.Errorf("archive truncated at byte %d: header cut short", pos)
	}
	h := data[pos : pos+newcHeaderLen]
	n, err := strconv.ParseUint(string(h[nameSizeField:nameSizeField+8]), 16, 32)
	if err != nil {
		return fmt.Errorf("cpio record at byte %d: bad name size %q", pos, h[nameSizeField:nameSizeField+8])
	}
	if n > uint64(len(data)-pos-newcHeaderLen) {
		return fmt.Errorf("archive truncated at byte %d: record name runs past the end", pos)
	}
	return nil
}

func addRecord(files map[string][]byte, rec cpio.Record, content []byte) error {
	switch rec.Mode & cpio.S_IFMT {
	case cpio.S_IFDIR:
		return nil
	case cpio.S_IFREG:
	default:
		return fmt.Errorf("%s: not a regular file or directory (mode %#o)", rec.Name, rec.Mode)
	}
	if _, dup := files[rec.Name]; dup {
		return fmt.Errorf("%s: in the archive twice", rec.Name)
	}
	files[rec.Name] = content
	return nil
}

// Write builds a bundle: grove.toml from cfg, then files (path in the
// bundle -> contents) in path order, so equal inputs give equal bytes.
// It checks paths only; Parse checks everything else.
func Write(cfg []byte, files map[string][]byte) ([]byte, error) {
	recs := []cpio.Record{regular(ConfigName, cfg, 1)}
	for i, name := range slices.Sorted(maps.Keys(files)) {
		if err := checkPath(name); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		if name == ConfigName {
			return nil, fmt.Errorf("bundle: %s is the config; pass it as cfg, not among the files", ConfigName)
		}
		recs = append(recs, regular(name, files[name], uint64(i+2)))
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// regular is a file record with fixed metadata (no mtime, owner root) so
// bundles are reproducible; distinct inode numbers keep extractors from
// taking the files for hard links of each other.
func regular(name string, b []byte, ino uint64) cpio.Record {
	return cpio.StaticRecord(b, cpio.Info{Name: name, Mode: cpio.S_IFREG | 0o644, NLink: 1, Ino: ino})
}

// checkPath accepts the paths a config can name: clean, relative, inside
// the bundle.
func checkPath(name string) error {
	switch {
	case name == "" || name == ".":
		return fmt.Errorf("empty path")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("%q: absolute path; paths are relative to the bundle's root", name)
	case path.Clean(name) != name:
		return fmt.Errorf("%q: not a clean path (want %q)", name, path.Clean(name))
	case name == ".." || strings.HasPrefix(name, "../"):
		return fmt.Errorf("%q: outside the bundle", name)
	}
	return nil
}
