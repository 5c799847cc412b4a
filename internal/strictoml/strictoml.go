// Package strictoml decodes TOML strictly, for Grove's config files
// (grove.toml in boot bundles, grovectl's groups file): a key the schema
// lacks is an error, and every error names the file, and the line or the
// key, the way a compiler would.
package strictoml

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Decode decodes data (called name in errors) into v. Syntax and type errors
// read "name:LINE: key: message"; keys v lacks read "name: unknown key K",
// one error each (errors.Join), with a key inside an array of tables
// spelled table[i].rest, and no key inside an unknown table reported twice.
func Decode(name string, data []byte, v any) error {
	md, err := toml.Decode(string(data), v)
	if err != nil {
		return decodeError(name, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return unknownKeys(name, data, keys)
	}
	return nil
}

// decodeError puts the line first, and the key where toml knows it.
func decodeError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		if pe.LastKey != "" {
			return fmt.Errorf("%s:%d: %s: %s", name, pe.Position.Line, pe.LastKey, pe.Message)
		}
		return fmt.Errorf("%s:%d: %s", name, pe.Position.Line, pe.Message)
	}
	// Type mismatches come as `toml: line N (last key "k"): msg`.
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	var line int
	var key string
	if n, _ := fmt.Sscanf(msg, "line %d (last key %q): ", &line, &key); n == 2 {
		_, rest, _ := strings.Cut(msg, "): ")
		return fmt.Errorf("%s:%d: %s: %s", name, line, key, rest)
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// unknownKeys names keys the schema lacks. toml's keys do not say which
// element of an array of tables they came from, so the file is decoded
// again, untyped, to find the index.
func unknownKeys(name string, data []byte, keys []toml.Key) error {
	var generic map[string]any
	toml.Decode(string(data), &generic) // it decoded once already
	var errs []error
	var seen []string
	for _, k := range keys {
		for _, s := range keyNames(k, generic) {
			if slices.ContainsFunc(seen, func(p string) bool { return s == p || strings.HasPrefix(s, p+".") }) {
				continue // reported already, or inside an unknown table that was
			}
			seen = append(seen, s)
			errs = append(errs, fmt.Errorf("%s: unknown key %s", name, s))
		}
	}
	return errors.Join(errs...)
}

// keyNames spells k as table[i].rest for each element of an array of tables
// that has it, or as k itself if it is in none.
func keyNames(k toml.Key, generic map[string]any) []string {
	tables, ok := generic[k[0]].([]map[string]any)
	if len(k) < 2 || !ok {
		return []string{k.String()}
	}
	var names []string
	rest := k[1:].String()
	for i, t := range tables {
		if _, ok := t[k[1]]; ok {
			names = append(names, fmt.Sprintf("%s[%d].%s", k[0], i, rest))
		}
	}
	if len(names) == 0 { // never leave a key unreported
		return []string{k.String()}
	}
	return names
}
