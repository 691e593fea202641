package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/internal/account"
)

// addServicesFlag adds --services, the same in every command that writes
// files (profile, wizard, batch, demo).
func addServicesFlag(cmd *cobra.Command, services *string) {
	cmd.Flags().StringVar(services, "services", "", "what the files set up: a `LIST` of mail, calendar, contacts, or all (mail always; default: everything the provider offers)")
}

// parseServices is the one reader of --services: "" sets up everything the
// provider offers (nil), anything else exactly what it names.
func parseServices(s string) ([]account.Service, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	services, err := account.ParseServices(s)
	if err != nil {
		return nil, usageError("--services %q: choose from mail, calendar, contacts (or all), with mail always among them, such as --services mail,contacts", s)
	}
	return services, nil
}

// serviceNotFoundWords says that a service asked for is not there.
func serviceNotFoundWords(s account.Service) string {
	return fmt.Sprintf("--services asked for %s, but the provider's settings name no %s server: the files set up the rest", s, s)
}

// mailOnly reports whether --services (already checked by parseServices)
// leaves calendars and contacts out, so the probe does not look for them.
func mailOnly(s string) bool {
	services, err := parseServices(s)
	return err == nil && account.MailOnly(services)
}
