// compose-config loads Compose files the way `docker compose config` does (with
// compose-spec/compose-go, the loader Docker Compose itself uses) and prints the resolved
// project as JSON. The deploy tests use it to check interpolation guards, profiles and the
// schema without a Docker engine.
//
//	compose-config [-profile name]... -f file [-f file]...
//
// The environment is the process's own. Exit status 1 with the loader's message on stderr
// when the files do not load.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var files, profiles list
	flag.Var(&files, "f", "compose file (repeatable)")
	flag.Var(&profiles, "profile", "profile to enable (repeatable)")
	flag.Parse()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-config [-profile name]... -f file [-f file]...")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(files, cli.WithOsEnv, cli.WithProfiles(profiles), cli.WithResolvedPaths(false))
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err.Error())
	os.Exit(1)
}
