package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/config"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// usersCommand creates a user from the command line, the way to make the first
// instance administrator without the bootstrap token. The password is read from
// ADMIN_USER_PASSWORD or the first line of standard input, never from the arguments
// (which other users of the machine can see).
func usersCommand(ctx context.Context, cfg config.Config, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email address")
	name := fs.String("name", "", "the user's name")
	admin := fs.Bool("instance-admin", false, "make the user an instance administrator")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	password := getenv("ADMIN_USER_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("the password comes from ADMIN_USER_PASSWORD or standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	o := domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "cli", Name: "admin users create"}}
	u, err := a.Service.CreateUser(ctx, o, service.UserInput{Email: *email, Name: *name, Password: password, InstanceAdmin: *admin})
	if err != nil {
		if fields := domain.ErrorFields(err); len(fields) > 0 {
			for _, f := range fields {
				fmt.Fprintf(stdout, "%s: %s\n", f.Field, f.Message)
			}
		}
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s)\n", u.Email, u.ID)
	return nil
}
