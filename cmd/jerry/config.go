package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jerry-es/jerry/tracker/app"
)

// configFile is the per-project configuration inside a .jerry directory:
// it names the store every agent in the checkout uses (jerry init --store
// writes it) and, optionally, the default lease of claims. Lines are
// "key = value"; blank lines and lines starting with # are ignored.
//
//	store = postgres://jerry@db.internal/work?sslmode=disable
//	lease = 30m
const configFile = "config"

// config is what a .jerry/config says.
type config struct {
	path  string // the file, for messages
	store string
	lease time.Duration
}

// readConfig reads dir's config file; a missing file is an empty config,
// a malformed one an error naming the file and line.
func readConfig(dir string) (config, error) {
	path := filepath.Join(dir, configFile)
	cfg := config{path: path}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case !ok || value == "":
			return cfg, app.Usagef("%s:%d: want \"key = value\", got %q", path, n, line)
		case key == "store":
			cfg.store = value
		case key == "lease":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return cfg, app.Usagef("%s:%d: lease %q: want a duration such as 30m or 2h", path, n, value)
			}
			cfg.lease = d
		default:
			return cfg, app.Usagef("%s:%d: unknown key %q (want store or lease)", path, n, key)
		}
	}
	return cfg, sc.Err()
}

// writeConfig makes dir (a .jerry directory) and writes a config naming
// store in it.
func writeConfig(dir, store string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	body := fmt.Sprintf("# Written by jerry init: every jerry run in this checkout uses this store.\nstore = %s\n", store)
	tmp := filepath.Join(dir, configFile+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, configFile))
}

// where says where the store and the actor come from, for whoami and for
// errors that depend on the store.
type where struct {
	store, storeFrom string
	config           config
}

// locate finds the store URL: --store, else $JERRY_STORE, else the nearest
// .jerry directory from here upward (the store its config names, or the
// file store in it), else file:.jerry here.
func locate(flag string) (where, error) {
	if flag != "" {
		return where{store: flag, storeFrom: "--store"}, nil
	}
	if env := os.Getenv("JERRY_STORE"); env != "" {
		return where{store: env, storeFrom: "$JERRY_STORE"}, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return where{}, err
	}
	for d := dir; ; d = filepath.Dir(d) {
		jd := filepath.Join(d, storeDir)
		if fi, err := os.Stat(jd); err == nil && fi.IsDir() {
			cfg, err := readConfig(jd)
			if err != nil {
				return where{}, err
			}
			if cfg.store != "" {
				return where{store: cfg.store, storeFrom: cfg.path, config: cfg}, nil
			}
			return where{store: "file:" + jd, storeFrom: "the nearest .jerry directory", config: cfg}, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return where{store: "file:" + storeDir, storeFrom: "default (./.jerry, not created yet)"}, nil
}
