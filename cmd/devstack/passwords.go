package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// .dev/web-passwords holds the demo's sign-ins as shell variables, one a line, so that a script
// reads them without cutting them out of a sentence:
//
//	. .dev/web-passwords
//	curl -H "Authorization: Bearer $WEB_COORDINATOR_TOKEN" …
//
// WEB_<USER>_PASSWORD and WEB_<USER>_TOKEN for the users of the web users file, and
// WEB_<ACCOUNT>_ONE_TIME_PASSWORD for a database account (it signs in once, to choose a
// password). <USER> is the name upper-cased, with '-' and '.' as '_'.

var (
	// starter serve user: "user NAME (ROLE) written to FILE; password: P  API token: T"
	serveUserLine = regexp.MustCompile(`^user (\S+) \((\S+)\) written to .*; password: (\S+)\s+API token: (\S+)\s*$`)
	// starter users add: "added account NAME: …" then "one-time password: P"
	addedLine   = regexp.MustCompile(`^added account ([^:\s]+):`)
	oneTimeLine = regexp.MustCompile(`^one-time password: (\S+)\s*$`)
	varLine     = regexp.MustCompile(`^(WEB_[A-Z0-9_]+)='([^']*)'\s*$`)
)

// passwordVars reads what starter serve user and starter users add print, or a passwords file
// written before (in either form), into variables.
func passwordVars(text []byte) map[string]string {
	vars := map[string]string{}
	account := ""
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if m := varLine.FindStringSubmatch(line); m != nil {
			vars[m[1]] = m[2]
		} else if m := serveUserLine.FindStringSubmatch(line); m != nil {
			vars[varName(m[1], "PASSWORD")] = m[3]
			vars[varName(m[1], "TOKEN")] = m[4]
		} else if m := addedLine.FindStringSubmatch(line); m != nil {
			account = m[1]
		} else if m := oneTimeLine.FindStringSubmatch(line); m != nil && account != "" {
			vars[varName(account, "ONE_TIME_PASSWORD")] = m[1]
		}
	}
	return vars
}

func varName(user, what string) string {
	return "WEB_" + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(user)) + "_" + what
}

// addPasswords writes vars into .dev/web-passwords with those it holds already (in the old
// sentence form too), readable by the owner alone.
func addPasswords(vars map[string]string) error {
	all := map[string]string{}
	if b, err := os.ReadFile(webPasswords); err == nil {
		all = passwordVars(b)
	}
	for k, v := range vars {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# The demo web page's sign-ins (make demo). Load them with: . " + webPasswords + "\n")
	b.WriteString("# WEB_<USER>_PASSWORD, WEB_<USER>_TOKEN (API bearer token), WEB_<ACCOUNT>_ONE_TIME_PASSWORD\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s='%s'\n", k, all[k])
	}
	tmp := webPasswords + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, webPasswords)
}
